package cachestore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/cachestore"
	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/storetest"
	"github.com/yibi/yibi/wxsession/testenv"
)

var prefixes atomic.Int64

func newPrefix() string { return fmt.Sprintf("cache%d:", prefixes.Add(1)) }

func redisClient(t *testing.T) redis.UniversalClient {
	r := testenv.StartRedis(t)
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{r.Addr}})
	t.Cleanup(func() { client.Close() })
	return client
}

func TestConformance(t *testing.T) {
	client := redisClient(t)
	storetest.Run(t, func(t *testing.T) wxsession.Store {
		c := cachestore.New(redisstore.New(client, redisstore.Options{Prefix: newPrefix()}), 100*time.Millisecond)
		t.Cleanup(func() { c.Close() })
		return c
	})
}

func session(openID string) wxsession.Session {
	return wxsession.Session{User: wxsession.User{OpenID: openID, NickName: "n"}, CreatedAt: time.Now()}
}

// TestAcrossProcesses: two processes (two caches over one Redis). A login
// through B revokes the old code in Redis; A, which cached it, stops
// finding it once its cache entry is older than the TTL, and no sooner
// needs Redis for it.
func TestAcrossProcesses(t *testing.T) {
	client := redisClient(t)
	ctx := context.Background()
	prefix := newPrefix()
	shared := redisstore.New(client, redisstore.Options{Prefix: prefix})
	const ttl = 300 * time.Millisecond
	a := cachestore.New(shared, ttl)
	b := cachestore.New(redisstore.New(client, redisstore.Options{Prefix: prefix}), ttl)
	defer a.Close()
	defer b.Close()

	// Taken before the login, so the entry's TTL ends after fetched+ttl.
	fetched := time.Now()
	if err := a.Login(ctx, "code-1", session("o-1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Login(ctx, "code-2", session("o-1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := shared.Get(ctx, "code-1"); found {
		t.Fatal("Redis after the login through B: got code-1 found, want revoked")
	}
	// A still finds its cached copy: this is the staleness the TTL bounds.
	if _, found, err := a.Get(ctx, "code-1"); err != nil || (!found && time.Since(fetched) < ttl) {
		t.Fatalf("A right after: got found=%v err=%v, want the cached session within the TTL", found, err)
	}
	deadline := fetched.Add(ttl + 2*time.Second)
	for {
		_, found, err := a.Get(ctx, "code-1")
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A still finds the revoked code %v after its cache TTL of %v", time.Since(fetched), ttl)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := time.Since(fetched); d < ttl {
		t.Errorf("A stopped finding code-1 after %v, before its TTL of %v: it asked Redis", d, ttl)
	}
	if _, found, _ := a.Get(ctx, "code-2"); !found {
		t.Error("A: got the new code not found, want found (from Redis)")
	}
}

// TestCachedGetNeedsNoRedis: once cached, a session is found with Redis
// down; once the entry is older than the TTL, Redis is asked again and its
// error comes through.
func TestCachedGetNeedsNoRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{r.Addr}, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer client.Close()
	ctx := context.Background()
	const ttl = 300 * time.Millisecond
	c := cachestore.New(redisstore.New(client, redisstore.Options{Prefix: newPrefix()}), ttl)
	defer c.Close()
	if err := c.Login(ctx, "code-1", session("o-1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if _, found, err := c.Get(ctx, "code-1"); err != nil || !found {
		t.Errorf("cached Get with Redis down: got found=%v err=%v, want found", found, err)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if _, _, err := c.Get(ctx, "code-1"); err == nil {
		t.Error("Get after the TTL with Redis down: got no error, want Redis's")
	}
}

// pauseGet holds the first Get's answer from the shared store until
// released, so a test can change the store while a Get is under way.
type pauseGet struct {
	wxsession.Store
	once          sync.Once
	read, release chan struct{}
}

func (p *pauseGet) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	s, found, err := p.Store.Get(ctx, code)
	p.once.Do(func() {
		close(p.read)
		<-p.release
	})
	return s, found, err
}

// TestStaleReadNotCached: a Get that read a session from Redis just before
// a login in this process revoked it must not put it in the cache, or the
// revoked code would keep working here for the cache's TTL.
func TestStaleReadNotCached(t *testing.T) {
	client := redisClient(t)
	ctx := context.Background()
	prefix := newPrefix()
	other := redisstore.New(client, redisstore.Options{Prefix: prefix}) // another process
	p := &pauseGet{Store: redisstore.New(client, redisstore.Options{Prefix: prefix}), read: make(chan struct{}), release: make(chan struct{})}
	c := cachestore.New(p, time.Minute)
	defer c.Close()

	if err := other.Login(ctx, "code-old", session("o-1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool)
	go func() {
		_, found, _ := c.Get(ctx, "code-old")
		got <- found
	}()
	<-p.read // the Get has read code-old from Redis
	if err := c.Login(ctx, "code-new", session("o-1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	close(p.release)
	<-got // what the Get under way answers is what Redis said when it asked

	if _, found, err := c.Get(ctx, "code-old"); err != nil || found {
		t.Errorf("Get of the code revoked by a login here: got found=%v err=%v, want not found", found, err)
	}
	if _, found, _ := c.Get(ctx, "code-new"); !found {
		t.Error("Get of the new code: got not found, want found")
	}
}
