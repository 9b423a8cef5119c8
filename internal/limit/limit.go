// Package limit rate-limits logins: a per-key GCRA limiter with bounded
// memory, and HTTP middleware that applies it per client IP and per app to
// requests that carry X-WX-RawData (a login, which costs a WeChat exchange).
//
// It depends on the standard library alone.
package limit

import (
	"container/list"
	"sync"
	"time"
)

// Limiter is a per-key rate limiter using the generic cell rate algorithm:
// each key may make Burst requests at once and then one every Interval.
// Memory is bounded: at most MaxKeys keys are kept; when full, the least
// recently used key is evicted (an idle key is equivalent to a fresh one
// once its theoretical arrival time has passed, so eviction only ever
// forgives, never punishes).
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	interval time.Duration
	burst    int
	maxKeys  int
	now      func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element
	order *list.List // front = most recently used
}

type entry struct {
	key string
	tat time.Time // theoretical arrival time
}

// NewLimiter returns a limiter allowing burst requests at once per key and
// one more every interval. maxKeys <= 0 means 10000. now nil means time.Now.
func NewLimiter(interval time.Duration, burst, maxKeys int, now func() time.Time) *Limiter {
	if burst < 1 {
		burst = 1
	}
	if maxKeys <= 0 {
		maxKeys = 10000
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		interval: interval,
		burst:    burst,
		maxKeys:  maxKeys,
		now:      now,
		keys:     make(map[string]*list.Element),
		order:    list.New(),
	}
}

// Allow reports whether key may make a request now. When it may not,
// retryAfter says how long until it may.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()

	el, found := l.keys[key]
	var e *entry
	if found {
		e = el.Value.(*entry)
		l.order.MoveToFront(el)
	} else {
		for len(l.keys) >= l.maxKeys {
			l.evictOldest()
		}
		e = &entry{key: key, tat: now}
		l.keys[key] = l.order.PushFront(e)
	}
	tat := e.tat
	if tat.Before(now) {
		tat = now
	}
	// A request is allowed while the bucket holds fewer than burst
	// intervals of debt.
	allowAt := tat.Add(-time.Duration(l.burst-1) * l.interval)
	if now.Before(allowAt) {
		return false, allowAt.Sub(now)
	}
	e.tat = tat.Add(l.interval)
	return true, 0
}

// Len returns the number of keys currently tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *Limiter) evictOldest() {
	el := l.order.Back()
	if el == nil {
		return
	}
	l.order.Remove(el)
	delete(l.keys, el.Value.(*entry).key)
}
