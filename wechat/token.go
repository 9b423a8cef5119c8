package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of TokenSource.
var (
	// ErrTokenStore wraps a fault of the Store: no token is fetched
	// around a broken store (see Store).
	ErrTokenStore = errors.New("wechat: token store")
	// ErrTokenBusy is returned when another instance holds the refresh
	// lock for longer than TokenOptions.LockWait and no valid token
	// appeared meanwhile.
	ErrTokenBusy = errors.New("wechat: access token refresh in progress elsewhere")
	// ErrForceRefreshBudget is returned instead of a force_refresh that
	// WeChat would not honour: at most 20 a day (Beijing time), 30 s apart.
	ErrForceRefreshBudget = errors.New("wechat: force_refresh budget spent")
)

// WeChat's force_refresh budget for stable_token.
const (
	ForceRefreshPerDay = 20
	ForceRefreshGap    = 30 * time.Second
)

// beijing is WeChat's day boundary for daily quotas (UTC+8, no DST).
var beijing = time.FixedZone("CST", 8*3600)

// TokenOptions configures a TokenSource. Every zero field takes its default.
type TokenOptions struct {
	// Store holds the token shared by every instance; default a new
	// MemoryStore (no sharing beyond this TokenSource).
	Store Store
	// Legacy fetches tokens from GET /cgi-bin/token instead of POST
	// /cgi-bin/stable_token. Each legacy fetch invalidates the token
	// every other holder has (errcode 40001): use it only when every
	// holder of the app's token goes through one shared Store.
	Legacy bool
	// KeyPrefix prefixes the Store keys; default "wechat:token:". The keys
	// are KeyPrefix + appid + ":stable" or ":legacy", then ":lock" and
	// ":force" (the force_refresh budget).
	KeyPrefix string
	// RefreshBefore is how long before its expiry a token is renewed;
	// default 2 minutes. stable_token renews in the last 5 minutes of a
	// token's life, so anything under 5 minutes gets a new token.
	RefreshBefore time.Duration
	// LockWait bounds how long a caller waits for another instance's
	// refresh when it has no valid token; default 5 s.
	LockWait time.Duration
	// LockTTL is how long a refresh lock lives if its holder dies;
	// default 30 s (longer than a fetch may take).
	LockTTL time.Duration
	// StoreTimeout bounds each Store call; default 2 s.
	StoreTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// TokenStats counts what a TokenSource asked of WeChat, for metrics.
type TokenStats struct {
	// Fetches is every token request sent to WeChat, forced ones included.
	Fetches int64
	// ForceRefreshes is the stable_token requests with force_refresh.
	ForceRefreshes int64
	// ForceRefreshDenied is the force_refreshes not sent because the
	// budget was spent (ErrForceRefreshBudget).
	ForceRefreshDenied int64
}

// TokenSource gives the access token of one app. It keeps the token in
// its Store, shared with every TokenSource of the app that uses the same
// Store; renews it ahead of expiry, one instance at a time (a lock in the
// Store); and, when WeChat refuses a token, fetches a fresh one once for
// all the calls that saw the refusal. Every Token reads the Store (one
// GET with Redis) and keeps no copy, so a token another instance replaced
// is not used again. It is safe for concurrent use.
type TokenSource struct {
	c    *Client
	opts TokenOptions
	key  string

	fetches, forced, denied atomic.Int64

	mu     sync.Mutex
	flight *tokenFlight
}

// tokenFlight is one refresh that concurrent callers of this process
// share.
type tokenFlight struct {
	bad   string // the refused token the refresh replaces ("" = none)
	done  chan struct{}
	token string
	err   error
}

// storedToken is the Store's value.
type storedToken struct {
	Token   string `json:"t"`
	Expires int64  `json:"exp"` // unix milliseconds
}

// NewTokenSource returns a TokenSource fetching tokens with c's app id,
// secret, base URL and HTTP client (c must not be nil). Set c.Tokens to it to let c's calls
// use it.
func NewTokenSource(c *Client, opts TokenOptions) *TokenSource {
	if opts.Store == nil {
		opts.Store = NewMemoryStore()
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = "wechat:token:"
	}
	if opts.RefreshBefore <= 0 {
		opts.RefreshBefore = 2 * time.Minute
	}
	if opts.LockWait <= 0 {
		opts.LockWait = 5 * time.Second
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = 30 * time.Second
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	kind := ":stable"
	if opts.Legacy {
		kind = ":legacy"
	}
	return &TokenSource{c: c, opts: opts, key: opts.KeyPrefix + c.AppID + kind}
}

// Stats returns the counters since the TokenSource was made.
func (ts *TokenSource) Stats() TokenStats {
	return TokenStats{Fetches: ts.fetches.Load(), ForceRefreshes: ts.forced.Load(), ForceRefreshDenied: ts.denied.Load()}
}

// Token returns a valid access token: the stored one, or a fresh one when
// it is missing or about to expire. A token about to expire is still
// returned if it cannot be renewed right now.
func (ts *TokenSource) Token(ctx context.Context) (string, error) {
	cur, found, err := ts.load(ctx)
	if err != nil {
		return "", err
	}
	now := ts.opts.Now()
	if found && ts.fresh(cur, now) {
		return cur.Token, nil
	}
	tok, err := ts.refresh(ctx, "")
	if err != nil && found && now.Before(time.UnixMilli(cur.Expires)) && !errors.Is(err, ErrTokenStore) {
		return cur.Token, nil
	}
	return tok, err
}

// Refresh returns a token other than bad, which WeChat refused: the one
// another caller or instance stored meanwhile, else a fetched one. However
// many callers report the same bad token at once, this process fetches at
// most once, and the Store's lock keeps other instances from fetching too.
// When stable_token answers the refused token again, one force_refresh is
// made if the budget allows.
func (ts *TokenSource) Refresh(ctx context.Context, bad string) (string, error) {
	return ts.refresh(ctx, bad)
}

// Do calls fn with a token and, if WeChat refused that token (see
// TokenRejected), once more with a fresh one. WeChat refuses a token
// before doing anything, so the second call never repeats a paid one.
func (ts *TokenSource) Do(ctx context.Context, fn func(ctx context.Context, token string) error) error {
	tok, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	err = fn(ctx, tok)
	if !TokenRejected(err) {
		return err
	}
	tok, rerr := ts.Refresh(ctx, tok)
	if rerr != nil {
		return fmt.Errorf("wechat: renewing a refused access token: %w", rerr)
	}
	return fn(ctx, tok)
}

// ForceRefresh makes WeChat replace the app's stable token, invalidating
// the current one everywhere, for when it leaked. It fails with
// ErrForceRefreshBudget (and asks nothing of WeChat) when the budget of
// 20 a day, 30 s apart is spent; the budget is kept in the Store, so it
// holds for every instance together. Not available with Legacy tokens.
func (ts *TokenSource) ForceRefresh(ctx context.Context) (string, error) {
	if ts.opts.Legacy {
		return "", errors.New("wechat: force_refresh is a stable_token option; legacy tokens are new on every fetch")
	}
	unlock, err := ts.lock(ctx)
	if err != nil {
		return "", err
	}
	defer ts.unlock(unlock)
	return ts.forceLocked(ctx)
}

// fresh reports whether t is valid and not yet due for renewal at now.
func (ts *TokenSource) fresh(t storedToken, now time.Time) bool {
	return now.Before(time.UnixMilli(t.Expires).Add(-ts.opts.RefreshBefore))
}

// refresh runs or joins this process's refresh flight. A finished flight
// that produced bad again (it replaced an older token) is followed by one
// more.
func (ts *TokenSource) refresh(ctx context.Context, bad string) (string, error) {
	for range 3 {
		ts.mu.Lock()
		f := ts.flight
		if f == nil {
			f = &tokenFlight{bad: bad, done: make(chan struct{})}
			ts.flight = f
			// Detached from ctx: the callers joining this flight must not
			// fail because the first one gave up. LockTTL bounds it.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ts.opts.LockTTL)
			go func() {
				defer cancel()
				f.token, f.err = ts.refreshShared(fctx, bad)
				ts.mu.Lock()
				ts.flight = nil
				ts.mu.Unlock()
				close(f.done)
			}()
		}
		ts.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if f.err != nil || bad == "" || f.token != bad {
			return f.token, f.err
		}
	}
	return "", fmt.Errorf("%w: WeChat keeps refusing its own token", ErrUnavailable)
}

// refreshShared gets a token other than bad through the Store: the one
// another instance stored, or one fetched under the Store's lock.
func (ts *TokenSource) refreshShared(ctx context.Context, bad string) (string, error) {
	deadline := time.Now().Add(ts.opts.LockWait)
	for {
		cur, found, err := ts.load(ctx)
		if err != nil {
			return "", err
		}
		if found && cur.Token != bad && ts.fresh(cur, ts.opts.Now()) {
			return cur.Token, nil
		}
		unlock, ok, err := ts.tryLock(ctx)
		if err != nil {
			return "", err
		}
		if ok {
			defer ts.unlock(unlock)
			// Another instance may have stored a token between the read
			// above and the lock.
			cur, found, err := ts.load(ctx)
			if err != nil {
				return "", err
			}
			if found && cur.Token != bad && ts.fresh(cur, ts.opts.Now()) {
				return cur.Token, nil
			}
			return ts.fetchLocked(ctx, bad)
		}
		// Someone else refreshes: a token that is still valid serves
		// meanwhile; without one, wait for theirs.
		if found && cur.Token != bad && ts.opts.Now().Before(time.UnixMilli(cur.Expires)) {
			return cur.Token, nil
		}
		if time.Now().After(deadline) {
			return "", ErrTokenBusy
		}
		if err := pause(ctx); err != nil {
			return "", err
		}
	}
}

// lock takes the Store's lock, waiting at most LockWait.
func (ts *TokenSource) lock(ctx context.Context) (func(context.Context) error, error) {
	deadline := time.Now().Add(ts.opts.LockWait)
	for {
		unlock, ok, err := ts.tryLock(ctx)
		if err != nil || ok {
			return unlock, err
		}
		if time.Now().After(deadline) {
			return nil, ErrTokenBusy
		}
		if err := pause(ctx); err != nil {
			return nil, err
		}
	}
}

// pause waits a moment before the next look at the Store's lock: short,
// because a waiter holds up a caller, and polling because a Store need
// not offer notifications.
func pause(ctx context.Context) error {
	t := time.NewTimer(25 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrTokenBusy, ctx.Err())
	}
}

func (ts *TokenSource) tryLock(ctx context.Context) (func(context.Context) error, bool, error) {
	sctx, cancel := context.WithTimeout(ctx, ts.opts.StoreTimeout)
	defer cancel()
	unlock, ok, err := ts.opts.Store.TryLock(sctx, ts.key+":lock", ts.opts.LockTTL)
	if err != nil {
		return nil, false, fmt.Errorf("%w: lock: %w", ErrTokenStore, err)
	}
	return unlock, ok, nil
}

// unlock releases the lock; a failure leaves it to expire after LockTTL,
// which delays the next refresh but harms nothing.
func (ts *TokenSource) unlock(unlock func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), ts.opts.StoreTimeout)
	defer cancel()
	_ = unlock(ctx)
}

