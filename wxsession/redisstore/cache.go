package redisstore

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheEntries is Options.CacheEntries when it is zero: at about
// 1 KB per cached session, 64 MiB at most.
const DefaultCacheEntries = 65536

// cacheShards spreads the cache's lock (a power of two); caches of fewer
// than smallCache entries have one shard, so their bound is exact.
const (
	cacheShards = 64
	smallCache  = 16 * cacheShards
)

// cache holds decoded values of Redis keys, by full key name, for the
// keys of one store. It is generic over the store's keys (codes now,
// tokens later): values are whatever the caller decoded, and the caller
// copies what it hands out.
//
// An entry is served only while the tracker's connection is live (every
// change to its key since it was read would have been pushed to us) and
// before the key's expiry in Redis, as read with it.
type cache struct {
	seed   maphash.Seed
	perCap int
	shards []cacheShard
	mask   uint64

	// gens counts invalidations by key hash: a fill that began before one
	// of its key may hold what was invalidated, and is dropped.
	gens [genSlots]atomic.Uint64

	// hits is false from the moment the tracking connection is lost, before
	// the entries are dropped, so that none is served in between.
	hits atomic.Bool

	// mu orders liveness changes against fills: epoch counts them, live
	// says whether fills may happen at all.
	mu    sync.RWMutex
	epoch uint64
	live  bool
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]cacheEntry
}

// genSlots is the number of invalidation counters; keys share them by
// hash, so a fill is dropped for an unrelated key's invalidation only
// about once in genSlots.
const genSlots = 4096

type cacheEntry struct {
	v       any
	expires int64 // UnixNano; the key's expiry in Redis, or later never
}

// newCache returns an empty, not yet live cache of at most entries values.
func newCache(entries int) *cache {
	n := cacheShards
	if entries < smallCache {
		n = 1
	}
	c := &cache{seed: maphash.MakeSeed(), perCap: max(1, entries/n), shards: make([]cacheShard, n), mask: uint64(n - 1)}
	for i := range c.shards {
		c.shards[i].entries = make(map[string]cacheEntry)
	}
	return c
}

// slot returns key's shard and invalidation counter.
func (c *cache) slot(key string) (*cacheShard, *atomic.Uint64) {
	h := maphash.String(c.seed, key)
	return &c.shards[h&c.mask], &c.gens[(h>>32)%genSlots]
}

// get returns the value cached for key, if any and not expired at now.
func (c *cache) get(key string, now time.Time) (any, bool) {
	if !c.hits.Load() {
		return nil, false
	}
	s, _ := c.slot(key)
	s.mu.RLock()
	e, ok := s.entries[key]
	s.mu.RUnlock()
	if !ok || e.expires <= now.UnixNano() {
		return nil, false
	}
	return e.v, true
}

// fillTicket is taken before reading a key from Redis and checked when
// storing what was read.
type fillTicket struct {
	epoch, gen uint64
	ok         bool
}

// begin returns the ticket for a read of key; ok is false while the cache
// is not live.
func (c *cache) begin(key string) fillTicket {
	c.mu.RLock()
	t := fillTicket{epoch: c.epoch, ok: c.live}
	c.mu.RUnlock()
	_, g := c.slot(key)
	t.gen = g.Load()
	return t
}

// fill stores v for key until expires, unless the cache went down or key
// (or a key sharing its counter) was invalidated since t was taken. A full shard drops
// an arbitrary entry (Go's map order is random) to make room.
func (c *cache) fill(key string, t fillTicket, v any, expires time.Time) {
	if !t.ok {
		return
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.live || c.epoch != t.epoch {
		return
	}
	s, g := c.slot(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.Load() != t.gen {
		return
	}
	if _, ok := s.entries[key]; !ok && len(s.entries) >= c.perCap {
		for k := range s.entries {
			delete(s.entries, k)
			break
		}
	}
	s.entries[key] = cacheEntry{v: v, expires: expires.UnixNano()}
}

// invalidate drops key and fails fills of it that are under way. The
// counter moves before the delete: a fill that checked it before the
// move stored its value before the delete, which removes it.
func (c *cache) invalidate(key string) {
	s, g := c.slot(key)
	g.Add(1)
	s.mu.Lock()
	delete(s.entries, key)
	s.mu.Unlock()
}

// flush drops every entry and fails every fill under way.
func (c *cache) flush() {
	c.mu.Lock()
	c.epoch++
	c.mu.Unlock()
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.entries)
		s.mu.Unlock()
	}
}

// setLive flushes the cache and says whether fills may happen from now on.
func (c *cache) setLive(live bool) {
	if !live {
		c.hits.Store(false)
	}
	c.mu.Lock()
	c.live = live
	c.mu.Unlock()
	c.flush()
	if live {
		c.hits.Store(true)
	}
}

// len counts the entries, expired ones included.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
