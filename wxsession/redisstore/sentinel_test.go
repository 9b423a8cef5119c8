package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/testenv"
)

// TestSentinel: two stores on Sentinel clients (as YIBI_REDIS_URL with
// master_name= makes them) track and cache as on a single node; after a
// Sentinel failover, which kills the old master's clients, each store
// reaches the new master, its cache was dropped (never trusted across the
// change) and tracking comes back on, so a revocation on one is again seen
// at once on the other.
func TestSentinel(t *testing.T) {
	sen := testenv.StartRedisSentinel(t)
	ctx := context.Background()
	prefix := newPrefix()
	open := func() (*redisstore.Store, *redis.Client) {
		c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: sen.MasterName, SentinelAddrs: []string{sen.Sentinel}})
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { s.Close(); c.Close() })
		waitTracking(t, s, true)
		return s, c
	}
	a, ac := open()
	b, _ := open()
	// gone waits until b no longer finds code.
	gone := func(t *testing.T, code string) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for {
			_, found, err := b.Get(ctx, code)
			if err == nil && !found {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("b still finds %s 1s after a deleted it (err %v)", code, err)
			}
			time.Sleep(time.Millisecond)
		}
	}

	if err := a.Login(ctx, "s1", session("o-s1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	cacheGet(t, b, "s1")
	if err := a.Delete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	gone(t, "s1")

	// s2 is cached on b, and on the replica before the failover.
	if err := a.Login(ctx, "s2", session("o-s2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	cacheGet(t, b, "s2")
	if err := ac.Do(ctx, "WAIT", 1, 2000).Err(); err != nil {
		t.Fatal(err)
	}
	testenv.Cli(t, sen.Sentinel, "SENTINEL", "FAILOVER", sen.MasterName)
	replicaPort := strings.Split(sen.Replica, ":")[1]
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(testenv.Cli(t, sen.Sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", sen.MasterName), replicaPort) {
		if time.Now().After(deadline) {
			t.Fatal("no failover to the replica within 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Both stores come back on the new master, tracking again.
	deadline = time.Now().Add(20 * time.Second)
	for {
		err := a.Login(ctx, "s3", session("o-s3"), time.Minute)
		if err == nil && a.Tracking() && b.Tracking() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the failover: login err %v, tracking a %v b %v", err, a.Tracking(), b.Tracking())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := a.Delete(ctx, "s2"); err != nil {
		t.Fatal(err)
	}
	gone(t, "s2") // not served from a cache of before the failover
	cacheGet(t, b, "s3")
	if err := a.Delete(ctx, "s3"); err != nil {
		t.Fatal(err)
	}
	gone(t, "s3")
}
