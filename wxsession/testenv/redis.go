package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Redis is a redis-server started by StartRedis: no persistence, loopback
// only, its working directory in the test's temporary directory. It is
// stopped when the test ends.
type Redis struct {
	// Addr is the server's host:port.
	Addr string

	t    testing.TB
	bin  string
	dir  string
	port int

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// StartRedis starts redis-server (--save "" --appendonly no: no persistence) on a
// free loopback port and waits until it accepts connections. A missing
// redis-server skips the test (fails it when YIBI_REQUIRE_SERVICES=1).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Unavailable(t, "testenv: redis-server not found (apt-get install redis-server)")
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), port: FreePort(t)}
	r.Addr = "127.0.0.1:" + strconv.Itoa(r.port)
	t.Cleanup(r.Stop)
	r.Start()
	return r
}

// URL returns the server's redis:// URL.
func (r *Redis) URL() string { return "redis://" + r.Addr + "/0" }

// Start starts the server again on the same port after Stop (with an empty
// data set: nothing is persisted). It does nothing if it is running.
func (r *Redis) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return
	}
	var lastErr error
	// The port was free a moment ago; after a Stop the kernel may take a
	// moment to let it be bound again.
	for attempt := 0; attempt < 20; attempt++ {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, r.bin,
			"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no",
			"--dir", r.dir, "--daemonize", "no", "--protected-mode", "no",
		)
		var log strings.Builder
		lw := &lockedWriter{b: &log}
		cmd.Stdout, cmd.Stderr = lw, lw
		if err := cmd.Start(); err != nil {
			cancel()
			r.t.Fatalf("testenv: start redis-server: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		if err := r.waitReady(done); err != nil {
			cancel()
			<-done
			lastErr = fmt.Errorf("%w\n%s", err, log.String())
			time.Sleep(100 * time.Millisecond)
			continue
		}
		r.cancel, r.done = cancel, done
		return
	}
	r.t.Fatalf("testenv: redis-server on %s did not start: %v", r.Addr, lastErr)
}

// waitReady waits until the server accepts connections, or exits.
func (r *Redis) waitReady(exited chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("testenv: redis-server exited")
		default:
		}
		if err := WaitPort(r.Addr, 0); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: redis-server not accepting connections on %s", r.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit. Clients then get
// connection errors until Start. It does nothing if it is not running.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.cancel, r.done = nil, nil
}

// lockedWriter lets the server's stdout and stderr share one builder.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
