// Package keylock gives each key (a paint, a user) a lock of its own, made
// on first use and dropped when no one holds or waits for it, so the
// locks take memory only for the keys in use.
package keylock

import (
	"context"
	"sync"
)

// Locks is a set of locks by key; the zero value is ready to use.
type Locks struct {
	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	turn  chan struct{} // holds a token while the lock is held
	users int           // holders and waiters
}

// Lock waits for key's lock until ctx ends (then its error); unlock
// releases it to the next waiter.
func (k *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*entry{}
	}
	e := k.m[key]
	if e == nil {
		e = &entry{turn: make(chan struct{}, 1)}
		k.m[key] = e
	}
	e.users++
	k.mu.Unlock()
	select {
	case e.turn <- struct{}{}:
		return func() { <-e.turn; k.release(key, e) }, nil
	case <-ctx.Done():
		k.release(key, e)
		return nil, ctx.Err()
	}
}

func (k *Locks) release(key string, e *entry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e.users--; e.users == 0 {
		delete(k.m, key)
	}
}

// Len is the number of keys held or waited for.
func (k *Locks) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// Users is the number of callers holding or waiting for key's lock.
func (k *Locks) Users(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e := k.m[key]; e != nil {
		return e.users
	}
	return 0
}
