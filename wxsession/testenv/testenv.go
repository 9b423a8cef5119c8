// Package testenv starts real servers for tests: a redis-server, or a
// three-node Redis Cluster, on free loopback ports, so Redis-backed stores
// are tested against the real thing, never a mock. It also holds the
// paired benchmark harness (Paired) and a log sink tests can read while
// servers write it (Buffer).
//
// It is a test helper of the wxsession modules, exported so that programs
// using the library (and the yibi app) can start the same servers in their
// own tests. It depends on the standard library alone.
//
// A missing server binary skips the test with a message saying how to get
// it, unless YIBI_REQUIRE_SERVICES=1, where it fails the test instead.
package testenv

import (
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// RequireServices reports whether a missing server must fail the test
// rather than skip it (YIBI_REQUIRE_SERVICES=1).
func RequireServices() bool { return os.Getenv("YIBI_REQUIRE_SERVICES") == "1" }

// Unavailable skips t, or fails it when RequireServices, for a server that
// cannot be started.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if RequireServices() {
		t.Fatalf("%s (YIBI_REQUIRE_SERVICES=1)", msg)
	}
	t.Skip(msg)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it; servers started
// here are few and short-lived, so that race is rare enough.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitPort waits until addr accepts TCP connections, or timeout passes.
func WaitPort(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: %s not accepting connections after %v: %w", addr, timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
