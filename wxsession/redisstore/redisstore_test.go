package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/storetest"
	"github.com/yibi/yibi/wxsession/testenv"
)

// prefixes makes each subtest's store independent on one server.
var prefixes atomic.Int64

func newPrefix() string { return fmt.Sprintf("test%d:", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{r.Addr}})
	t.Cleanup(func() { client.Close() })
	for _, entries := range []int{0, -1} {
		t.Run(fmt.Sprintf("CacheEntries=%d", entries), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) wxsession.Store {
				s := redisstore.New(client, redisstore.Options{Prefix: newPrefix(), CacheEntries: entries})
				t.Cleanup(func() { s.Close() })
				return s
			})
		})
	}
}

func TestTokenConformance(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{r.Addr}})
	t.Cleanup(func() { client.Close() })
	storetest.RunTokens(t, func(t *testing.T) storetest.Both {
		return redisstore.New(client, redisstore.Options{Prefix: newPrefix()})
	})
}

func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: a Redis Cluster takes seconds to form")
	}
	c := testenv.StartRedisCluster(t)
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: c.Addrs})
	t.Cleanup(func() { client.Close() })
	if _, ok := client.(*redis.ClusterClient); !ok {
		t.Fatalf("client: got %T, want *redis.ClusterClient", client)
	}
	storetest.Run(t, func(t *testing.T) wxsession.Store {
		return redisstore.New(client, redisstore.Options{Prefix: newPrefix()})
	})
	t.Run("Tokens", func(t *testing.T) {
		storetest.RunTokens(t, func(t *testing.T) storetest.Both {
			return redisstore.New(client, redisstore.Options{Prefix: newPrefix()})
		})
	})
}

// TestKeys checks the key layout: the 2016 prefix by default, codes and
// openIds in separate namespaces, both with the TTL.
func TestKeys(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	s := redisstore.New(client, redisstore.Options{})
	t.Cleanup(func() { s.Close() })
	sess := wxsession.Session{User: wxsession.User{OpenID: "o-kim"}, SessionKey: "k"}
	if err := s.Login(ctx, "c1", sess, time.Minute); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"weapp-session:code:c1": true, "weapp-session:openid:o-kim": true}
	if len(keys) != len(want) {
		t.Fatalf("keys: got %v, want %v", keys, want)
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("key %q: unexpected, want only %v", k, want)
		}
		ttl, err := client.PTTL(ctx, k).Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("PTTL(%q): got %v, %v, want in (0, 1m]", k, ttl, err)
		}
	}
	if v, _ := client.Get(ctx, "weapp-session:openid:o-kim").Result(); v != "c1" {
		t.Errorf("openId key: got %q, want %q", v, "c1")
	}
	// An openId sent as a code finds nothing.
	if _, found, err := s.Get(ctx, "o-kim"); err != nil || found {
		t.Errorf("Get(openId): got found %v, err %v, want not found", found, err)
	}
}

// TestServerDown checks that a stopped Redis gives fast errors wrapping
// wxsession.ErrStoreUnavailable, and that the store recovers on restart.
func TestServerDown(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{
		Addr: r.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond,
	})
	t.Cleanup(func() { client.Close() })
	s := redisstore.New(client, redisstore.Options{})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	sess := wxsession.Session{User: wxsession.User{OpenID: "o-lee"}, SessionKey: "k"}
	if err := s.Login(ctx, "c1", sess, time.Minute); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	ops := map[string]func() error{
		"Get":    func() error { _, _, err := s.Get(ctx, "c1"); return err },
		"Login":  func() error { return s.Login(ctx, "c2", sess, time.Minute) },
		"Delete": func() error { return s.Delete(ctx, "c1") },
	}
	for name, op := range ops {
		t.Run(name+"Unavailable", func(t *testing.T) {
			start := time.Now()
			err := op()
			if !errors.Is(err, wxsession.ErrStoreUnavailable) {
				t.Errorf("got %v, want an error wrapping ErrStoreUnavailable", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v, want under 2s", d)
			}
		})
	}
	r.Start()
	t.Run("RecoversAfterRestart", func(t *testing.T) {
		// The restarted server is empty; the store works again.
		if err := s.Login(ctx, "c3", sess, time.Minute); err != nil {
			t.Fatalf("Login after restart: %v", err)
		}
		if _, found, err := s.Get(ctx, "c3"); err != nil || !found {
			t.Errorf("Get after restart: got found %v, err %v, want found", found, err)
		}
	})
}

// TestScriptReloaded checks the EVALSHA fallback: after SCRIPT FLUSH the
// Login script is sent again and works.
func TestScriptReloaded(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	s := redisstore.New(client, redisstore.Options{})
	t.Cleanup(func() { s.Close() })
	sess := wxsession.Session{User: wxsession.User{OpenID: "o-mo"}, SessionKey: "k"}
	if err := s.Login(ctx, "c1", sess, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Login(ctx, "c2", sess, time.Minute); err != nil {
		t.Fatalf("Login after SCRIPT FLUSH: %v", err)
	}
	if _, found, _ := s.Get(ctx, "c1"); found {
		t.Error("c1 after re-login: got found, want revoked")
	}
}
