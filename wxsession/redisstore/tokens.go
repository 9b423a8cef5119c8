package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
)

// v2 sessions (wxsession.TokenStore), with the default prefix:
//
//	weapp-session:token:<sha256 hex of the token>  → a hash: openId, user (JSON), sk (sealed session_key),
//	                                                 created, expires, deadline (Unix ns)
//	weapp-session:tokens:{<openId>}                → a sorted set of the user's token hashes by login time (ms)
//
// A token key expires at its session's idle expiry (PEXPIREAT, on Redis's
// clock); the set at the latest deadline of its members. Reading a
// session is one HGETALL of one key, which a client-side cache can track.
// The token itself and the session_key in clear are stored nowhere.
//
// A token key is found from the token alone, the user's set from the
// openId alone, so on Cluster they sit in different slots and no script
// may touch both: CreateToken, DeleteToken and DeleteUser are short
// sequences of single-key steps, each safe to repeat. The session cap is
// exact per user (one script on the set decides who goes); a session
// created while DeleteUser runs for the same user may survive it.

var _ wxsession.TokenStore = (*Store)(nil)

func (s *Store) tokenKey(hash string) string  { return s.tokenPrefix + hash }
func (s *Store) userKey(openID string) string { return s.tokensPrefix + "{" + openID + "}" }

// capScript adds a session to a user's set and evicts past the cap. KEYS:
// the user's set. ARGV: the hash, its login time (ms), the cap, the
// set's expiry (Unix ms), then hashes of sessions known to be gone.
// Returns the evicted hashes, never ARGV[1] itself.
var capScript = redis.NewScript(`
for i = 5, #ARGV do
	redis.call('ZREM', KEYS[1], ARGV[i])
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local out = {}
local n = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if n > 0 then
	-- The oldest n, never the login being added (it may tie on score).
	for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, n)) do
		if #out < n and h ~= ARGV[1] then
			table.insert(out, h)
		end
	end
	redis.call('ZREM', KEYS[1], unpack(out))
end
local at = tonumber(ARGV[4])
local pttl = redis.call('PTTL', KEYS[1])
local nowms = redis.call('TIME')
local cur = tonumber(nowms[1]) * 1000 + math.floor(tonumber(nowms[2]) / 1000) + pttl
if pttl < 0 or cur < at then
	redis.call('PEXPIREAT', KEYS[1], at)
end
return out
`)

// touchScript moves a live session's expiry. KEYS: the token key. ARGV:
// expires (Unix ns, the field), expires (Unix ms, the key's expiry).
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	redis.call('HSET', KEYS[1], 'expires', ARGV[1])
	redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 0
