package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/testenv"
)

// instance is one yibi process's view of a shared Redis: its own client
// (so its own connections) and store.
func instance(t *testing.T, addr, prefix string, opts redis.Options) *redisstore.Store {
	t.Helper()
	opts.Addr = addr
	c := redis.NewClient(&opts)
	s := redisstore.New(c, redisstore.Options{Prefix: prefix})
	t.Cleanup(func() { s.Close(); c.Close() })
	waitTracking(t, s, true)
	return s
}

// waitTracking waits until s.Tracking() is want.
func waitTracking(t *testing.T, s *redisstore.Store, want bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Tracking() != want {
		if time.Now().After(deadline) {
			t.Fatalf("Tracking(): got %v for 5s, want %v", !want, want)
		}
		time.Sleep(time.Millisecond)
	}
}

var getCalls = regexp.MustCompile(`cmdstat_get:calls=(\d+)`)

// gets counts the GET commands Redis has run.
func gets(t *testing.T, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := getCalls.FindStringSubmatch(info)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// cacheGet gets code from s until s has cached it. The login's own
// invalidation may arrive while the first Get reads (which then does not
// cache) or just after (which drops what it cached), so each Get is given
// a few milliseconds for that.
func cacheGet(t *testing.T, s *redisstore.Store, code string) {
	t.Helper()
	n := s.CacheLen()
	for range 10 {
		if _, found, err := s.Get(context.Background(), code); err != nil || !found {
			t.Fatalf("Get(%s): got found %v, err %v, want found", code, found, err)
		}
		time.Sleep(3 * time.Millisecond)
		if s.CacheLen() > n {
			return
		}
	}
	t.Fatalf("Get(%s) 10 times: cache still has %d entries, want %d (tracking %v)", code, s.CacheLen(), n+1, s.Tracking())
}

func session(openID string) wxsession.Session {
	return wxsession.Session{User: wxsession.User{OpenID: openID, NickName: "n"}, SessionKey: "k"}
}

// TestCacheServesWithoutRedis checks that a cached session is served
// from the process: Redis runs no GET for it.
func TestCacheServesWithoutRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	s := instance(t, r.Addr, newPrefix(), redis.Options{})
	if err := s.Login(ctx, "c1", session("o-an"), time.Minute); err != nil {
		t.Fatal(err)
	}
	cacheGet(t, s, "c1")
	before := gets(t, admin)
	for range 100 {
		got, found, err := s.Get(ctx, "c1")
		if err != nil || !found || got.User.OpenID != "o-an" {
			t.Fatalf("Get: got %+v, %v, %v, want o-an's session", got, found, err)
		}
	}
	if n := gets(t, admin) - before; n != 0 {
		t.Errorf("GETs run by Redis for 100 cached Gets: got %d, want 0", n)
	}
}

