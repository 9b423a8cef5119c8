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
	"hash/maphash"
	"sync"
	"time"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

// Store is a wxsession.Store: shared, with a cache of found sessions.
type Store struct {
	shared wxsession.Store
	local  *memstore.Store
	ttl    time.Duration
	seed   maphash.Seed

	// One login of a user at a time in this process, so that the cache
	// sees a user's logins in the order the shared store did.
	logins [64]sync.Mutex

	// mu orders cache fills against logins and deletes: a Get fills the
	// cache only if no login of the session's user and no delete of its
	// code has changed the shared store since the Get began to read it,
	// which would make what it read stale. clock counts those changes;
	// marks holds, per hash slot of an openId or code, the clock of the
	// last one (two keys in one slot only cost a fill).
	mu    sync.Mutex
	clock uint64
	marks [256]uint64
}

var _ wxsession.Store = (*Store)(nil)

// New caches sessions found in shared for ttl (> 0). Close stops the
// cache's cleanup goroutine; it does not close shared.
func New(shared wxsession.Store, ttl time.Duration) *Store {
	return &Store{
		shared: shared,
		local:  memstore.New(memstore.WithCleanupInterval(max(ttl, time.Second))),
		ttl:    ttl,
		seed:   maphash.MakeSeed(),
	}
}

func (c *Store) slot(key string) uint64 { return maphash.String(c.seed, key) }

// changed records a change of the shared store for these keys and applies
// local, under mu.
func (c *Store) changed(local func(ctx context.Context) error, keys ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	for _, k := range keys {
		c.marks[c.slot(k)%uint64(len(c.marks))] = c.clock
	}
	// The cache fails only on a cancelled context, which it does not get.
	_ = local(context.Background())
}

// Get implements wxsession.Store: the cached session when there is one,
// else the shared store's answer, which is cached when found.
func (c *Store) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	if s, found, _ := c.local.Get(context.WithoutCancel(ctx), code); found {
		return s, true, nil
	}
	c.mu.Lock()
	start := c.clock
	c.mu.Unlock()
	s, found, err := c.shared.Get(ctx, code)
	if err != nil || !found {
		return s, found, err
	}
	n := uint64(len(c.marks))
	c.mu.Lock()
	if c.marks[c.slot(s.User.OpenID)%n] <= start && c.marks[c.slot(code)%n] <= start {
		_ = c.local.Login(context.Background(), code, s, c.ttl)
	}
	c.mu.Unlock()
	return s, true, nil
}

// Login implements wxsession.Store: in the shared store, then in the
// cache, where it revokes the user's earlier code at once.
func (c *Store) Login(ctx context.Context, code string, s wxsession.Session, ttl time.Duration) error {
	l := &c.logins[c.slot(s.User.OpenID)%uint64(len(c.logins))]
	l.Lock()
	defer l.Unlock()
	if err := c.shared.Login(ctx, code, s, ttl); err != nil {
		// The login may have happened or not; drop what the cache had.
		c.changed(func(ctx context.Context) error { return c.local.Delete(ctx, code) }, s.User.OpenID, code)
		return err
	}
	c.changed(func(ctx context.Context) error { return c.local.Login(ctx, code, s, min(ttl, c.ttl)) }, s.User.OpenID, code)
	return nil
}

// Delete implements wxsession.Store: from the shared store and the cache.
func (c *Store) Delete(ctx context.Context, code string) error {
	err := c.shared.Delete(ctx, code)
	// Even if the shared delete failed it may have happened: drop the code.
	c.changed(func(ctx context.Context) error { return c.local.Delete(ctx, code) }, code)
	return err
}

// Close stops the cache's cleanup goroutine; the store stays usable.
func (c *Store) Close() error { return c.local.Close() }

// SaveExchange implements wxsession.Store: in the shared store only. An
// exchange is read once per login that finds no session, so caching it
// would save nothing, and every instance must see it at once.
func (c *Store) SaveExchange(ctx context.Context, code string, x wxsession.CodeExchange, ttl time.Duration) error {
	return c.shared.SaveExchange(ctx, code, x, ttl)
}

// GetExchange implements wxsession.Store: from the shared store.
func (c *Store) GetExchange(ctx context.Context, code string) (wxsession.CodeExchange, bool, error) {
	return c.shared.GetExchange(ctx, code)
}
