package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/mongo"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
	"github.com/yibi/yibi/wxsession/redisstore"
)

// Redis client timeouts used unless the URL sets its own (dial_timeout,
// read_timeout, write_timeout): a dead Redis must turn a request into a
// 503 in about a second, not hang it.
const (
	redisDialTimeout  = 2 * time.Second
	redisReadTimeout  = 2 * time.Second
	redisWriteTimeout = 2 * time.Second
)

// Bounds of the MongoDB connection attempts.
const (
	// mongoOpenTimeout bounds one attempt (ping and index check). The
	// store's own server selection timeout (2 s) usually ends it sooner.
	mongoOpenTimeout = 10 * time.Second
	mongoRetryMin    = 500 * time.Millisecond
	mongoRetryMax    = 5 * time.Second
)

// sessionBackend is the session store with what the server needs besides
// wxsession.Store: a ping for /readyz and a close.
type sessionBackend struct {
	store wxsession.Store
	redis redis.UniversalClient // nil for memory sessions
	kind  string                // "memory" or "redis", for the start-up log
	ping  func(context.Context) error
	close func() error
}

// openSessions builds the session store: Redis when RedisURL is set,
// else memory. go-redis connects lazily and reconnects by itself, so a
// Redis that is down at start is only logged.
func openSessions(cfg config.Config, logger *slog.Logger) (*sessionBackend, error) {
	if cfg.RedisURL == "" {
		m := memstore.New(memstore.WithCleanupInterval(time.Minute))
		return &sessionBackend{store: m, kind: "memory", ping: func(context.Context) error { return nil }, close: m.Close}, nil
	}
	client, err := redisClient(cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		logger.Warn("session store (Redis) does not answer at start; session requests get 503 until it does", "err", err)
	}
	entries, kind := cfg.SessionCacheEntries, "redis, tracked cache of "+strconv.Itoa(cfg.SessionCacheEntries)
	if _, cluster := client.(*redis.ClusterClient); cluster || entries == 0 {
		entries, kind = -1, "redis" // redisstore caches on a single node and Sentinel only
	}
	rs := redisstore.New(client, redisstore.Options{CacheEntries: entries, Logger: logger})
	return &sessionBackend{
		store: rs,
		redis: client,
		kind:  kind,
		ping:  func(ctx context.Context) error { return client.Ping(ctx).Err() },
		close: func() error { return errors.Join(rs.Close(), client.Close()) },
	}, nil
}

// SetRedisLogger sends go-redis's own log lines (connection pool dial
// failures and the like, which otherwise go to the standard logger as
// plain text) to logger at debug level; the failures that matter are
// logged by yibi itself. go-redis has one logger per process: main calls
// this once.
func SetRedisLogger(logger *slog.Logger) { redis.SetLogger(redisLog{logger}) }

type redisLog struct{ l *slog.Logger }

func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// redisClient builds a go-redis client from rawURL with go-redis's own URL
// syntax: a plain URL is one node; extra addr=host:port parameters make it
// a Cluster; a master_name parameter makes it Sentinel (the URL's hosts are
// the sentinels). Errors never quote the URL, which may hold a password.
func redisClient(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("server: redis_url does not parse")
	}
	q := u.Query()
	set := func(param string, field *time.Duration, def time.Duration) {
		if !q.Has(param) {
			*field = def
		}
	}
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("server: redis_url: %w", scrub(err, rawURL))
		}
		set("dial_timeout", &o.DialTimeout, redisDialTimeout)
		set("read_timeout", &o.ReadTimeout, redisReadTimeout)
		set("write_timeout", &o.WriteTimeout, redisWriteTimeout)
		return redis.NewFailoverClient(o), nil
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("server: redis_url: %w", scrub(err, rawURL))
		}
		set("dial_timeout", &o.DialTimeout, redisDialTimeout)
		set("read_timeout", &o.ReadTimeout, redisReadTimeout)
		set("write_timeout", &o.WriteTimeout, redisWriteTimeout)
		return redis.NewClusterClient(o), nil
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("server: redis_url: %w", scrub(err, rawURL))
		}
		set("dial_timeout", &o.DialTimeout, redisDialTimeout)
		set("read_timeout", &o.ReadTimeout, redisReadTimeout)
		set("write_timeout", &o.WriteTimeout, redisWriteTimeout)
		return redis.NewClient(o), nil
	}
}

// scrubbed is an error whose text has a secret removed (a parse error
// may quote the URL, password included).
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

func scrub(err error, secret string) error {
	return &scrubbed{msg: strings.ReplaceAll(err.Error(), secret, "REDACTED"), err: err}
}

// sqliteOpen opens the SQLite paint store.
func sqliteOpen(path string) (paint.Store, error) { return sqlite.Open(path) }

