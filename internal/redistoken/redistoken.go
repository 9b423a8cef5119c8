// Package redistoken keeps WeChat's access token in Redis: a wechat.Store
// that lets every Yibi instance of an app share one token, and one lock
// so that one instance at a time refreshes it. It works with any
// redis.UniversalClient: a single node, Sentinel or Cluster (each key
// stands alone, so Cluster slots do not matter).
package redistoken

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wechat"
)

// Store is a wechat.Store in Redis.
type Store struct {
	client redis.UniversalClient
}

var _ wechat.Store = (*Store)(nil)

// New returns a Store on client. Keys are the caller's (see
// wechat.TokenOptions.KeyPrefix). Timeouts are client's and the
// TokenSource's (TokenOptions.StoreTimeout).
func New(client redis.UniversalClient) *Store { return &Store{client: client} }

// Get implements wechat.Store.
func (s *Store) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := s.client.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redistoken: get: %w", err)
	}
	return v, true, nil
}

// Set implements wechat.Store.
func (s *Store) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := s.client.Set(ctx, key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redistoken: set: %w", err)
	}
	return nil
}

// unlockScript deletes the lock only if it is still the caller's: a
// holder whose lock expired must not release its successor's.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// TryLock implements wechat.Store with SET NX PX and a random owner value.
func (s *Store) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	owner := wechat.LockOwner()
	ok, err := s.client.SetNX(ctx, key, owner, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redistoken: lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func(ctx context.Context) error {
		if err := unlockScript.Run(ctx, s.client, []string{key}, owner).Err(); err != nil {
			return fmt.Errorf("redistoken: unlock: %w", err)
		}
		return nil
	}, true, nil
}
