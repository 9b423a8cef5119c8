package redisstore

import (
	"fmt"
	"testing"
	"time"
)

// TestCache checks the cache's own rules, without Redis: nothing is served
// while it is not live or past an entry's expiry, a fill that an
// invalidation or a lost connection overtook is dropped, and the number
// of entries is bounded.
func TestCache(t *testing.T) {
	now := time.Now()
	later := now.Add(time.Minute)
	cases := []struct {
		name string
		run  func(c *cache) (found bool)
		want bool
	}{
		{"Served", func(c *cache) bool {
			c.fill("k", c.begin("k"), 1, later)
			_, ok := c.get("k", now)
			return ok
		}, true},
		{"ExpiredNotServed", func(c *cache) bool {
			c.fill("k", c.begin("k"), 1, now.Add(time.Millisecond))
			_, ok := c.get("k", now.Add(time.Millisecond))
			return ok
		}, false},
		{"InvalidatedDuringFillDropped", func(c *cache) bool {
			tk := c.begin("k")
			c.invalidate("k")
			c.fill("k", tk, 1, later)
			_, ok := c.get("k", now)
			return ok
		}, false},
		{"InvalidatedAfterFill", func(c *cache) bool {
			c.fill("k", c.begin("k"), 1, later)
			c.invalidate("k")
			_, ok := c.get("k", now)
			return ok
		}, false},
		{"ConnectionLostDuringFillDropped", func(c *cache) bool {
			tk := c.begin("k")
			c.setLive(false)
			c.setLive(true)
			c.fill("k", tk, 1, later)
			_, ok := c.get("k", now)
			return ok
		}, false},
		{"NotLiveNotServed", func(c *cache) bool {
			c.fill("k", c.begin("k"), 1, later)
			c.setLive(false)
			_, ok := c.get("k", now)
			return ok
		}, false},
		{"FlushAll", func(c *cache) bool {
			c.fill("k", c.begin("k"), 1, later)
			c.flush()
			_, ok := c.get("k", now)
			return ok
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(10)
			c.setLive(true)
			if got := tc.run(c); got != tc.want {
				t.Errorf("found: got %v, want %v", got, tc.want)
			}
		})
	}
	for _, entries := range []int{1, 10, smallCache, 4 * smallCache} {
		t.Run(fmt.Sprintf("Bounded%d", entries), func(t *testing.T) {
			c := newCache(entries)
			c.setLive(true)
			for i := range 3 * entries {
				k := fmt.Sprint(i)
				c.fill(k, c.begin(k), i, later)
			}
			if got := c.len(); got > entries || got < entries*3/4 {
				t.Errorf("entries after %d fills: got %d, want at most %d and at least %d", 3*entries, got, entries, entries*3/4)
			}
		})
	}
}
