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
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	// v2 sessions: see tokens.go.
	tokenPrefix, tokensPrefix string
	cluster                   bool
}

var _ wxsession.Store = (*Store)(nil)

// New returns a store using client, which the caller keeps and closes.
func New(client redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	_, cluster := client.(*redis.ClusterClient)
	return &Store{
		client:     client,
		codePrefix: opts.Prefix + "code:",
		openPrefix: opts.Prefix + "openid:",
		exchPrefix: opts.Prefix + "exchange:",
		cluster:    cluster,

		tokenPrefix:  opts.Prefix + "token:",
		tokensPrefix: opts.Prefix + "tokens:",
	}
}

// loginScript is Login on a single node. KEYS: the new code key, the
// openId key. ARGV: the session JSON, the TTL in ms, the code, the code
// key prefix. The old code key is built inside the script, which a
// single node allows (Cluster would not: see the package doc).
var loginScript = redis.NewScript(`
local old = redis.call('GET', KEYS[2])
if old and old ~= ARGV[3] then
	redis.call('DEL', ARGV[4] .. old)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
return 1
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

// Get implements wxsession.Store.
func (s *Store) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	v, err := s.client.Get(ctx, s.codePrefix+code).Bytes()
	if errors.Is(err, redis.Nil) {
		return wxsession.Session{}, false, nil
	}
	if err != nil {
		return wxsession.Session{}, false, unavailable("get", err)
	}
	var sess wxsession.Session
	if err := json.Unmarshal(v, &sess); err != nil {
		return wxsession.Session{}, false, fmt.Errorf("redisstore: get: decode session: %w", err)
	}
	return sess, true, nil
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
		if err := loginScript.Run(ctx, s.client, []string{codeKey, openKey}, v, ms, code, s.codePrefix).Err(); err != nil {
			return unavailable("login", err)
		}
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
	if err := s.client.Del(ctx, codeKey).Err(); err != nil {
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
