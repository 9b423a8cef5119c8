package wechat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Store is where the TokenSources of one app keep the access token, so
// that every instance uses the same one and only one of them fetches it.
// MemoryStore shares it within a process; a Redis-backed Store shares it
// between processes.
//
// Errors are for faults of the store only (unreachable, timeout); a
// TokenSource then fails its call rather than fetch a token of its own,
// because instances fetching on their own would invalidate one another
// (the legacy token) or spend WeChat's quota (both).
type Store interface {
	// Get returns the value under key. found is false when there is none
	// or it has expired; that is not an error.
	Get(ctx context.Context, key string) (value string, found bool, err error)
	// Set puts value under key for ttl (> 0), replacing any value.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// TryLock takes the lock named key if no one holds it, without
	// waiting: ok reports whether it was taken. A taken lock is released
	// by unlock, or by itself after ttl if its holder dies; unlock never
	// releases a lock that expired and was taken by someone else since.
	// TokenSource bounds the wait for a lock itself (TokenOptions.LockWait)
	// so that it can stop waiting as soon as the token it waits for
	// appears.
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, ok bool, err error)
}

// MemoryStore is a Store within one process. It is safe for concurrent
// use; its zero value is not usable: call NewMemoryStore.
type MemoryStore struct {
	mu   sync.Mutex
	vals map[string]memEntry
}

type memEntry struct {
	value   string
	expires time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{vals: map[string]memEntry{}} }

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.vals[key]
	if !ok || !time.Now().Before(e.expires) {
		return "", false, nil
	}
	return e.value, true, nil
}

// Set implements Store.
func (m *MemoryStore) Set(_ context.Context, key, value string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	m.vals[key] = memEntry{value, time.Now().Add(ttl)}
	return nil
}

// TryLock implements Store. Locks share the key space of values.
func (m *MemoryStore) TryLock(_ context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.vals[key]; ok && time.Now().Before(e.expires) {
		return nil, false, nil
	}
	owner := LockOwner()
	m.vals[key] = memEntry{owner, time.Now().Add(ttl)}
	return func(context.Context) error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.vals[key].value == owner {
			delete(m.vals, key)
		}
		return nil
	}, true, nil
}

// sweep drops expired entries once they are many, so that a long-lived
// store does not grow. m.mu is held.
func (m *MemoryStore) sweep() {
	if len(m.vals) < 64 {
		return
	}
	now := time.Now()
	for k, e := range m.vals {
		if !now.Before(e.expires) {
			delete(m.vals, k)
		}
	}
}

// LockOwner returns a fresh random value naming one holder of a lock, so
// that a holder whose lock expired cannot release its successor's. Store
// implementations use it as the lock's value.
func LockOwner() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
