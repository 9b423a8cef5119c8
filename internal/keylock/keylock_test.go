package keylock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestOneHolderPerKey: a key's lock has one holder at a time, other keys
// are free meanwhile, a waiter gives up with its context, and a key no one
// holds or waits for is forgotten.
func TestOneHolderPerKey(t *testing.T) {
	var k Locks
	ctx := context.Background()
	unlock, err := k.Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := k.Lock(ctx, "b"); err != nil {
		t.Fatalf("another key: %v", err)
	} else {
		u()
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := k.Lock(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a held: got %v, want the context's error", err)
	}
	var mu sync.Mutex
	order := []string{}
	var wg sync.WaitGroup
	wg.Go(func() {
		u, err := k.Lock(ctx, "a")
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		order = append(order, "waiter")
		mu.Unlock()
		u()
	})
	for k.Users("a") != 2 {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	order = append(order, "holder")
	mu.Unlock()
	unlock()
	wg.Wait()
	if len(order) != 2 || order[0] != "holder" {
		t.Errorf("got %v, want the holder first", order)
	}
	if n := k.Len(); n != 0 {
		t.Errorf("got %d keys after every lock was released, want 0", n)
	}
}
