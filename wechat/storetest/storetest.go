// Package storetest is the conformance suite of wechat.Store: every
// implementation runs it in its tests.
package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat"
)

// Run checks the contract of wechat.Store on stores made by newStore,
// each empty and private to its subtest.
func Run(t *testing.T, newStore func(t *testing.T) wechat.Store) {
	ctx := context.Background()
	t.Run("GetMissing", func(t *testing.T) {
		s := newStore(t)
		v, found, err := s.Get(ctx, "missing")
		if err != nil || found || v != "" {
			t.Errorf("got %q, %v, %v, want not found and no error", v, found, err)
		}
	})
	t.Run("SetGet", func(t *testing.T) {
		s := newStore(t)
		if err := s.Set(ctx, "k", "v1", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, "k", "v2", time.Minute); err != nil {
			t.Fatal(err)
		}
		v, found, err := s.Get(ctx, "k")
		if err != nil || !found || v != "v2" {
			t.Errorf("got %q, %v, %v, want v2", v, found, err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		if err := s.Set(ctx, "k", "v", 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(120 * time.Millisecond)
		if _, found, err := s.Get(ctx, "k"); err != nil || found {
			t.Errorf("got found %v, err %v, want expired", found, err)
		}
	})
	t.Run("LockExclusive", func(t *testing.T) {
		s := newStore(t)
		var holders, maxHolders, taken atomic.Int64
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				unlock, ok, err := s.TryLock(ctx, "lock", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				taken.Add(1)
				n := holders.Add(1)
				for {
					m := maxHolders.Load()
					if n <= m || maxHolders.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(10 * time.Millisecond)
				holders.Add(-1)
				// Not released: a second taker would then be legal.
				_ = unlock
			})
		}
		wg.Wait()
		if taken.Load() != 1 || maxHolders.Load() != 1 {
			t.Errorf("got %d takers, %d at once, want 1", taken.Load(), maxHolders.Load())
		}
	})
	t.Run("UnlockThenRelock", func(t *testing.T) {
		s := newStore(t)
		unlock, ok, err := s.TryLock(ctx, "lock", time.Minute)
		if err != nil || !ok {
			t.Fatalf("got %v, %v, want the lock", ok, err)
		}
		if err := unlock(ctx); err != nil {
			t.Fatal(err)
		}
		unlock2, ok, err := s.TryLock(ctx, "lock", time.Minute)
		if err != nil || !ok {
			t.Fatalf("after unlock: got %v, %v, want the lock", ok, err)
		}
		_ = unlock2(ctx)
	})
	t.Run("LockExpiresAndStaleUnlockKeepsSuccessor", func(t *testing.T) {
		s := newStore(t)
		stale, ok, err := s.TryLock(ctx, "lock", 50*time.Millisecond)
		if err != nil || !ok {
			t.Fatalf("got %v, %v, want the lock", ok, err)
		}
		time.Sleep(120 * time.Millisecond)
		_, ok, err = s.TryLock(ctx, "lock", time.Minute)
		if err != nil || !ok {
			t.Fatalf("after expiry: got %v, %v, want the lock", ok, err)
		}
		if err := stale(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.TryLock(ctx, "lock", time.Minute); err != nil || ok {
			t.Errorf("after a stale unlock: got %v, %v, want the successor's lock held", ok, err)
		}
	})
}
