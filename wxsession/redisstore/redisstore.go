// Package redisstore is a wxsession.Store on Redis, through go-redis v9's
// UniversalClient: a single node, Sentinel (a failover client) or Cluster.
//
// Keys, with the default prefix:
//
//	weapp-session:code:<code>      → the session as JSON (user, session key, creation time)
//	weapp-session:openid:<openId>  → the user's live code
//	weapp-session:exchange:<code>  → WeChat's answer for the code, as JSON (SaveExchange)
//	weapp-session:token:<hash>     → a v2 session (see tokens.go)
//	weapp-session:tokens:{<openId>} → the user's v2 sessions
//
// The first two expire with the session's TTL (PX), the third after the
// code's lifetime. Codes and openIds live in
// separate namespaces, so a client that sends an openId as X-WX-Code
// finds nothing.
//
// On a single node or behind Sentinel, Login is one Lua script (EVALSHA,
// falling back to EVAL when the server does not have it cached): it reads
// the openId's old code, deletes that code, and sets both keys, atomically.
//
// In Cluster mode the two keys of a session hash to different slots (the
// code key is found from the code alone, the openId key from the openId
// alone, so no hash tag can join them) and no script may touch both.
// Login then runs an ordered sequence instead: SET the new code key; swap
// the openId key to the new code with SET … GET; DEL the old code it held.
// Guarantees there: the openId key only ever points to a code key that
// was written; after concurrent logins of one user finish, exactly one of
// their codes is live (each swap deletes the code it replaced); but for
// the few milliseconds between the swap and the DEL the old code still
// works, and if the client fails between the two (a timeout, a node
// failover) the old code stays valid until its TTL runs out.
//
// # Local cache
//
// With a single-node or Sentinel client (*redis.Client), Get serves
// sessions from a cache in the process, which Redis keeps fresh: the store
// opens one extra connection in RESP3 with CLIENT TRACKING on in broadcast
// mode for its prefix (Redis ≥ 6), and Redis pushes on it the name of every
// key under the prefix that any client changes, deletes, or that expires or
// is evicted. A goroutine blocks reading that connection and drops each
// named key from the cache as its push arrives. So a re-login, logout or
// expiry on any instance is refused on every other one within about a
// millisecond (measured in the tests); Login and Delete drop what they
// changed from their own cache before returning.
//
// The cache is used only while that connection is up. When it breaks
// (Redis stopped, CLIENT KILL, a failover; or no PONG within 2 s), the
// cache is emptied and every Get asks Redis until tracking is on again on
// a new connection, which starts from an empty cache. A session read from
// Redis is cached with the key's remaining TTL (PTTL, read in the same
// round trip), so an entry is never served past its expiry, even before
// Redis reports it. A read that an invalidation of its key overtook is not
// cached. Options.CacheEntries bounds the number of entries (a full cache
// drops an arbitrary entry). Tracking in broadcast mode covers every
// database number, so any redis_url works. Redis before 6 (no HELLO 3 or
// CLIENT TRACKING) leaves the store without a cache, as does Cluster, where
// the keys are spread over nodes.
package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
)

// DefaultPrefix is the key prefix of the 2016 server.
const DefaultPrefix = "weapp-session:"

// Options configures a Store.
type Options struct {
	// Prefix starts every key; default DefaultPrefix ("weapp-session:").
	Prefix string

	// CacheEntries bounds the local cache of sessions (see the package
	// doc); default DefaultCacheEntries. Negative turns the cache off:
	// every Get asks Redis.
	CacheEntries int

	// Logger receives a warning when Redis refuses client tracking, so
	// that the cache is off; default slog.Default().
	Logger *slog.Logger
}

// Store is a Redis wxsession.Store. Build it with New; it is safe for
// concurrent use. Its errors wrap wxsession.ErrStoreUnavailable when Redis
// failed (down, timeout), so the middleware answers 503 at once; bound
// that time with the client's DialTimeout, ReadTimeout and MaxRetries.
type Store struct {
	client     redis.UniversalClient
	codePrefix string
	openPrefix string
	exchPrefix string
	cluster    bool

	// v2 sessions: see tokens.go.
	tokenPrefix, tokensPrefix string

	// cache and tracker are nil without a local cache (Cluster, or
	// CacheEntries < 0).
	cache   *cache
	tracker *tracker
}

var _ wxsession.Store = (*Store)(nil)

