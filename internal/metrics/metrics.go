// Package metrics exposes Yibi's Prometheus metrics: HTTP requests by route
// and status, logins by result, session and paint store operations, the
// WeChat code exchange, live sessions and rate-limit rejections.
//
// Metrics live in a Registry of their own (never the global one), so tests
// and several servers in one process do not collide.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wxsession"
)

// Metrics holds Yibi's collectors and the registry they are registered in.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	logins       *prometheus.CounterVec
	loginDur     *prometheus.HistogramVec
	storeOps     *prometheus.HistogramVec
	storeErrors  *prometheus.CounterVec
	exchangeDur  *prometheus.HistogramVec
	exchangeErrs *prometheus.CounterVec
	rejections   *prometheus.CounterVec
	paidCalls    prometheus.Counter
}

// New returns Metrics registered in a new registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yibi_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yibi_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yibi_logins_total",
			Help: `Logins by result: "ok" or the session error reason.`,
		}, []string{"result"}),
		loginDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yibi_login_duration_seconds",
			Help:    "Login latency (exchange, signature check and store write) by result.",
			Buckets: prometheus.DefBuckets,
		}, []string{"result"}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yibi_store_operation_duration_seconds",
			Help:    `Store operation latency by store ("session", "paint") and operation.`,
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"store", "op"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yibi_store_errors_total",
			Help: "Store operations that failed with a system error, by store and operation.",
		}, []string{"store", "op"}),
		exchangeDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "yibi_wechat_exchange_duration_seconds",
			Help:    `WeChat jscode2session latency by result ("ok", "errcode", "error").`,
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"result"}),
		exchangeErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yibi_wechat_exchange_errors_total",
			Help: `Failed WeChat exchanges by errcode ("none" for transport errors).`,
		}, []string{"errcode"}),
		paidCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "yibi_wechat_phone_paid_calls_total",
			Help: "Phone code exchanges WeChat answered with a number (each one is charged).",
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yibi_rate_limit_rejections_total",
			Help: `Logins refused by the rate limiter, by scope ("ip", "app").`,
		}, []string{"scope"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.logins, m.loginDur,
		m.storeOps, m.storeErrors, m.exchangeDur, m.exchangeErrs, m.rejections, m.paidCalls,
	)
	return m
}

// OnPaidCall counts one phone code exchange WeChat answered with a number:
// WeChat charges for each.
func (m *Metrics) OnPaidCall() { m.paidCalls.Inc() }

// WeChatTokens exports the access token source's counters: fetches and
// force_refresh calls (WeChat allows 20 a day), read when scraped.
func (m *Metrics) WeChatTokens(stats func() wechat.TokenStats) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "yibi_wechat_token_fetches_total",
			Help: "Access tokens fetched from WeChat by this process.",
		}, func() float64 { return float64(stats().Fetches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "yibi_wechat_token_force_refreshes_total",
			Help: "stable_token force_refresh calls by this process (WeChat allows 20 a day per app).",
		}, func() float64 { return float64(stats().ForceRefreshes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "yibi_wechat_token_force_refreshes_denied_total",
			Help: "force_refresh calls this process did not make because the day's budget or the 30 s gap did not allow them.",
		}, func() float64 { return float64(stats().ForceRefreshDenied) }),
	)
}

// Registry returns the registry the metrics are in, for registering more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format (/metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// RouteNone is the route label of a request the route table did not match.
const RouteNone = "none"

// MethodOther is the method label of every method not in knownMethods.
const MethodOther = "other"

// knownMethods are the methods that get a label of their own; any other
// method a client makes up is counted as MethodOther.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