// TestRevocationAcrossInstances measures how long a code revoked on one
// instance (a re-login, a logout) stays usable on another that had it
// cached: at most 10 ms in each of 20 trials. And an expired code is not
// served from the cache.
func TestRevocationAcrossInstances(t *testing.T) {
	r := testenv.StartRedis(t)
	ctx := context.Background()
	prefix := newPrefix()
	a := instance(t, r.Addr, prefix, redis.Options{})
	b := instance(t, r.Addr, prefix, redis.Options{})
	// The target is 10 ms. Under the race detector (and the shared 2-core
	// machine of CI), 13 ms was seen once in 20 trials from the Go
	// scheduler alone: the bound is 50 ms there, which a lost
	// invalidation (never refused, or only after the 1 s of gone) still
	// fails.
	const trials = 20
	limit := 10 * time.Millisecond
	if raceEnabled {
		limit = 50 * time.Millisecond
	}

	// goneAfter polls found (a read on b) until it reports false and
	// returns how long that took since the revoking call returned.
	goneAfter := func(t *testing.T, what string, since time.Time, found func() (bool, error)) time.Duration {
		t.Helper()
		for {
			ok, err := found()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return time.Since(since)
			}
			if time.Since(since) > time.Second {
				t.Fatalf("%s still found on the other instance after 1s", what)
			}
			// Block between polls, as a server's goroutines do on their
			// connections: a loop of cache hits that never blocks keeps the
			// runtime from polling the network for up to 10 ms (sysmon),
			// which would measure the Go scheduler, not the invalidation.
			time.Sleep(50 * time.Microsecond)
		}
	}
	gone := func(t *testing.T, code string, since time.Time) time.Duration {
		t.Helper()
		return goneAfter(t, "code "+code, since, func() (bool, error) {
			_, found, err := b.Get(ctx, code)
			return found, err
		})
	}
	// cached logs code in on a and makes b cache it.
	cached := func(t *testing.T, code, openID string) {
		t.Helper()
		if err := a.Login(ctx, code, session(openID), time.Minute); err != nil {
			t.Fatal(err)
		}
		cacheGet(t, b, code)
	}
	cases := []struct {
		name   string
		revoke func(t *testing.T, code, openID string)
	}{
		{"Relogin", func(t *testing.T, code, openID string) {
			if err := a.Login(ctx, code+"-new", session(openID), time.Minute); err != nil {
				t.Fatal(err)
			}
		}},
		{"Logout", func(t *testing.T, code, _ string) {
			if err := a.Delete(ctx, code); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var took []time.Duration
			for i := range trials {
				code, openID := fmt.Sprintf("%s-%d", tc.name, i), fmt.Sprintf("o-%s-%d", tc.name, i)
				cached(t, code, openID)
				tc.revoke(t, code, openID)
				took = append(took, gone(t, code, time.Now()))
			}
			slices.Sort(took)
			t.Logf("refused on the other instance after the revoking call returned: median %v, max %v", took[len(took)/2], took[len(took)-1])
			if late := took[len(took)-1]; late > limit {
				t.Errorf("slowest of %d trials: got %v, want at most %v (all: %v)", trials, late, limit, took)
			}
		})
	}
	// v2 sessions: a token logged out (or all of its user's sessions) on
	// a is refused on b as fast.
	tokenCases := []struct {
		name   string
		revoke func(t *testing.T, hash, openID string)
	}{
		{"TokenLogout", func(t *testing.T, hash, _ string) {
			if err := a.DeleteToken(ctx, hash); err != nil {
				t.Fatal(err)
			}
		}},
		{"TokenLogoutAll", func(t *testing.T, _, openID string) {
			if err := a.DeleteUser(ctx, openID); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tokenCases {
		t.Run(tc.name, func(t *testing.T) {
			var took []time.Duration
			for i := range trials {
				hash, openID := fmt.Sprintf("%s-%d", tc.name, i), fmt.Sprintf("o-%s-%d", tc.name, i)
				now := time.Now()
				ts := wxsession.TokenSession{User: wxsession.User{OpenID: openID}, CreatedAt: now,
					ExpiresAt: now.Add(time.Minute), Deadline: now.Add(time.Hour)}
				if _, err := a.CreateToken(ctx, hash, ts, 5); err != nil {
					t.Fatal(err)
				}
				n := b.CacheLen()
				deadline := time.Now().Add(5 * time.Second)
				for b.CacheLen() == n {
					if _, found, err := b.GetToken(ctx, hash); err != nil || !found {
						t.Fatalf("GetToken: found %v, err %v", found, err)
					}
					if time.Now().After(deadline) {
						t.Fatal("the token was not cached on b within 5s")
					}
					time.Sleep(time.Millisecond)
				}
				tc.revoke(t, hash, openID)
				took = append(took, goneAfter(t, "token "+hash, time.Now(), func() (bool, error) {
					_, found, err := b.GetToken(ctx, hash)
					return found, err
				}))
			}
			slices.Sort(took)
			t.Logf("refused on the other instance after the revoking call returned: median %v, max %v", took[len(took)/2], took[len(took)-1])
			if late := took[len(took)-1]; late > limit {
				t.Errorf("slowest of %d trials: got %v, want at most %v (all: %v)", trials, late, limit, took)
			}
		})
	}
	t.Run("Expiry", func(t *testing.T) {
		const ttl = 300 * time.Millisecond
		if err := a.Login(ctx, "short", session("o-short"), ttl); err != nil {
			t.Fatal(err)
		}
		loggedIn := time.Now()
		if _, found, err := b.Get(ctx, "short"); err != nil || !found {
			t.Fatalf("Get before expiry: got found %v, err %v, want found", found, err)
		}
		// Redis serves a key through the millisecond its TTL ends (it
		// expires when its clock passes that millisecond); the cache must
		// not serve it any longer than Redis would.
		time.Sleep(time.Until(loggedIn.Add(ttl + 2*time.Millisecond)))
		if _, found, err := b.Get(ctx, "short"); err != nil || found {
			t.Errorf("Get after expiry: got found %v, err %v, want not found", found, err)
		}
	})
}

// TestTrackingLost checks that the cache is dropped, never trusted, while
// the tracking connection is down (killed by CLIENT KILL, or Redis
// stopped), and that changes made meanwhile are seen after it is back.
func TestTrackingLost(t *testing.T) {
	r := testenv.StartRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	prefix := newPrefix()
	s := instance(t, r.Addr, prefix, redis.Options{
		DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, MaxRetries: -1,
	})
	cacheIt := func(t *testing.T, code string) {
		t.Helper()
		if err := s.Login(ctx, code, session("o-"+code), time.Minute); err != nil {
			t.Fatal(err)
		}
		cacheGet(t, s, code)
	}

	t.Run("ClientKill", func(t *testing.T) {
		cacheIt(t, "k1")
		list, err := admin.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		var id string
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, "name=yibi-session-tracking") {
				id = strings.TrimPrefix(strings.Fields(line)[0], "id=")
			}
		}
		if id == "" {
			t.Fatalf("no tracking connection in CLIENT LIST:\n%s", list)
		}
		if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
			t.Fatal(err)
		}
		// The store retries after 50 ms; it notices the close at once.
		waitTracking(t, s, false)
		if n := s.CacheLen(); n != 0 {
			t.Errorf("cache after CLIENT KILL: got %d entries, want 0", n)
		}
		// Deleted behind the store's back, while it cannot hear of it.
		if err := admin.Del(ctx, prefix+"code:k1").Err(); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Get(ctx, "k1"); err != nil || found {
			t.Errorf("Get after kill and delete: got found %v, err %v, want not found", found, err)
		}
		waitTracking(t, s, true)
		cacheIt(t, "k2")
	})

	t.Run("RedisStopped", func(t *testing.T) {
		cacheIt(t, "k3")
		r.Stop()
		waitTracking(t, s, false)
		if n := s.CacheLen(); n != 0 {
			t.Errorf("cache with Redis down: got %d entries, want 0", n)
		}
		if _, _, err := s.Get(ctx, "k3"); !errors.Is(err, wxsession.ErrStoreUnavailable) {
			t.Errorf("Get with Redis down: got %v, want ErrStoreUnavailable", err)
		}
		r.Start() // empty: nothing is persisted
		waitTracking(t, s, true)
		if _, found, err := s.Get(ctx, "k3"); err != nil || found {
			t.Errorf("Get after restart: got found %v, err %v, want not found (the new server is empty)", found, err)
		}
		cacheIt(t, "k4")
	})
}

