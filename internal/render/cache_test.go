package render

import (
	"fmt"
	"sync"
	"testing"
)

func TestCacheLRUByBytes(t *testing.T) {
	c := NewCache(10)
	k := func(i int) Key { return Key{Owner: "u", ID: "p", Revision: int64(i), Width: 120, Format: "png"} }
	c.Add(k(1), []byte("aaaa"))
	c.Add(k(2), []byte("bbbb"))
	if _, ok := c.Get(k(1)); !ok { // k(1) is now the most recently used
		t.Fatalf("Get(1): got missing, want cached")
	}
	c.Add(k(3), []byte("cccc")) // 12 bytes > 10: drops k(2), the least recently used
	tests := []struct {
		key  Key
		want string
		ok   bool
	}{
		{k(1), "aaaa", true},
		{k(2), "", false},
		{k(3), "cccc", true},
		{Key{Owner: "other", ID: "p", Revision: 1, Width: 120, Format: "png"}, "", false},
		{Key{Owner: "u", ID: "p", Revision: 1, Width: 120, Format: "svg"}, "", false},
	}
	for _, tt := range tests {
		got, ok := c.Get(tt.key)
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("Get(%+v): got %q %v, want %q %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	if n, b := c.Len(); n != 2 || b != 8 {
		t.Errorf("Len: got %d images %d bytes, want 2, 8", n, b)
	}
	c.Add(k(4), []byte("too large!!")) // 11 bytes: never kept
	if _, ok := c.Get(k(4)); ok {
		t.Errorf("Get(4): got cached, want an image larger than the cache not kept")
	}
	c.Add(k(1), []byte("a")) // replacing counts the new size only
	if n, b := c.Len(); n != 2 || b != 5 {
		t.Errorf("Len after replace: got %d images %d bytes, want 2, 5", n, b)
	}
	var zero *Cache
	zero.Add(k(1), []byte("x"))
	if _, ok := zero.Get(k(1)); ok {
		t.Errorf("nil cache Get: got cached, want nothing")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := Key{Owner: fmt.Sprint(g), ID: fmt.Sprint(i % 17), Width: 120, Format: "png"}
				c.Add(k, make([]byte, 10+i%30))
				c.Get(k)
			}
		}()
	}
	wg.Wait()
	if _, b := c.Len(); b > 1000 {
		t.Errorf("bytes: got %d, want at most 1000", b)
	}
}