func (ts *TokenSource) load(ctx context.Context) (storedToken, bool, error) {
	sctx, cancel := context.WithTimeout(ctx, ts.opts.StoreTimeout)
	defer cancel()
	v, found, err := ts.opts.Store.Get(sctx, ts.key)
	if err != nil {
		return storedToken{}, false, fmt.Errorf("%w: get: %w", ErrTokenStore, err)
	}
	if !found {
		return storedToken{}, false, nil
	}
	var t storedToken
	if json.Unmarshal([]byte(v), &t) != nil || t.Token == "" {
		// Not ours (an older format, a hand edit): as good as none.
		return storedToken{}, false, nil
	}
	return t, true, nil
}

func (ts *TokenSource) save(ctx context.Context, t storedToken) error {
	ttl := time.UnixMilli(t.Expires).Sub(ts.opts.Now())
	if ttl <= 0 {
		return nil
	}
	b, _ := json.Marshal(t) // cannot fail: two plain fields
	sctx, cancel := context.WithTimeout(ctx, ts.opts.StoreTimeout)
	defer cancel()
	if err := ts.opts.Store.Set(sctx, ts.key, string(b), ttl); err != nil {
		return fmt.Errorf("%w: set: %w", ErrTokenStore, err)
	}
	return nil
}

// fetchLocked fetches a token and stores it; the lock is held. If
// stable_token answers the refused token again (WeChat still holds it
// valid for itself), a force_refresh is the only way to another.
func (ts *TokenSource) fetchLocked(ctx context.Context, bad string) (string, error) {
	t, err := ts.fetch(ctx, false)
	if err != nil {
		return "", err
	}
	if bad != "" && t.Token == bad && !ts.opts.Legacy {
		return ts.forceLocked(ctx)
	}
	if err := ts.save(ctx, t); err != nil {
		return "", err
	}
	return t.Token, nil
}

