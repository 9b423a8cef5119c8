// Package testenv starts real servers (Redis, a MongoDB-wire server) for
// the app's tests, so stores are tested against the real thing, never a
// mock.
//
// Redis, the port helpers, Buffer and Paired live in the session library's
// github.com/yibi/yibi/wxsession/testenv (its own tests need them and must
// not import the app); this package forwards them under the same names and
// adds FerretDB, which only the app's paint store needs.
//
// A missing server binary skips the test with a message saying how to get
// it, unless YIBI_REQUIRE_SERVICES=1 (as `make test` sets), where it fails.
package testenv

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	libenv "github.com/yibi/yibi/wxsession/testenv"
)

// Redis is a redis-server started by StartRedis (see the library's testenv).
type Redis = libenv.Redis

// Buffer is a bytes.Buffer that a server's goroutines may write while the
// test reads it (see the library's testenv).
type Buffer = libenv.Buffer

// PairNames names what Paired reports (see the library's testenv).
type PairNames = libenv.PairNames

// StartRedis starts a redis-server on a free loopback port for t.
func StartRedis(t testing.TB) *Redis { t.Helper(); return libenv.StartRedis(t) }

// Paired runs base and subject side by side and reports their latencies
// and ratios (see the library's testenv).
func Paired(b *testing.B, conc int, base, subject func() error, names PairNames) {
	b.Helper()
	libenv.Paired(b, conc, base, subject, names)
}

// RequireServices reports whether a missing server must fail the test
// rather than skip it (YIBI_REQUIRE_SERVICES=1).
func RequireServices() bool { return libenv.RequireServices() }

// Unavailable skips t, or fails it when RequireServices, for a server that
// cannot be started.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	libenv.Unavailable(t, format, args...)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int { t.Helper(); return libenv.FreePort(t) }

// WaitPort waits until addr accepts TCP connections, or timeout passes.
func WaitPort(addr string, timeout time.Duration) error { return libenv.WaitPort(addr, timeout) }

// RepoRoot returns the root of the yibi checkout, found from this source
// file's location so it works from any package's test directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
