package redistoken_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/internal/redistoken"
	"github.com/yibi/yibi/internal/testenv"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/storetest"
)

// newClient is a client as a Yibi instance has one: short timeouts, so a
// Redis that is down is an error within moments.
func newClient(t *testing.T, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 500 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second, MaxRetries: 1})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStore(t *testing.T) {
	r := testenv.StartRedis(t)
	storetest.Run(t, func(t *testing.T) wechat.Store {
		c := newClient(t, r.Addr)
		if err := c.FlushDB(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		return redistoken.New(c)
	})
}

// TestShared runs the two-instance token tests with each instance on its
// own Redis client: 40 concurrent phone calls, one token fetch; the token
// rotated behind their backs, every call still succeeds.
func TestShared(t *testing.T) {
	r := testenv.StartRedis(t)
	storetest.RunShared(t, func(t *testing.T) (wechat.Store, wechat.Store) {
		return redistoken.New(newClient(t, r.Addr)), redistoken.New(newClient(t, r.Addr))
	})
}

// TestRedisDown: with Redis down every call fails fast with
// wechat.ErrTokenStore and asks WeChat for nothing; when Redis is back
// (empty), 40 concurrent calls fetch one token in all.
func TestRedisDown(t *testing.T) {
	r := testenv.StartRedis(t)
	in := storetest.NewInstances(t, redistoken.New(newClient(t, r.Addr)), redistoken.New(newClient(t, r.Addr)))
	codes, ids := in.PhoneCodes(t, 82)
	for i, err := range in.PhoneCalls(codes[:2], ids[:2]) {
		if err != nil {
			t.Fatalf("warm-up call %d: %v", i, err)
		}
	}
	r.Stop()
	start := time.Now()
	errs := in.PhoneCalls(codes[2:42], ids[2:42])
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("40 calls with Redis down took %v, want an error within 3 s", d)
	}
	for i, err := range errs {
		if !errors.Is(err, wechat.ErrTokenStore) {
			t.Errorf("call %d: got %v, want ErrTokenStore", i, err)
		}
	}
	stats := in.Sim.Stats()
	if stats.StableTokens != 1 || stats.PhoneNumbers != 2 {
		t.Errorf("with Redis down: got %d token fetches and %d paid calls, want 1 and 2 (none while down)", stats.StableTokens, stats.PhoneNumbers)
	}

	r.Start() // empty: nothing is persisted
	var wg sync.WaitGroup
	// Clients reconnect on their own; the first calls may still see the
	// dead connections of their pool.
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range in.Clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if _, err := c.Tokens.Token(context.Background()); !errors.Is(err, wechat.ErrTokenStore) {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	for i, err := range in.PhoneCalls(codes[42:], ids[42:]) {
		if err != nil {
			t.Errorf("call %d after Redis came back: got %v, want a phone number", i, err)
		}
	}
	if got := in.Sim.Stats().StableTokens; got != 2 {
		t.Errorf("got %d token fetches in all, want 2 (one before, one after Redis came back)", got)
	}
}
