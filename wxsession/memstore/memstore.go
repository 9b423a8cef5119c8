// Package memstore is an in-process wxsession.Store: sessions live in
// this process's memory, so they are lost on restart and not shared
// between processes. Use it for development, tests and single-instance
// deployments; use redisstore otherwise.
//
// Expired sessions are invisible at once and their memory is reclaimed
// without a background goroutine: every Login examines a few entries and
// drops the expired ones, which keeps expired entries to a few percent of
// the map while logins happen. WithCleanupInterval adds a goroutine, stopped
// by Close, for stores whose logins may stop while memory matters.
package memstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/yibi/yibi/wxsession"
)

// sweepPerLogin is how many entries each Login examines for expiry. With
// k examined per login, at most about 1/k of the entries are expired ones
// in a steady state.
const sweepPerLogin = 16

// sweepPerTick bounds the entries one background sweep examines, so it
// never holds the lock for long.
const sweepPerTick = 8192

// Store is an in-memory wxsession.Store. Build it with New. It is safe
// for concurrent use.
type Store struct {
	mu      sync.RWMutex
	codes   map[string]entry  // login code → session
	openIDs map[string]string // openId → its live code (expires with it)
	// exchanges are codes' exchange results (see SaveExchange), apart
	// from the sessions.
	exchanges map[string]exchange
	// tokens are v2 sessions by token hash; userTokens each user's.
	tokens     map[string]wxsession.TokenSession
	userTokens map[string]map[string]struct{}
	now        func() time.Time

	interval  time.Duration
	closeOnce sync.Once
	stop      chan struct{}
	stopped   chan struct{}
}

// entry is one session: the user decoded, so that Get, which runs on
// every request with a session, copies a struct instead of parsing JSON
// (a few hundred nanoseconds instead of several microseconds); times as
// Unix nanoseconds. The decoded user takes no more memory than its JSON
// did: its strings without the JSON's field names.
type entry struct {
	user       wxsession.User // as its JSON encoding decodes: see normalize
	sessionKey string
	openID     string // the openIDs key, as Login got it
	created    int64
	expires    int64
}

// exchange is a code's exchange result and when it expires (Unix ns).
type exchange struct {
	x       wxsession.CodeExchange
	expires int64
}

var (
	_ wxsession.Store      = (*Store)(nil)
	_ wxsession.TokenStore = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithNow sets the clock; default time.Now. Tests use it to expire
// sessions without sleeping.
func WithNow(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithCleanupInterval starts a goroutine that drops expired sessions every
// d (examining at most a few thousand entries each time); Close stops it.
// Default: no goroutine, cleanup happens inside Login.
func WithCleanupInterval(d time.Duration) Option { return func(s *Store) { s.interval = d } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		codes:   make(map[string]entry),
		openIDs: make(map[string]string),

		exchanges:  make(map[string]exchange),
		tokens:     make(map[string]wxsession.TokenSession),
		userTokens: make(map[string]map[string]struct{}),
		now:        time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	if s.interval > 0 {
		s.stop, s.stopped = make(chan struct{}), make(chan struct{})
		go s.janitor()
	}
	return s
}

// Close stops the cleanup goroutine, if any, and waits for it to end. The
// store stays usable. Close is idempotent and always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			close(s.stop)
			<-s.stopped
		}
	})
	return nil
}

func (s *Store) janitor() {
	defer close(s.stopped)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			s.sweep(sweepPerTick)
			s.mu.Unlock()
		}
	}
}

// sweep examines up to n entries, starting where Go's map iteration
// happens to start (a random place), and drops the expired ones. Callers
// hold s.mu for writing.
func (s *Store) sweep(n int) {
	now := s.now().UnixNano()
	for code, e := range s.codes {
		if n--; n < 0 {
			return
		}
		if e.expires <= now {
			s.remove(code, e)
		}
	}
}

// remove drops code and its openId pointer if it still points to code.
// Callers hold s.mu for writing.
func (s *Store) remove(code string, e entry) {
	delete(s.codes, code)
	if p, ok := s.openIDs[e.openID]; ok && p == code {
		delete(s.openIDs, e.openID)
	}
}

// Get implements wxsession.Store. Its only error is ctx's.
func (s *Store) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	if err := ctx.Err(); err != nil {
		return wxsession.Session{}, false, fmt.Errorf("memstore: get: %w", err)
	}
	s.mu.RLock()
	e, ok := s.codes[code]
	now := s.now().UnixNano()
	s.mu.RUnlock()
	if !ok || e.expires <= now {
		return wxsession.Session{}, false, nil
	}
	sess := wxsession.Session{User: e.user, SessionKey: e.sessionKey, CreatedAt: time.Unix(0, e.created)}
	if e.user.Extra != nil {
		// Callers own what Get returns; the stored map stays the store's.
		sess.User.Extra = make(map[string]json.RawMessage, len(e.user.Extra))
		for k, v := range e.user.Extra {
			sess.User.Extra[k] = bytes.Clone(v)
		}
	}
	return sess, true, nil
}