// ObserveRequest records one answered request. Every label comes from a
// closed set, so that no client can grow the series (and /metrics) by
// making up methods or paths: method is one of the standard methods or
// MethodOther; route must be a pattern of the caller's route table, or ""
// for an unmatched request (RouteNone); code is the status code.
func (m *Metrics) ObserveRequest(method, route string, code int, d time.Duration) {
	if !knownMethods[method] {
		method = MethodOther
	}
	if route == "" {
		route = RouteNone
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// OnLogin records one login; its signature matches wxsession.Config.OnLogin.
func (m *Metrics) OnLogin(_ context.Context, result string, d time.Duration) {
	if result == "" {
		result = "error"
	}
	m.logins.WithLabelValues(result).Inc()
	m.loginDur.WithLabelValues(result).Observe(d.Seconds())
}

// OnReject counts one rate-limited login; its signature matches
// limit.Config.OnReject.
func (m *Metrics) OnReject(scope string) { m.rejections.WithLabelValues(scope).Inc() }

func (m *Metrics) observe(store, op string, start time.Time, err error) {
	m.storeOps.WithLabelValues(store, op).Observe(time.Since(start).Seconds())
	// A call its client gave up on (context cancelled) is the client's
	// choice, not a store fault.
	if err != nil && !errors.Is(err, context.Canceled) {
		m.storeErrors.WithLabelValues(store, op).Inc()
	}
}

// Exchanger returns next, recording its latency and its errors by errcode.
func (m *Metrics) Exchanger(next wxsession.Exchanger) wxsession.Exchanger { return &exchanger{next, m} }

type exchanger struct {
	next wxsession.Exchanger
	m    *Metrics
}

func (e *exchanger) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	start := time.Now()
	s, err := e.next.Exchange(ctx, code)
	result := "ok"
	if err != nil {
		result = "error"
		errcode := "none"
		var we *wechat.Error
		if errors.As(err, &we) {
			result, errcode = "errcode", strconv.Itoa(we.Code)
		}
		e.m.exchangeErrs.WithLabelValues(errcode).Inc()
	}
	e.m.exchangeDur.WithLabelValues(result).Observe(time.Since(start).Seconds())
	return s, err
}

// Counter is implemented by session stores that can count their live
// sessions cheaply.
type Counter interface {
	Len(ctx context.Context) (int, error)
}

// SessionStore returns next, recording each operation's latency and
// errors. If next implements Counter, a yibi_sessions_live gauge is
// registered that asks it at scrape time.
func (m *Metrics) SessionStore(next wxsession.Store) wxsession.Store {
	if c, ok := next.(Counter); ok {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "yibi_sessions_live",
			Help: "Live login sessions in the session store.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := c.Len(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	return &sessionStore{next, m}
}

type sessionStore struct {
	next wxsession.Store
	m    *Metrics
}

var _ wxsession.Store = (*sessionStore)(nil)

func (s *sessionStore) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	start := time.Now()
	v, found, err := s.next.Get(ctx, code)
	s.m.observe("session", "get", start, err)
	return v, found, err
}

func (s *sessionStore) Login(ctx context.Context, code string, v wxsession.Session, ttl time.Duration) error {
	start := time.Now()
	err := s.next.Login(ctx, code, v, ttl)
	s.m.observe("session", "login", start, err)
	return err
}

func (s *sessionStore) Delete(ctx context.Context, code string) error {
	start := time.Now()
	err := s.next.Delete(ctx, code)
	s.m.observe("session", "delete", start, err)
	return err
}

func (s *sessionStore) SaveExchange(ctx context.Context, code string, x wxsession.CodeExchange, ttl time.Duration) error {
	start := time.Now()
	err := s.next.SaveExchange(ctx, code, x, ttl)
	s.m.observe("session", "save_exchange", start, err)
	return err
}

func (s *sessionStore) GetExchange(ctx context.Context, code string) (wxsession.CodeExchange, bool, error) {
	start := time.Now()
	x, found, err := s.next.GetExchange(ctx, code)
	s.m.observe("session", "get_exchange", start, err)
	return x, found, err
}

// PaintStore returns next, recording each operation's latency and errors.
// ErrNotFound, ErrLimit, ErrQuota, ErrTooLarge, ErrNotArray and revision
// conflicts are answers, not faults, and a call its client gave up on (context
// cancelled) is the client's choice: none is counted as an error.
func (m *Metrics) PaintStore(next paint.Store) paint.Store { return &paintStore{next, m} }

type paintStore struct {
	next paint.Store
	m    *Metrics
}

var _ paint.Store = (*paintStore)(nil)

func paintFault(err error) error {
	var conflict *paint.ConflictError
	if errors.Is(err, paint.ErrNotFound) || errors.Is(err, paint.ErrLimit) || errors.Is(err, paint.ErrQuota) ||
		errors.Is(err, paint.ErrTooLarge) || errors.Is(err, paint.ErrNotArray) || errors.As(err, &conflict) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (p *paintStore) List(ctx context.Context, openID string, page paint.Page, fn func(paint.Paint) error) error {
	start := time.Now()
	// fn's own errors (a client's connection failing) are not the store's.
	var fnErr error
	err := p.next.List(ctx, openID, page, func(v paint.Paint) error { fnErr = fn(v); return fnErr })
	if fnErr != nil {
		p.m.observe("paint", "list", start, nil)
	} else {
		p.m.observe("paint", "list", start, paintFault(err))
	}
	return err
}

func (p *paintStore) Get(ctx context.Context, openID, id string) (paint.Paint, error) {
	start := time.Now()
	v, err := p.next.Get(ctx, openID, id)
	p.m.observe("paint", "get", start, paintFault(err))
	return v, err
}

func (p *paintStore) Save(ctx context.Context, v paint.Paint, lim paint.Limits) (bool, error) {
	start := time.Now()
	created, err := p.next.Save(ctx, v, lim)
	p.m.observe("paint", "save", start, paintFault(err))
	return created, err
}

func (p *paintStore) Append(ctx context.Context, openID, id string, rev int64, actions string, now time.Time, lim paint.Limits) (int64, error) {
	start := time.Now()
	v, err := p.next.Append(ctx, openID, id, rev, actions, now, lim)
	p.m.observe("paint", "append", start, paintFault(err))
	return v, err
}

func (p *paintStore) Delete(ctx context.Context, openID, id string) error {
	start := time.Now()
	err := p.next.Delete(ctx, openID, id)
	p.m.observe("paint", "delete", start, paintFault(err))
	return err
}

func (p *paintStore) Ping(ctx context.Context) error {
	start := time.Now()
	err := p.next.Ping(ctx)
	p.m.observe("paint", "ping", start, err)
	return err
}

func (p *paintStore) Close() error { return p.next.Close() }
