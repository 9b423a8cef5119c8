package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
	"github.com/yibi/yibi/wxsession/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wxsession.Store {
		s := memstore.New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// clock is a settable clock for WithNow.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func user(i int) wxsession.Session {
	return wxsession.Session{User: wxsession.User{
		OpenID:    fmt.Sprintf("o%027d", i),
		NickName:  "user",
		AvatarURL: "https://wx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTKicng7ZDibsS2mQicBkibzEZ0wNm0ibbqMz0L1kibXqiaHzuoWd0ZTqJoX4icdNDbXUDvIhgE0W2pHu8EYJg/132",
		Gender:    1, Language: "zh_CN", City: "Guangzhou", Province: "Guangdong", Country: "China",
	}, SessionKey: "tiihtNczf5v6AKRyjwEUhQ=="}
}

func TestLoginSweepsExpired(t *testing.T) {
	c := newClock()
	s := memstore.New(memstore.WithNow(c.now))
	ctx := context.Background()
	for i := range 1000 {
		if err := s.Login(ctx, fmt.Sprintf("old%d", i), user(i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c.advance(2 * time.Minute)
	// Fresh logins examine entries as they go; after enough of them, no
	// more than a few percent of the map may be dead weight.
	for i := range 2000 {
		if err := s.Login(ctx, fmt.Sprintf("new%d", i), user(10000+i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	total := s.Cap()
	if total > 2000+200 {
		t.Errorf("entries after 2000 logins over 1000 expired: got %d, want at most 2200", total)
	}
	if n, _ := s.Len(ctx); n != 2000 {
		t.Errorf("Len: got %d, want 2000", n)
	}
}

func TestJanitorSweepsAndCloseStopsIt(t *testing.T) {
	c := newClock()
	before := runtime.NumGoroutine()
	s := memstore.New(memstore.WithNow(c.now), memstore.WithCleanupInterval(5*time.Millisecond))
	ctx := context.Background()
	for i := range 100 {
		s.Login(ctx, fmt.Sprintf("c%d", i), user(i), time.Minute)
	}
	c.advance(2 * time.Minute)
	deadline := time.Now().Add(2 * time.Second)
	for s.Cap() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("entries 2s after expiry with a janitor: got %d, want 0", s.Cap())
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	s.Close() // idempotent
	deadline = time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines after Close: got %d, want %d", runtime.NumGoroutine(), before)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMemory100k checks that 100,000 live sessions of realistic size fit in
// well under 100 MB of heap.
func TestMemory100k(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	const n = 100_000
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	s := memstore.New()
	ctx := context.Background()
	for i := range n {
		if err := s.Login(ctx, fmt.Sprintf("%032x", i), user(i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&m1)
	used := int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	t.Logf("%d sessions: %.1f MB heap, %d bytes each", n, float64(used)/1e6, used/n)
	if used > 70<<20 {
		t.Errorf("heap for %d sessions: got %d MB, want under 70 MB", n, used>>20)
	}
	runtime.KeepAlive(s)
}

func TestTokenConformance(t *testing.T) {
	storetest.RunTokens(t, func(t *testing.T) storetest.Both { return memstore.New() })
}
