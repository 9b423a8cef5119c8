package render

import (
	"container/list"
	"sync"
)

// Key names one rendered image: a paint's revision at a width in a format.
// A new revision is a new key, so a cached image is never stale; old
// revisions age out.
type Key struct {
	Owner    string
	ID       string
	Revision int64
	Width    int
	Format   string // "png", "svg" or "card" (the 5:4 share card PNG)
}

// Cache holds rendered images up to a total size in bytes, dropping the
// least recently used first. It is safe for concurrent use. The zero
// value holds nothing; use NewCache.
type Cache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	order    *list.List // front: most recently used; values are *cacheEntry
	items    map[Key]*list.Element
}

type cacheEntry struct {
	key  Key
	data []byte
}

// NewCache returns a cache of at most maxBytes of image data.
func NewCache(maxBytes int) *Cache {
	return &Cache{maxBytes: maxBytes, order: list.New(), items: make(map[Key]*list.Element)}
}

// Get returns the image cached under k and whether there was one. The
// bytes are shared: callers must not change them.
func (c *Cache) Get(k Key) ([]byte, bool) {
	if c == nil || c.items == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).data, true
}

// Add caches data under k, dropping the least recently used images until
// the total fits. An image larger than the whole cache is not kept.
func (c *Cache) Add(k Key, data []byte) {
	if c == nil || c.items == nil || len(data) > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.remove(e)
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, data: data})
	c.bytes += len(data)
	for c.bytes > c.maxBytes {
		c.remove(c.order.Back())
	}
}

func (c *Cache) remove(e *list.Element) {
	ent := c.order.Remove(e).(*cacheEntry)
	delete(c.items, ent.key)
	c.bytes -= len(ent.data)
}

// Len returns the number of images cached and their total size in bytes.
func (c *Cache) Len() (n, bytes int) {
	if c == nil || c.items == nil {
		return 0, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.bytes
}