// openMongo opens the MongoDB paint store. If MongoDB does not answer,
// the returned store answers paint.ErrUnavailable and keeps trying to
// connect in the background until it does (or is closed).
func openMongo(cfg config.Config, logger *slog.Logger) paint.Store {
	open := func(ctx context.Context) (paint.Store, error) {
		return mongo.Open(ctx, cfg.MongoURI, cfg.MongoDatabase)
	}
	l := &lazyPaints{log: logger, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), mongoOpenTimeout)
	st, err := open(ctx)
	cancel()
	if err == nil {
		l.store = st
		l.cancel = func() {}
		close(l.done)
		return l
	}
	logger.Warn("paint store (MongoDB) cannot be opened at start; paint requests get 503 while it retries in the background", "err", err)
	ctx, l.cancel = context.WithCancel(context.Background())
	go l.connect(ctx, open)
	return l
}

// errNotConnected answers paint calls before the store could be opened.
var errNotConnected = fmt.Errorf("server: paint store not connected yet: %w", paint.ErrUnavailable)

// lazyPaints is a paint.Store whose real store may be opened after start.
// Once open, the real store (the MongoDB driver) handles reconnects
// itself.
type lazyPaints struct {
	log    *slog.Logger
	mu     sync.RWMutex
	store  paint.Store // nil until opened
	cancel context.CancelFunc
	done   chan struct{} // closed when connect has returned
}

var _ paint.Store = (*lazyPaints)(nil)

func (l *lazyPaints) connect(ctx context.Context, open func(context.Context) (paint.Store, error)) {
	defer close(l.done)
	wait := mongoRetryMin
	for attempt := 2; ; attempt++ {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, mongoOpenTimeout)
		st, err := open(actx)
		cancel()
		if err == nil {
			l.mu.Lock()
			l.store = st
			l.mu.Unlock()
			l.log.Info("paint store (MongoDB) connected", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		l.log.Debug("paint store (MongoDB) still unavailable", "attempt", attempt, "err", err)
		wait = min(2*wait, mongoRetryMax)
	}
}

func (l *lazyPaints) get() (paint.Store, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.store == nil {
		return nil, errNotConnected
	}
	return l.store, nil
}

func (l *lazyPaints) List(ctx context.Context, openID string, page paint.Page, fn func(paint.Paint) error) error {
	st, err := l.get()
	if err != nil {
		return err
	}
	return st.List(ctx, openID, page, fn)
}

func (l *lazyPaints) Get(ctx context.Context, openID, id string) (paint.Paint, error) {
	st, err := l.get()
	if err != nil {
		return paint.Paint{}, err
	}
	return st.Get(ctx, openID, id)
}

func (l *lazyPaints) Save(ctx context.Context, p paint.Paint, lim paint.Limits) (bool, error) {
	st, err := l.get()
	if err != nil {
		return false, err
	}
	return st.Save(ctx, p, lim)
}

func (l *lazyPaints) Append(ctx context.Context, openID, id string, rev int64, actions string, now time.Time, lim paint.Limits) (int64, error) {
	st, err := l.get()
	if err != nil {
		return 0, err
	}
	return st.Append(ctx, openID, id, rev, actions, now, lim)
}

func (l *lazyPaints) Delete(ctx context.Context, openID, id string) error {
	st, err := l.get()
	if err != nil {
		return err
	}
	return st.Delete(ctx, openID, id)
}

func (l *lazyPaints) Ping(ctx context.Context) error {
	st, err := l.get()
	if err != nil {
		return err
	}
	return st.Ping(ctx)
}

// Close stops the background attempts and closes the store if open.
func (l *lazyPaints) Close() error {
	l.cancel()
	<-l.done
	l.mu.Lock()
	st := l.store
	l.store = nil
	l.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.Close()
}

var _ paint.ShareStore = (*lazyPaints)(nil)

func (l *lazyPaints) shares() (paint.ShareStore, error) {
	st, err := l.get()
	if err != nil {
		return nil, err
	}
	sh, ok := st.(paint.ShareStore)
	if !ok {
		return nil, fmt.Errorf("server: paint store %T keeps no share links", st)
	}
	return sh, nil
}

func (l *lazyPaints) Share(ctx context.Context, openID, id string, paintCreated time.Time, token string) (paint.Share, error) {
	st, err := l.shares()
	if err != nil {
		return paint.Share{}, err
	}
	return st.Share(ctx, openID, id, paintCreated, token)
}

func (l *lazyPaints) Unshare(ctx context.Context, openID, id string) error {
	st, err := l.shares()
	if err != nil {
		return err
	}
	return st.Unshare(ctx, openID, id)
}

func (l *lazyPaints) Shared(ctx context.Context, token string) (paint.Share, error) {
	st, err := l.shares()
	if err != nil {
		return paint.Share{}, err
	}
	return st.Shared(ctx, token)
}
