package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/yibi/yibi/wxsession"
)

// CreateToken implements wxsession.TokenStore. Its only error is ctx's.
func (s *Store) CreateToken(ctx context.Context, hash string, ts wxsession.TokenSession, max int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: create token: %w", err)
	}
	user, err := normalize(ts.User)
	if err != nil {
		return nil, fmt.Errorf("memstore: create token: encode user: %w", err)
	}
	ts.User = user
	openID := ts.User.OpenID
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[hash] = ts
	set := s.userTokens[openID]
	if set == nil {
		set = make(map[string]struct{})
		s.userTokens[openID] = set
	}
	set[hash] = struct{}{}
	// Expired sessions go first, then the oldest logins; the login being
	// created counts but is never a candidate, so a tie on CreatedAt
	// cannot evict it.
	now := s.now()
	type member struct {
		hash    string
		created time.Time
	}
	var live []member
	var evicted []string
	for h := range set {
		if h == hash {
			continue
		}
		t, ok := s.tokens[h]
		if !ok || !now.Before(t.ExpiresAt) {
			evicted = append(evicted, h)
			continue
		}
		live = append(live, member{h, t.CreatedAt})
	}
	slices.SortFunc(live, func(a, b member) int { return a.created.Compare(b.created) })
	for i := 0; i < len(live)+1-max; i++ {
		evicted = append(evicted, live[i].hash)
	}
	for _, h := range evicted {
		delete(s.tokens, h)
		delete(set, h)
	}
	// Reclaim other users' expired sessions a few at a time, as sweep
	// does for codes.
	n := sweepPerLogin
	for h, t := range s.tokens {
		if n--; n < 0 {
			break
		}
		if !now.Before(t.ExpiresAt) {
			delete(s.tokens, h)
			if set := s.userTokens[t.User.OpenID]; set != nil {
				delete(set, h)
				if len(set) == 0 {
					delete(s.userTokens, t.User.OpenID)
				}
			}
		}
	}
	return evicted, nil
}

// GetToken implements wxsession.TokenStore. Its only error is ctx's.
func (s *Store) GetToken(ctx context.Context, hash string) (wxsession.TokenSession, bool, error) {
	if err := ctx.Err(); err != nil {
		return wxsession.TokenSession{}, false, fmt.Errorf("memstore: get token: %w", err)
	}
	s.mu.RLock()
	ts, ok := s.tokens[hash]
	now := s.now()
	s.mu.RUnlock()
	if !ok || !now.Before(ts.ExpiresAt) {
		return wxsession.TokenSession{}, false, nil
	}
	return ts, true, nil
}

// TouchToken implements wxsession.TokenStore. Its only error is ctx's.
func (s *Store) TouchToken(ctx context.Context, hash string, expiresAt time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: touch token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ts, ok := s.tokens[hash]; ok && s.now().Before(ts.ExpiresAt) {
		ts.ExpiresAt = expiresAt
		s.tokens[hash] = ts
	}
	return nil
}

// DeleteToken implements wxsession.TokenStore. Its only error is ctx's.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ts, ok := s.tokens[hash]; ok {
		delete(s.tokens, hash)
		delete(s.userTokens[ts.User.OpenID], hash)
	}
	return nil
}

// DeleteUser implements wxsession.TokenStore. Its only error is ctx's.
func (s *Store) DeleteUser(ctx context.Context, openID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for h := range s.userTokens[openID] {
		delete(s.tokens, h)
	}
	delete(s.userTokens, openID)
	if code, ok := s.openIDs[openID]; ok {
		if e, ok := s.codes[code]; ok {
			s.remove(code, e)
		}
		delete(s.openIDs, openID)
	}
	return nil
}