// TestCacheBounded checks that the cache holds at most CacheEntries
// sessions, and that sessions it dropped are still found in Redis.
func TestCacheBounded(t *testing.T) {
	r := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	ctx := context.Background()
	const entries, users = 100, 500
	s := redisstore.New(c, redisstore.Options{CacheEntries: entries})
	t.Cleanup(func() { s.Close(); c.Close() })
	waitTracking(t, s, true)
	for i := range users {
		code := fmt.Sprintf("c%d", i)
		if err := s.Login(ctx, code, session(fmt.Sprintf("o%d", i)), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, found, err := s.Get(ctx, code); err != nil || !found {
			t.Fatalf("Get(%s): got found %v, err %v, want found", code, found, err)
		}
		if n := s.CacheLen(); n > entries {
			t.Fatalf("after %d sessions: got %d cached, want at most %d", i+1, n, entries)
		}
	}
	// The logins' invalidations drop some of what was cached; once they
	// have arrived, reading every session again fills the cache to its cap.
	time.Sleep(20 * time.Millisecond)
	for i := range users {
		if _, found, err := s.Get(ctx, fmt.Sprintf("c%d", i)); err != nil || !found {
			t.Fatalf("Get(c%d) again: got found %v, err %v, want found", i, found, err)
		}
		if n := s.CacheLen(); n > entries {
			t.Fatalf("reading again: got %d cached, want at most %d", n, entries)
		}
	}
	if n := s.CacheLen(); n != entries {
		t.Errorf("cached after reading %d sessions: got %d, want %d", users, n, entries)
	}
}

// TestTrackingRefusedThenAccepted: a refusal that passes (here a password
// set while the tracking connection is down, so its HELLO is refused with
// NOAUTH until the password is cleared again) turns the cache off with one
// warning, and the store keeps trying: tracking comes back on its own.
func TestTrackingRefusedThenAccepted(t *testing.T) {
	r := testenv.StartRedis(t)
	admin := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, PoolSize: 1})
	t.Cleanup(func() { admin.Close() })
	ctx := context.Background()
	logs := &testenv.Buffer{}
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(func() { s.Close(); c.Close() })
	waitTracking(t, s, true)

	// admin's one connection stays authenticated across CONFIG SET.
	if err := admin.ConfigSet(ctx, "requirepass", "rotating").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "KILL", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	waitTracking(t, s, false)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "refused client tracking") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning for the refusal; logs:\n%s", logs)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // several retries, all refused
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("got %d warnings for one refusal, want 1:\n%s", n, logs)
	}
	if err := admin.ConfigSet(ctx, "requirepass", "").Err(); err != nil {
		t.Fatal(err)
	}
	waitTracking(t, s, true)
}

// TestNoTrackingServer: a server that does not know HELLO (Redis before
// 6, a proxy) leaves the store without a cache, says so once, and does not
// try again.
func TestNoTrackingServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var dials atomic.Int32
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			dials.Add(1)
			go func() {
				defer conn.Close()
				r := bufio.NewReader(conn)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					// Answer every command of a request (an array) as an old Redis would.
					if strings.HasPrefix(line, "*") {
						conn.Write([]byte("-ERR unknown command 'HELLO'\r\n"))
					}
				}
			}()
		}
	}()
	logs := &testenv.Buffer{}
	c := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	s := redisstore.New(c, redisstore.Options{Prefix: newPrefix(), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	t.Cleanup(func() { s.Close(); c.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "cannot track keys") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning; logs:\n%s", logs)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if s.Tracking() || s.CacheLen() != 0 {
		t.Errorf("Tracking() %v with %d cached, want off and empty", s.Tracking(), s.CacheLen())
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("got %d tracking dials, want 1 (no retry after an unsupported server)", n)
	}
}