`)

// CreateToken implements wxsession.TokenStore.
func (s *Store) CreateToken(ctx context.Context, hash string, ts wxsession.TokenSession, max int) ([]string, error) {
	user, err := json.Marshal(ts.User)
	if err != nil {
		return nil, fmt.Errorf("redisstore: create token: encode user: %w", err)
	}
	key := s.tokenKey(hash)
	_, err = s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "openId", ts.User.OpenID, "user", user, "sk", ts.SealedSessionKey,
			"created", ts.CreatedAt.UnixNano(), "expires", ts.ExpiresAt.UnixNano(), "deadline", ts.Deadline.UnixNano())
		p.PExpireAt(ctx, key, ts.ExpiresAt)
		return nil
	})
	if err != nil {
		return nil, unavailable("create token", err)
	}
	uk := s.userKey(ts.User.OpenID)
	members, err := s.client.ZRange(ctx, uk, 0, -1).Result()
	if err != nil {
		return nil, unavailable("create token", err)
	}
	gone, err := s.gone(ctx, members)
	if err != nil {
		return nil, err
	}
	args := []any{hash, ts.CreatedAt.UnixMilli(), max, ts.Deadline.UnixMilli()}
	for _, h := range gone {
		args = append(args, h)
	}
	popped, err := capScript.Run(ctx, s.client, []string{uk}, args...).StringSlice()
	if err != nil {
		return nil, unavailable("create token", err)
	}
	if err := s.delTokens(ctx, popped); err != nil {
		return nil, err
	}
	return append(gone, popped...), nil
}

// gone returns those of hashes whose token key no longer exists.
func (s *Store) gone(ctx context.Context, hashes []string) ([]string, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.IntCmd, len(hashes))
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range hashes {
			cmds[i] = p.Exists(ctx, s.tokenKey(h))
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("create token", err)
	}
	var out []string
	for i, c := range cmds {
		if c.Val() == 0 {
			out = append(out, hashes[i])
		}
	}
	return out, nil
}

// delTokens deletes token keys one by one (they may sit on different
// Cluster nodes), in one pipeline.
func (s *Store) delTokens(ctx context.Context, hashes []string) error {
	if len(hashes) == 0 {
		return nil
	}
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = s.tokenKey(h)
	}
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	s.forget(keys...)
	if err != nil {
		return unavailable("delete tokens", err)
	}
	return nil
}

// GetToken implements wxsession.TokenStore: one HGETALL, through the
// local cache as Get is.
func (s *Store) GetToken(ctx context.Context, hash string) (wxsession.TokenSession, bool, error) {
	return cachedRead(ctx, s, s.tokenKey(hash), func(p redis.Pipeliner) func() (wxsession.TokenSession, bool, error) {
		all := p.HGetAll(ctx, s.tokenKey(hash))
		return func() (wxsession.TokenSession, bool, error) {
			m, err := all.Result()
			if err != nil {
				return wxsession.TokenSession{}, false, unavailable("get token", err)
			}
			if len(m) == 0 {
				return wxsession.TokenSession{}, false, nil
			}
			return decodeToken(m)
		}
	}, cloneToken)
}

// decodeToken reads a token key's hash fields.
func decodeToken(m map[string]string) (wxsession.TokenSession, bool, error) {
	var ts wxsession.TokenSession
	if err := json.Unmarshal([]byte(m["user"]), &ts.User); err != nil {
		return wxsession.TokenSession{}, false, fmt.Errorf("redisstore: get token: decode user: %w", err)
	}
	ts.SealedSessionKey = m["sk"]
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"created", &ts.CreatedAt}, {"expires", &ts.ExpiresAt}, {"deadline", &ts.Deadline}} {
		ns, err := strconv.ParseInt(m[f.name], 10, 64)
		if err != nil {
			return wxsession.TokenSession{}, false, fmt.Errorf("redisstore: get token: decode %s: %w", f.name, err)
		}
		*f.t = time.Unix(0, ns)
	}
	return ts, true, nil
}

// cloneToken copies what the cache keeps and callers may change.
func cloneToken(ts wxsession.TokenSession) wxsession.TokenSession {
	ts.User = cloneSession(wxsession.Session{User: ts.User}).User
	return ts
}

// TouchToken implements wxsession.TokenStore: one script on the token key.
func (s *Store) TouchToken(ctx context.Context, hash string, expiresAt time.Time) error {
	key := s.tokenKey(hash)
	err := touchScript.Run(ctx, s.client, []string{key}, expiresAt.UnixNano(), expiresAt.UnixMilli()).Err()
	s.forget(key) // even after an error: the script may have run
	if err != nil {
		return unavailable("touch token", err)
	}
	return nil
}

// DeleteToken implements wxsession.TokenStore: the token key, then its
// hash in the user's set.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	key := s.tokenKey(hash)
	openID, err := s.client.HGet(ctx, key, "openId").Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return unavailable("delete token", err)
	}
	err = s.client.Del(ctx, key).Err()
	s.forget(key)
	if err != nil {
		return unavailable("delete token", err)
	}
	if err := s.client.ZRem(ctx, s.userKey(openID), hash).Err(); err != nil {
		return unavailable("delete token", err)
	}
	return nil
}

// DeleteUser implements wxsession.TokenStore: every token key of the
// user's set, the set, then the v1 code the openId key points to.
func (s *Store) DeleteUser(ctx context.Context, openID string) error {
	uk := s.userKey(openID)
	hashes, err := s.client.ZRange(ctx, uk, 0, -1).Result()
	if err != nil {
		return unavailable("delete user", err)
	}
	if err := s.delTokens(ctx, hashes); err != nil {
		return err
	}
	if err := s.client.Del(ctx, uk).Err(); err != nil {
		return unavailable("delete user", err)
	}
	openKey := s.openPrefix + openID
	code, err := s.client.Get(ctx, openKey).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return unavailable("delete user", err)
	}
	err = s.client.Del(ctx, s.codePrefix+code).Err()
	s.forget(s.codePrefix + code)
	if err != nil {
		return unavailable("delete user", err)
	}
	if err := unlinkScript.Run(ctx, s.client, []string{openKey}, code).Err(); err != nil {
		return unavailable("delete user", err)
	}
	return nil
}