// forceBudget is the Store's record of force_refreshes.
type forceBudget struct {
	Day  string `json:"day"` // Beijing date
	N    int    `json:"n"`
	Last int64  `json:"last"` // unix milliseconds
}

// forceLocked spends one force_refresh if the budget allows; the lock is
// held, which makes the budget's read-modify-write safe.
func (ts *TokenSource) forceLocked(ctx context.Context) (string, error) {
	now := ts.opts.Now()
	key := ts.key + ":force"
	sctx, cancel := context.WithTimeout(ctx, ts.opts.StoreTimeout)
	v, found, err := ts.opts.Store.Get(sctx, key)
	cancel()
	if err != nil {
		return "", fmt.Errorf("%w: get: %w", ErrTokenStore, err)
	}
	var b forceBudget
	if found {
		_ = json.Unmarshal([]byte(v), &b) // garbage reads as an unspent budget
	}
	day := now.In(beijing).Format(time.DateOnly)
	if b.Day != day {
		b.N = 0
	}
	if since := now.Sub(time.UnixMilli(b.Last)); b.Last != 0 && since < ForceRefreshGap {
		ts.denied.Add(1)
		return "", fmt.Errorf("%w: the last one was %v ago, WeChat needs %v", ErrForceRefreshBudget, since.Round(time.Second), ForceRefreshGap)
	}
	if b.N >= ForceRefreshPerDay {
		ts.denied.Add(1)
		return "", fmt.Errorf("%w: %d today (Beijing time)", ErrForceRefreshBudget, b.N)
	}
	b = forceBudget{Day: day, N: b.N + 1, Last: now.UnixMilli()}
	raw, _ := json.Marshal(b) // cannot fail
	sctx, cancel = context.WithTimeout(ctx, ts.opts.StoreTimeout)
	err = ts.opts.Store.Set(sctx, key, string(raw), 48*time.Hour)
	cancel()
	if err != nil {
		// Not recorded, not spent: better than a force WeChat may refuse.
		return "", fmt.Errorf("%w: set: %w", ErrTokenStore, err)
	}
	t, err := ts.fetch(ctx, true)
	if err != nil {
		return "", err
	}
	if err := ts.save(ctx, t); err != nil {
		return "", err
	}
	return t.Token, nil
}

