package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Ferret is a running FerretDB (MongoDB wire protocol, SQLite backend) with
// its data in a test's temporary directory.
type Ferret struct {
	// URI is the mongodb:// URI of the server; it stays the same across
	// Stop and Start.
	URI string

	t    testing.TB
	bin  string
	addr string
	dir  string
	log  string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartFerretDB starts FerretDB on a free port and stops it when the test
// ends. The binary is $YIBI_FERRETDB_BIN, or else <repo>/.cache/bin/ferretdb,
// built from tools/ferretdb on first use.
func StartFerretDB(t testing.TB) *Ferret {
	t.Helper()
	bin, err := ferretBinary()
	if err != nil {
		Unavailable(t, "testenv: no FerretDB: %v (set YIBI_FERRETDB_BIN or let `go build` in tools/ferretdb succeed)", err)
	}
	root := t.TempDir()
	f := &Ferret{
		t:    t,
		bin:  bin,
		addr: "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		dir:  filepath.Join(root, "data"),
		log:  filepath.Join(root, "ferretdb.log"),
	}
	f.URI = "mongodb://" + f.addr + "/"
	// Registered after TempDir, so it runs before the directory is removed.
	t.Cleanup(f.Stop)
	f.Start()
	return f
}

// Start starts the server again after Stop, on the same port with the same
// data. It fails the test if the server does not come up.
func (f *Ferret) Start() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd != nil {
		return
	}
	logf, err := os.OpenFile(f.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.t.Fatalf("testenv: ferretdb log: %v", err)
	}
	defer logf.Close()
	cmd := exec.Command(f.bin, "-listen", f.addr, "-dir", f.dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("testenv: start ferretdb: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	f.cmd = cmd
	if err := f.waitReady(exited); err != nil {
		f.stopLocked()
		out, _ := os.ReadFile(f.log)
		f.t.Fatalf("testenv: ferretdb did not start: %v\n%s", err, out)
	}
}

// waitReady waits for the port, then for a ping through the driver: the
// listener opens before the backend is usable.
func (f *Ferret) waitReady(exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		select {
		case <-exited:
			return errors.New("process exited")
		default:
		}
		if err := WaitPort(f.addr, 100*time.Millisecond); err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	c, err := mongo.Connect(options.Client().ApplyURI(f.URI).SetServerSelectionTimeout(time.Second))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.Background())
	for {
		err := c.Ping(ctx, nil)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("ping: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns what the server wrote to stdout and stderr so far, for a
// failing test to show.
func (f *Ferret) Log() string {
	b, _ := os.ReadFile(f.log)
	return string(b)
}

// Pause freezes the server (SIGSTOP): connections stay open and commands
// sent to it wait unread until Resume, as with a server that hangs.
func (f *Ferret) Pause() { f.signal(syscall.SIGSTOP) }

// Resume lets a paused server go on (SIGCONT).
func (f *Ferret) Resume() { f.signal(syscall.SIGCONT) }

func (f *Ferret) signal(sig syscall.Signal) {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil {
		f.t.Fatalf("testenv: ferretdb is not running")
	}
	if err := f.cmd.Process.Signal(sig); err != nil {
		f.t.Fatalf("testenv: ferretdb: %v: %v", sig, err)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and keeps its
// data for Start. Stopping a stopped server does nothing.
func (f *Ferret) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopLocked()
}

func (f *Ferret) stopLocked() {
	if f.cmd == nil {
		return
	}
	cmd := f.cmd
	f.cmd = nil
	cmd.Process.Signal(syscall.SIGCONT) // a paused server cannot act on SIGTERM
	cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		// Signal 0 fails once the process is gone (reaped by Wait).
		if cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
}

var (
	ferretOnce sync.Once
	ferretBin  string
	ferretErr  error
)

// ferretBinary finds or builds the FerretDB binary once per test process.
// Test binaries of several packages may build at the same time, so the
// build holds a file lock.
func ferretBinary() (string, error) {
	ferretOnce.Do(func() {
		if bin := os.Getenv("YIBI_FERRETDB_BIN"); bin != "" {
			if _, err := os.Stat(bin); err != nil {
				ferretErr = fmt.Errorf("YIBI_FERRETDB_BIN: %w", err)
				return
			}
			ferretBin = bin
			return
		}
		root := RepoRoot()
		binDir := filepath.Join(root, ".cache", "bin")
		bin := filepath.Join(binDir, "ferretdb")
		if err := os.MkdirAll(binDir, 0o755); err != nil {
			ferretErr = err
			return
		}
		lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			ferretErr = err
			return
		}
		defer lock.Close()
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			ferretErr = err
			return
		}
		defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
		// An existing binary is used as is: FerretDB is pinned in
		// tools/ferretdb/go.mod, so it only goes stale when that changes
		// (delete .cache/bin/ferretdb then).
		if _, err := os.Stat(bin); err == nil {
			ferretBin = bin
			return
		}
		if _, err := exec.LookPath("go"); err != nil {
			ferretErr = fmt.Errorf("go not in PATH to build tools/ferretdb: %w", err)
			return
		}
		cmd := exec.Command("go", "build", "-o", bin+".tmp", ".")
		cmd.Dir = filepath.Join(root, "tools", "ferretdb")
		// tools/ferretdb is a module of its own, outside go.work.
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			ferretErr = fmt.Errorf("build tools/ferretdb: %w\n%s", err, out)
			return
		}
		if err := os.Rename(bin+".tmp", bin); err != nil {
			ferretErr = err
			return
		}
		ferretBin = bin
	})
	return ferretBin, ferretErr
}
