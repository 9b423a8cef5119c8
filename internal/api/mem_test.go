package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/paint/painttest"
	"github.com/yibi/yibi/internal/sqlite"
)

// listMemLimit is the bound of issue 10 item 3: ten concurrent lists of
// the largest user the limits allow keep the process under it.
const listMemLimit = 256 << 20

// TestListMemory measures the peak RSS of a process serving ten
// concurrent lists of the largest user the default limits allow
// (DefaultMaxUserBytes of 1 MiB drawings) over real HTTP on loopback.
// It runs in a child process (this test binary again), so the peak is
// that of the serving alone: the child fills the store, resets its peak
// (/proc/self/clear_refs), serves and reads VmHWM.
func TestListMemory(t *testing.T) {
	if os.Getenv("YIBI_LISTMEM_CHILD") != "" {
		listMemoryChild(t)
		return
	}
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		t.Skip("needs Linux /proc to read a process's peak RSS")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestListMemory$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "YIBI_LISTMEM_CHILD="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`peak RSS (\d+) bytes`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child printed no peak:\n%s", out)
	}
	peak, _ := strconv.ParseInt(string(m[1]), 10, 64)
	for _, line := range regexp.MustCompile(`(?m)^\s*mem_test.go:\d+: (.*)$`).FindAllSubmatch(out, -1) {
		t.Logf("child: %s", line[1])
	}
	if raceEnabled {
		t.Logf("peak RSS %d MiB under the race detector (not held to the %d MiB bound: -race multiplies memory)", peak>>20, listMemLimit>>20)
		return
	}
	if peak > listMemLimit {
		t.Errorf("got peak RSS %d MiB, want under %d MiB", peak>>20, listMemLimit>>20)
	}
}

func listMemoryChild(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(os.Getenv("YIBI_LISTMEM_CHILD"), "mem.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The largest user: as many 1 MiB drawings as the quota holds.
	lim := paint.Limits{Paints: 1000, UserBytes: DefaultMaxUserBytes, ActionsBytes: paint.DefaultMaxActionsBytes}
	drawing := painttest.Actions(1000, 20, 1)
	for len(drawing) > paint.DefaultMaxActionsBytes {
		drawing = drawing[:strings.LastIndex(drawing[:len(drawing)-1], `,{"method"`)] + "]"
	}
	ctx := context.Background()
	var total int
	for i := 0; ; i++ {
		now := time.Now()
		_, err := st.Save(ctx, paint.Paint{OpenID: "big", ID: fmt.Sprint("p", i), Actions: drawing, CreatedAt: now, UpdatedAt: now}, lim)
		if err != nil {
			if i == 0 || !strings.Contains(err.Error(), paint.ErrQuota.Error()) {
				t.Fatalf("save %d: %v", i, err)
			}
			break
		}
		total += len(drawing)
	}
	srv := httptest.NewServer(handlerOn(st, nil))
	defer srv.Close()

	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset peak RSS: %v", err)
	}
	base := procStatus(t, "VmHWM")
	const lists = 10
	var wg sync.WaitGroup
	sizes := make([]int64, lists)
	start := time.Now()
	for i := range lists {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+"/applet/session/paints/list", nil)
			req.Header.Set("X-Test-User", "big")
			req.Header.Set("Accept-Encoding", "identity") // the larger answer
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			sizes[i], err = io.Copy(io.Discard, res.Body)
			if err != nil || res.StatusCode != 200 {
				t.Errorf("list %d: %d, %v", i, res.StatusCode, err)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	peak := procStatus(t, "VmHWM")
	for i, n := range sizes {
		if n < int64(total) {
			t.Errorf("list %d: got %d bytes, want over the user's %d bytes of actions", i, n, total)
		}
	}
	t.Logf("user: %d paints, %d MiB of actions; %d concurrent lists of %d MiB each in %v", total/len(drawing), total>>20, lists, sizes[0]>>20, took.Round(time.Millisecond))
	t.Logf("RSS before the lists %d MiB; peak RSS %d bytes (%d MiB)", base>>20, peak, peak>>20)
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/self/status", field)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}