// New returns a store using client, which the caller keeps and closes.
// With a single-node or Sentinel client (*redis.Client) and CacheEntries
// not negative, it also opens a tracking connection for the local cache;
// Close closes it.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	_, cluster := client.(*redis.ClusterClient)
	s := &Store{
		client:     client,
		codePrefix: opts.Prefix + "code:",
		openPrefix: opts.Prefix + "openid:",
		exchPrefix: opts.Prefix + "exchange:",
		cluster:    cluster,

		tokenPrefix:  opts.Prefix + "token:",
		tokensPrefix: opts.Prefix + "tokens:",
	}
	if c, ok := client.(*redis.Client); ok && opts.CacheEntries >= 0 {
		if opts.CacheEntries == 0 {
			opts.CacheEntries = DefaultCacheEntries
		}
		s.cache = newCache(opts.CacheEntries)
		if opts.Logger == nil {
			opts.Logger = slog.Default()
		}
		s.tracker = newTracker(c, opts.Prefix, s.cache, opts.Logger)
	}
	return s
}

// Close closes the tracking connection and empties the cache; Gets then
// ask Redis. It does not close the client.
func (s *Store) Close() error {
	if s.tracker != nil {
		s.tracker.close()
	}
	return nil
}

// Tracking reports whether the local cache is in use: the tracking
// connection is up and Redis is pushing invalidations on it.
func (s *Store) Tracking() bool { return s.tracker != nil && s.tracker.up.Load() }

// CacheLen counts the sessions cached in this process (for tests and
// metrics).
func (s *Store) CacheLen() int {
	if s.cache == nil {
		return 0
	}
	return s.cache.len()
}

// loginScript is Login on a single node. KEYS: the new code key, the
// openId key. ARGV: the session JSON, the TTL in ms, the code, the code
// key prefix. It returns the code it revoked, or "". The old code key is built inside the script, which a
// single node allows (Cluster would not: see the package doc).
var loginScript = redis.NewScript(`
local old = redis.call('GET', KEYS[2])
if old and old ~= ARGV[3] then
	redis.call('DEL', ARGV[4] .. old)
else
	old = ''
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return old
`)

// unlinkScript deletes KEYS[1] if it holds ARGV[1]: the openId key, when
// it still points to the code being deleted. One key, so Cluster-safe.
var unlinkScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// unavailable wraps a Redis error for op.
func unavailable(op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w: %w", op, wxsession.ErrStoreUnavailable, err)
}

// Get implements wxsession.Store: from the local cache when it holds the
// code, else from Redis.
func (s *Store) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	return cachedGet(ctx, s, s.codePrefix+code, decodeSession, cloneSession)
}

func decodeSession(v []byte) (wxsession.Session, error) {
	var sess wxsession.Session
	if err := json.Unmarshal(v, &sess); err != nil {
		return wxsession.Session{}, fmt.Errorf("redisstore: get: decode session: %w", err)
	}
	return sess, nil
}

// cloneSession copies what the cache keeps and callers may change: the
// map of a user's extra fields.
func cloneSession(sess wxsession.Session) wxsession.Session {
	if sess.User.Extra != nil {
		extra := make(map[string]json.RawMessage, len(sess.User.Extra))
		for k, v := range sess.User.Extra {
			extra[k] = bytes.Clone(v)
		}
		sess.User.Extra = extra
	}
	return sess
}

// cachedGet reads the string value of key, decoded, through the local
// cache (see cachedRead).
func cachedGet[V any](ctx context.Context, s *Store, key string, decode func([]byte) (V, error), clone func(V) V) (V, bool, error) {
	answer := func(get *redis.StringCmd) (V, bool, error) {
		var zero V
		b, err := get.Bytes()
		if errors.Is(err, redis.Nil) {
			return zero, false, nil
		}
		if err != nil {
			return zero, false, unavailable("get", err)
		}
		v, err := decode(b)
		return v, err == nil, err
	}
	if s.cache == nil { // Cluster, or no cache: one GET, no pipeline
		return answer(s.client.Get(ctx, key))
	}
	return cachedRead(ctx, s, key, func(p redis.Pipeliner) func() (V, bool, error) {
		get := p.Get(ctx, key)
		return func() (V, bool, error) { return answer(get) }
	}, clone)
}