// normalize returns u as Get must give it back: the user its JSON encoding
// decodes to, which is what callers got when this store kept the JSON.
// Users without Extra fields and with valid UTF-8 strings (every user the
// middleware stores from a login) are that already, and skip the round
// trip; the others (Extra fields may shadow typed ones, and encoding turns
// invalid UTF-8 into U+FFFD) take it.
func normalize(u wxsession.User) (wxsession.User, error) {
	if len(u.Extra) == 0 && validUTF8(&u) {
		u.Extra = nil
		return u, nil
	}
	b, err := u.MarshalJSON()
	if err != nil {
		return wxsession.User{}, err
	}
	var n wxsession.User
	if err := n.UnmarshalJSON(b); err != nil {
		return wxsession.User{}, err
	}
	return n, nil
}

func validUTF8(u *wxsession.User) bool {
	for _, s := range [...]string{u.OpenID, u.UnionID, u.NickName, u.AvatarURL, u.Language, u.City, u.Province, u.Country} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// errTTL is returned by Login for a ttl that is not positive.
var errTTL = errors.New("memstore: ttl must be positive")

// Login implements wxsession.Store. It is atomic: everything happens under
// one lock.
func (s *Store) Login(ctx context.Context, code string, sess wxsession.Session, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: login: %w", err)
	}
	if ttl <= 0 {
		return errTTL
	}
	user, err := normalize(sess.User)
	if err != nil {
		return fmt.Errorf("memstore: login: encode user: %w", err)
	}
	openID := sess.User.OpenID
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	expires := now.Add(ttl).UnixNano()
	// One live code per user: revoke the openId's previous code.
	if p, ok := s.openIDs[openID]; ok && p != code {
		if old, ok := s.codes[p]; ok {
			s.remove(p, old)
		}
	}
	// The code may have been stored for another openId before (a code is
	// used once in real life, but stay consistent anyway).
	if prev, ok := s.codes[code]; ok && prev.openID != openID {
		s.remove(code, prev)
	}
	created := sess.CreatedAt
	if created.IsZero() {
		created = now
	}
	s.codes[code] = entry{
		user:       user,
		sessionKey: sess.SessionKey,
		openID:     openID,
		created:    created.UnixNano(),
		expires:    expires,
	}
	s.openIDs[openID] = code
	s.sweep(sweepPerLogin)
	return nil
}

// Delete implements wxsession.Store.
func (s *Store) Delete(ctx context.Context, code string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.codes[code]; ok {
		s.remove(code, e)
	}
	return nil
}

// Len returns the number of live sessions. It walks every entry under a
// read lock, so call it at metrics-scrape rates, not per request.
func (s *Store) Len(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: len: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now().UnixNano()
	n := 0
	for _, e := range s.codes {
		if e.expires > now {
			n++
		}
	}
	return n, nil
}

// Cap returns the number of entries held, live or expired but not yet
// reclaimed. Tests and diagnostics use it to watch memory reclamation.
func (s *Store) Cap() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.codes)
}

// SaveExchange implements wxsession.Store. Its errors are ctx's and a
// ttl that is not positive.
func (s *Store) SaveExchange(ctx context.Context, code string, x wxsession.CodeExchange, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: save exchange: %w", err)
	}
	if ttl <= 0 {
		return errTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UnixNano()
	s.exchanges[code] = exchange{x: x, expires: now + int64(ttl)}
	// Exchanges are made only by logins that found no session; examining
	// a few per save keeps the expired ones few, as sweep does for codes.
	n := sweepPerLogin
	for c, e := range s.exchanges {
		if n--; n < 0 {
			break
		}
		if e.expires <= now {
			delete(s.exchanges, c)
		}
	}
	return nil
}

// GetExchange implements wxsession.Store. Its only error is ctx's.
func (s *Store) GetExchange(ctx context.Context, code string) (wxsession.CodeExchange, bool, error) {
	if err := ctx.Err(); err != nil {
		return wxsession.CodeExchange{}, false, fmt.Errorf("memstore: get exchange: %w", err)
	}
	s.mu.RLock()
	e, ok := s.exchanges[code]
	now := s.now().UnixNano()
	s.mu.RUnlock()
	if !ok || e.expires <= now {
		return wxsession.CodeExchange{}, false, nil
	}
	return e.x, true, nil
}
