package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestKill9Binary builds cmd/yibi and runs the kill9 phase against it:
// saves and appends acknowledged over HTTP, SIGKILL of the server, a
// restart on the same data, and every acknowledged write present.
// (internal/sqlite's TestKill9 kills a process using the store directly;
// this one kills the server binary, HTTP layer and all.)
func TestKill9Binary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the yibi binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "yibi")
	build := exec.Command("go", "build", "-o", bin, "github.com/yibi/yibi/cmd/yibi")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	e := &env{yibi: bin, dir: dir, client: &http.Client{Timeout: 30 * time.Second}}
	defer e.stop()
	if err := e.startSim(); err != nil {
		t.Fatal(err)
	}
	if err := benchKill9(context.Background(), e, options{}); err != nil {
		for _, c := range e.procs {
			t.Logf("%s exited: %v", c.Path, c.ProcessState)
		}
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k", "yibi.db")); err != nil {
		t.Errorf("got %v, want the SQLite file the server wrote", err)
	}
}