// cachedRead reads key through the local cache. queue adds the commands
// that read the key to a pipeline and returns what decodes their answers
// once it has run (found false: no such key). On a miss the key is read
// with its remaining TTL in one round trip and the value cached until
// then, unless the key was invalidated or the tracking connection lost
// while it was being read. Callers get clones.
func cachedRead[V any](ctx context.Context, s *Store, key string, queue func(redis.Pipeliner) func() (V, bool, error), clone func(V) V) (V, bool, error) {
	var zero V
	var t fillTicket
	if s.cache != nil {
		if v, ok := s.cache.get(key, time.Now()); ok {
			return clone(v.(V)), true, nil
		}
		t = s.cache.begin(key)
	}
	start := time.Now()
	var answer func() (V, bool, error)
	var pttl *redis.DurationCmd
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		answer = queue(p)
		if t.ok {
			pttl = p.PTTL(ctx, key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return zero, false, unavailable("get", err)
	}
	v, found, err := answer()
	if err != nil || !found || !t.ok {
		return v, found, err
	}
	// PTTL is -1 for a key without expiry and -2 for one that is gone
	// (it expired between the two commands): cache neither's value past
	// what Redis said.
	switch d := pttl.Val(); {
	case d > 0:
		s.cache.fill(key, t, v, start.Add(d))
	case d == -1:
		s.cache.fill(key, t, v, time.Unix(0, math.MaxInt64))
	}
	return clone(v), true, nil
}

// forget drops keys this store just changed from the local cache, so that
// this process reads its own writes at once; the invalidations Redis
// pushes for them arrive a little later and tell the other processes.
func (s *Store) forget(keys ...string) {
	if s.cache == nil {
		return
	}
	for _, k := range keys {
		s.cache.invalidate(k)
	}
}

// Login implements wxsession.Store; see the package doc for its atomicity
// on a single node and its guarantees on Cluster.
func (s *Store) Login(ctx context.Context, code string, sess wxsession.Session, ttl time.Duration) error {
	ms := ttl.Milliseconds()
	if ms <= 0 {
		return errors.New("redisstore: login: ttl must be at least 1ms")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = time.Now()
	}
	v, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("redisstore: login: encode session: %w", err)
	}
	codeKey, openKey := s.codePrefix+code, s.openPrefix+sess.User.OpenID
	if !s.cluster {
		old, err := loginScript.Run(ctx, s.client, []string{codeKey, openKey}, v, ms, code, s.codePrefix).Text()
		if err != nil {
			s.forget(codeKey)
			return unavailable("login", err)
		}
		s.forget(codeKey, s.codePrefix+old)
		return nil
	}
	ttl = time.Duration(ms) * time.Millisecond
	if err := s.client.Set(ctx, codeKey, v, ttl).Err(); err != nil {
		return unavailable("login", err)
	}
	old, err := s.client.SetArgs(ctx, openKey, code, redis.SetArgs{TTL: ttl, Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return unavailable("login", err)
	}
	if old != "" && old != code {
		if err := s.client.Del(ctx, s.codePrefix+old).Err(); err != nil {
			return unavailable("login: revoke old code", err)
		}
	}
	return nil
}

// Delete implements wxsession.Store: it deletes the code key, then the
// openId key if it still points to this code.
func (s *Store) Delete(ctx context.Context, code string) error {
	codeKey := s.codePrefix + code
	v, err := s.client.Get(ctx, codeKey).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return unavailable("delete", err)
	}
	err = s.client.Del(ctx, codeKey).Err()
	s.forget(codeKey) // even after an error: the DEL may have happened
	if err != nil {
		return unavailable("delete", err)
	}
	var sess wxsession.Session
	if err := json.Unmarshal(v, &sess); err != nil || sess.User.OpenID == "" {
		return nil // nothing to unlink; the openId key expires with its TTL
	}
	if err := unlinkScript.Run(ctx, s.client, []string{s.openPrefix + sess.User.OpenID}, code).Err(); err != nil {
		return unavailable("delete", err)
	}
	return nil
}

// SaveExchange implements wxsession.Store: one SET with PX, so it is the
// same on a single node and on Cluster.
func (s *Store) SaveExchange(ctx context.Context, code string, x wxsession.CodeExchange, ttl time.Duration) error {
	if ttl.Milliseconds() <= 0 {
		return errors.New("redisstore: save exchange: ttl must be at least 1ms")
	}
	v, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("redisstore: save exchange: encode: %w", err)
	}
	if err := s.client.Set(ctx, s.exchPrefix+code, v, ttl).Err(); err != nil {
		return unavailable("save exchange", err)
	}
	return nil
}

// GetExchange implements wxsession.Store.
func (s *Store) GetExchange(ctx context.Context, code string) (wxsession.CodeExchange, bool, error) {
	v, err := s.client.Get(ctx, s.exchPrefix+code).Bytes()
	if errors.Is(err, redis.Nil) {
		return wxsession.CodeExchange{}, false, nil
	}
	if err != nil {
		return wxsession.CodeExchange{}, false, unavailable("get exchange", err)
	}
	var x wxsession.CodeExchange
	if err := json.Unmarshal(v, &x); err != nil {
		return wxsession.CodeExchange{}, false, fmt.Errorf("redisstore: get exchange: decode: %w", err)
	}
	return x, true, nil
}