// fetch asks WeChat for a token.
func (ts *TokenSource) fetch(ctx context.Context, force bool) (storedToken, error) {
	ts.fetches.Add(1)
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	var path string
	var err error
	if ts.opts.Legacy {
		path = "/cgi-bin/token"
		q := url.Values{"grant_type": {"client_credential"}, "appid": {ts.c.AppID}, "secret": {ts.c.Secret}}
		err = ts.c.call(ctx, http.MethodGet, path, q, nil, &out)
	} else {
		path = "/cgi-bin/stable_token"
		if force {
			ts.forced.Add(1)
		}
		in := map[string]any{"grant_type": "client_credential", "appid": ts.c.AppID, "secret": ts.c.Secret, "force_refresh": force}
		err = ts.c.call(ctx, http.MethodPost, path, nil, in, &out)
	}
	if err != nil {
		return storedToken{}, err
	}
	if out.AccessToken == "" || out.ExpiresIn <= 0 {
		return storedToken{}, fmt.Errorf("%w: %w: %s: answer without access_token or expires_in", ErrUnavailable, ErrBadAnswer, path)
	}
	exp := ts.opts.Now().Add(time.Duration(out.ExpiresIn) * time.Second)
	return storedToken{Token: out.AccessToken, Expires: exp.UnixMilli()}, nil
}
