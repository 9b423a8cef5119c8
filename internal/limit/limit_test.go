package limit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestLimiter(t *testing.T) {
	t.Run("BurstThenRefused", func(t *testing.T) {
		c := &clock{t: time.Unix(1000, 0)}
		l := NewLimiter(time.Second, 3, 0, c.Now)
		for i := range 3 {
			if ok, _ := l.Allow("a"); !ok {
				t.Fatalf("request %d: got refused, want allowed", i)
			}
		}
		ok, wait := l.Allow("a")
		if ok {
			t.Fatalf("4th request: got allowed, want refused")
		}
		if wait != time.Second {
			t.Errorf("retryAfter: got %v, want %v", wait, time.Second)
		}
		if ok, _ := l.Allow("b"); !ok {
			t.Errorf("other key: got refused, want allowed")
		}
		c.Advance(time.Second)
		if ok, _ := l.Allow("a"); !ok {
			t.Errorf("after interval: got refused, want allowed")
		}
		if ok, _ := l.Allow("a"); ok {
			t.Errorf("second after interval: got allowed, want refused")
		}
	})
	t.Run("IdleKeyRefills", func(t *testing.T) {
		c := &clock{t: time.Unix(1000, 0)}
		l := NewLimiter(time.Second, 2, 0, c.Now)
		l.Allow("a")
		l.Allow("a")
		c.Advance(time.Hour)
		for i := range 2 {
			if ok, _ := l.Allow("a"); !ok {
				t.Fatalf("request %d after idle: got refused, want allowed", i)
			}
		}
	})
	t.Run("MemoryBounded", func(t *testing.T) {
		l := NewLimiter(time.Second, 1, 100, nil)
		for i := range 1000 {
			l.Allow(fmt.Sprint(i))
		}
		if got := l.Len(); got != 100 {
			t.Errorf("keys: got %d, want 100", got)
		}
	})
	t.Run("ConcurrentExactlyBurst", func(t *testing.T) {
		c := &clock{t: time.Unix(1000, 0)}
		l := NewLimiter(time.Minute, 10, 0, c.Now)
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if ok, _ := l.Allow("k"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 10 {
			t.Errorf("allowed: got %d, want 10", allowed)
		}
	})
}

func TestClientIP(t *testing.T) {
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		remote  string
		xff     string
		realIP  string
		trusted []netip.Prefix
		want    string
	}{
		{"UntrustedIgnoresHeaders", "203.0.113.9:1234", "1.2.3.4", "1.2.3.4", loop, "203.0.113.9"},
		{"NoTrustedIgnoresHeaders", "127.0.0.1:1234", "1.2.3.4", "", nil, "127.0.0.1"},
		{"TrustedUsesRightmostXFF", "127.0.0.1:1234", "6.6.6.6, 198.51.100.7", "", loop, "198.51.100.7"},
		{"TrustedSkipsProxyHops", "127.0.0.1:1234", "198.51.100.7, 127.0.0.1", "", loop, "198.51.100.7"},
		{"TrustedFallsBackToRealIP", "[::1]:1234", "", "198.51.100.8", loop, "198.51.100.8"},
		{"TrustedNoHeaders", "127.0.0.1:1234", "", "", loop, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			if got := ClientIP(r, tt.trusted); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLogins(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var rejects []string
	var mu sync.Mutex
	h := Logins(Config{
		PerIP: time.Second, PerIPBurst: 2,
		PerApp: time.Second, PerAppBurst: 3,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Now:            c.Now,
		OnReject:       func(s string) { mu.Lock(); rejects = append(rejects, s); mu.Unlock() },
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))

	do := func(ip string, login bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/applet/session/paints/list", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("X-Forwarded-For", ip)
		r.Header.Set("X-WX-Code", "c")
		if login {
			r.Header.Set("X-WX-RawData", "%7B%7D")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	t.Run("NonLoginsPass", func(t *testing.T) {
		for range 10 {
			if got := do("198.51.100.1", false).Code; got != 204 {
				t.Fatalf("status: got %d, want 204", got)
			}
		}
	})
	t.Run("PerIPRefused", func(t *testing.T) {
		do("198.51.100.1", true)
		do("198.51.100.1", true)
		w := do("198.51.100.1", true)
		if w.Code != http.StatusTooManyRequests {
			t.Fatalf("status: got %d, want 429", w.Code)
		}
		if got := w.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After: got %q, want %q", got, "1")
		}
		var env map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("body: %v", err)
		}
		if env[wxsession.EnvelopeKey] != float64(1) || env["reason"] != ReasonRateLimited {
			t.Errorf("envelope: got %v, want magic key and reason %s", env, ReasonRateLimited)
		}
	})
	t.Run("PerAppRefused", func(t *testing.T) {
		// The app burst of 3 has 2 spent; one more IP gets one, the next is refused.
		if got := do("198.51.100.2", true).Code; got != 204 {
			t.Fatalf("status: got %d, want 204", got)
		}
		if got := do("198.51.100.3", true).Code; got != http.StatusTooManyRequests {
			t.Fatalf("status: got %d, want 429", got)
		}
	})
	t.Run("RejectsCounted", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(rejects) != "[ip app]" {
			t.Errorf("rejects: got %v, want [ip app]", rejects)
		}
	})
}

// TestLoginsZeroBurstIsOff: 0 turns a limit off, and nothing else does.
func TestLoginsZeroBurstIsOff(t *testing.T) {
	tests := []struct {
		name              string
		ipBurst, appBurst int
		want429After      int // logins from one IP before the first 429; 0 = never within 50
	}{
		{"BothOff", 0, 0, 0},
		{"IPOnly", 2, 0, 2},
		{"AppOnly", 0, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1000, 0)}
			h := Logins(Config{PerIP: DefaultPerIP, PerIPBurst: tt.ipBurst, PerApp: DefaultPerApp, PerAppBurst: tt.appBurst, Now: c.Now})(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
			got := 0
			for i := range 50 {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("X-WX-RawData", "%7B%7D")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code == http.StatusTooManyRequests {
					got = i
					break
				}
			}
			if got != tt.want429After {
				t.Errorf("got the first 429 after %d logins, want %d (0 = none)", got, tt.want429After)
			}
		})
	}
}
