// Package cachestore puts a short-lived cache in each process in front of
// a shared session store (Redis), so that checking a request's session
// usually needs no round trip to the shared store.
//
// The price is staleness across processes, bounded by the cache's TTL: a
// session that another process revoked (its user logged in again there) or
// deleted, or that expired in the shared store, can still be found here for
// up to TTL after it was last fetched. Within one process nothing is stale:
// a login here revokes the user's earlier code here at once. Keep the TTL
// short (a second or a few) or leave the cache out where a revoked code
// must stop working everywhere at the same instant.
package cachestore

import (
	"context"
	"time"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

// Store is a wxsession.Store: shared, with a cache of found sessions.
type Store struct {
	shared wxsession.Store
	local  *memstore.Store
	ttl    time.Duration
}

var _ wxsession.Store = (*Store)(nil)

// New caches sessions found in shared for ttl (> 0). Close stops the
// cache's cleanup goroutine; it does not close shared.
func New(shared wxsession.Store, ttl time.Duration) *Store {
	return &Store{shared: shared, local: memstore.New(memstore.WithCleanupInterval(max(ttl, time.Second))), ttl: ttl}
}

// Get implements wxsession.Store: the cached session when there is one,
// else the shared store's answer, which is cached when found.
func (c *Store) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	if s, found, _ := c.local.Get(context.WithoutCancel(ctx), code); found {
		return s, true, nil
	}
	s, found, err := c.shared.Get(ctx, code)
	if err != nil || !found {
		return s, found, err
	}
	// The cache fails only on a cancelled context, which it does not get.
	_ = c.local.Login(context.WithoutCancel(ctx), code, s, c.ttl)
	return s, true, nil
}

// Login implements wxsession.Store: in the shared store, then in the cache.
func (c *Store) Login(ctx context.Context, code string, s wxsession.Session, ttl time.Duration) error {
	if err := c.shared.Login(ctx, code, s, ttl); err != nil {
		// The login may have happened or not; drop what the cache had.
		_ = c.local.Delete(context.WithoutCancel(ctx), code)
		return err
	}
	// Revokes the user's earlier code in this process at once.
	_ = c.local.Login(context.WithoutCancel(ctx), code, s, min(ttl, c.ttl))
	return nil
}

// Delete implements wxsession.Store: from the cache and the shared store.
func (c *Store) Delete(ctx context.Context, code string) error {
	_ = c.local.Delete(context.WithoutCancel(ctx), code)
	return c.shared.Delete(ctx, code)
}

// Close stops the cache's cleanup goroutine; the store stays usable.
func (c *Store) Close() error { return c.local.Close() }
