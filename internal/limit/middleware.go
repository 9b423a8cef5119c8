package limit

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/yibi/yibi/wxsession"
)

// ReasonRateLimited is the envelope reason of a refused login. 2016 clients
// do not know it and fail the call instead of retrying, which is what a
// rate limit wants.
const ReasonRateLimited = "ERR_RATE_LIMITED"

// The login limits' defaults, named once: yibi's configuration starts from
// them (config.Default), and nothing else fills them in.
const (
	// DefaultPerIP is the interval between logins from one client IP once
	// its burst is spent (1/s).
	DefaultPerIP = time.Second
	// DefaultPerIPBurst is how many logins one IP may make at once.
	DefaultPerIPBurst = 20
	// DefaultPerApp is the interval between logins of the whole app once
	// its burst is spent (100/s; WeChat rate-limits jscode2session too).
	DefaultPerApp = 10 * time.Millisecond
	// DefaultPerAppBurst is the app-wide burst.
	DefaultPerAppBurst = 200
)

// Config configures Logins. Zero values are not filled in: a zero burst
// turns that limit off, the one meaning 0 has here.
type Config struct {
	// PerIP is the interval between logins from one client IP once its
	// burst is spent, e.g. DefaultPerIP; it must be positive when
	// PerIPBurst is.
	PerIP time.Duration
	// PerIPBurst is how many logins one IP may make at once, e.g.
	// DefaultPerIPBurst; 0 = no per-IP limit.
	PerIPBurst int
	// PerApp is the interval between logins for the whole app, e.g.
	// DefaultPerApp; it must be positive when PerAppBurst is.
	PerApp time.Duration
	// PerAppBurst is the app-wide burst, e.g. DefaultPerAppBurst; 0 = no
	// app-wide limit.
	PerAppBurst int
	// MaxKeys caps the number of client IPs tracked; 0 means 10000 (see
	// NewLimiter).
	MaxKeys int
	// TrustedProxies are the addresses whose X-Forwarded-For / X-Real-IP
	// headers are believed (nginx on loopback). Empty: headers are ignored
	// and the client IP is the connection's remote address.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IsLogin tells the requests that count as logins; nil means those
	// carrying X-WX-RawData (a v1 login). Others pass untouched.
	IsLogin func(*http.Request) bool
	// OnReject, if set, is called for every refused login with "ip" or
	// "app" (for a metrics counter).
	OnReject func(scope string)
}

// Logins returns middleware that limits login requests (those carrying
// X-WX-RawData) per client IP and per app. Other requests pass untouched.
// A refused login gets HTTP 429, a Retry-After header and the session
// error envelope with reason ReasonRateLimited. A limit whose burst is
// positive and interval is not panics: that is a programming error.
func Logins(cfg Config) func(http.Handler) http.Handler {
	var ipLim, appLim *Limiter
	if (cfg.PerIPBurst > 0 && cfg.PerIP <= 0) || (cfg.PerAppBurst > 0 && cfg.PerApp <= 0) {
		panic("limit: a login limit with a burst needs a positive interval")
	}
	if cfg.PerIPBurst > 0 {
		ipLim = NewLimiter(cfg.PerIP, cfg.PerIPBurst, cfg.MaxKeys, cfg.Now)
	}
	if cfg.PerAppBurst > 0 {
		appLim = NewLimiter(cfg.PerApp, cfg.PerAppBurst, 1, cfg.Now)
	}
	isLogin := cfg.IsLogin
	if isLogin == nil {
		isLogin = func(r *http.Request) bool { return r.Header.Get("X-WX-RawData") != "" }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !isLogin(r) {
				next.ServeHTTP(w, r)
				return
			}
			// Per IP first, so one noisy client does not spend the app's budget.
			if ipLim != nil {
				if ok, wait := ipLim.Allow(ClientIP(r, cfg.TrustedProxies)); !ok {
					reject(w, cfg.OnReject, "ip", wait)
					return
				}
			}
			if appLim != nil {
				if ok, wait := appLim.Allow("app"); !ok {
					reject(w, cfg.OnReject, "app", wait)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func reject(w http.ResponseWriter, hook func(string), scope string, wait time.Duration) {
	if hook != nil {
		hook(scope)
	}
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	// A refused login is the session layer's answer: its envelope, from
	// the one writer of it.
	wxsession.WriteError(w, http.StatusTooManyRequests, ReasonRateLimited, "too many logins, retry later")
}

// ClientIP returns the client's IP address for r. The forwarding headers
// are believed only when the connection comes from a trusted proxy; then
// the rightmost X-Forwarded-For address that is not itself a trusted proxy
// wins (the leftmost entries are whatever the client sent), else X-Real-IP.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	remote, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(remote.Unmap(), trusted) {
		return host
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		parts := strings.Split(strings.Join(xff, ","), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				break
			}
			if !isTrusted(a.Unmap(), trusted) {
				return a.Unmap().String()
			}
		}
	}
	if a, err := netip.ParseAddr(strings.TrimSpace(r.Header.Get("X-Real-IP"))); err == nil {
		return a.Unmap().String()
	}
	return host
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
