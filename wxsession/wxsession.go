// Package wxsession is the session layer of a WeChat mini program backend:
// net/http middleware speaking the 2016 X-WX-Code / X-WX-RawData /
// X-WX-Signature header protocol.
//
// A request with only X-WX-Code is looked up in a Store; a request that
// also carries X-WX-RawData is a login: the code is exchanged with WeChat
// (jscode2session) for the user's openId and session_key, the signature of
// rawData is checked against session_key, and the session is stored. The
// business handler reads the user with FromContext. Failures are answered
// with the session error envelope (see WriteError) that the 2016 client
// understands.
//
// The package depends on the standard library alone (and on
// github.com/yibi/yibi/wechat, which does too). Stores live in
// subpackages: memstore (in process) and redisstore (Redis).
package wxsession

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yibi/yibi/wechat"
)

// Exchanger exchanges a login code for the user's openId and session_key
// (WeChat's jscode2session). *wechat.Client and the WeChat simulator
// satisfy it. A refusal by WeChat is a *wechat.Error; any other error means
// WeChat could not be asked or did not answer.
type Exchanger interface {
	Exchange(ctx context.Context, code string) (wechat.Session, error)
}

// Defaults and fixed limits.
const (
	// DefaultTTL is how long a session lives after its login (the 2016 default).
	DefaultTTL = 7200 * time.Second
	// DefaultExchangeTimeout bounds one code exchange with WeChat.
	DefaultExchangeTimeout = 5 * time.Second
	// DefaultMaxHeaderBytes bounds X-WX-RawData as sent (URI-encoded).
	// Real rawData is about 300 bytes before encoding, a few times that after.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultWeChatURL is WeChat's API server.
	DefaultWeChatURL = "https://api.weixin.qq.com"
	// MaxCodeBytes bounds X-WX-Code. WeChat's codes are 32 characters.
	MaxCodeBytes = 256
)

// Config configures the middleware. Only Store is always required.
type Config struct {
	// AppID and AppSecret identify the mini program to WeChat. Required
	// unless Exchanger is set or IgnoreSignature is true. AppSecret is
	// never logged.
	AppID, AppSecret string
	// WeChatURL is the base URL of WeChat's API; default DefaultWeChatURL.
	// Point it at the simulator in development and tests.
	WeChatURL string
	// Exchanger does the code exchange; default a *wechat.Client built
	// from AppID, AppSecret and WeChatURL.
	Exchanger Exchanger
	// Store keeps sessions. Required.
	Store Store
	// TTL is how long a session lives after its login; default DefaultTTL
	// (7200 s). Sessions are not extended by use, as in 2016.
	TTL time.Duration
	// ExchangeTimeout bounds a login's work on the caller's behalf: the
	// code exchange with WeChat, and the store calls made inside the
	// shared login (see Handler). Default DefaultExchangeTimeout (5 s).
	ExchangeTimeout time.Duration
	// Ignore, when set and true for a request, passes the request on
	// untouched: no headers are read, no user is set. Use it for static
	// files and health checks.
	Ignore func(*http.Request) bool
	// IgnoreSignature is a development switch: logins skip the code
	// exchange and the signature check, and the openId is
	// ("PSEUDO_OPENID_" + hexSHA1(avatarUrl))[0:28]. Never in production:
	// anyone can then log in as anyone.
	IgnoreSignature bool
	// MaxHeaderBytes bounds X-WX-RawData as sent (URI-encoded); a longer
	// header is answered 400. Default DefaultMaxHeaderBytes (16 KiB).
	// X-WX-Code is bounded by MaxCodeBytes; X-WX-Signature must be 40 hex
	// digits.
	MaxHeaderBytes int
	// Logger receives store and exchange failures, and logins at debug
	// level; default slog.Default(). Codes' contents, session_key and the
	// app secret are never logged.
	Logger *slog.Logger
	// OnLogin, when set, is called once per login request with its result
	// (ResultOK, a Reason*, ResultBadRequest or ResultStoreUnavailable)
	// and how long it took. It runs on the request's goroutine: keep it fast.
	OnLogin func(ctx context.Context, result string, d time.Duration)
}

// Middleware is the session layer. Build it with New; it is safe for
// concurrent use.
type Middleware struct {
	cfg     Config
	log     *slog.Logger
	flights flightGroup
}

// New checks cfg, fills in defaults and returns the middleware.
// Errors wrap ErrConfig.
func New(cfg Config) (*Middleware, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if cfg.TTL < 0 || cfg.ExchangeTimeout < 0 || cfg.MaxHeaderBytes < 0 {
		return nil, fmt.Errorf("%w: TTL, ExchangeTimeout and MaxHeaderBytes must not be negative", ErrConfig)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < time.Millisecond {
		// Redis' PX cannot express less; nobody means it anyway.
		return nil, fmt.Errorf("%w: TTL below 1ms", ErrConfig)
	}
	if cfg.ExchangeTimeout == 0 {
		cfg.ExchangeTimeout = DefaultExchangeTimeout
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.WeChatURL == "" {
		cfg.WeChatURL = DefaultWeChatURL
	}
	if cfg.Exchanger == nil && !cfg.IgnoreSignature {
		if cfg.AppID == "" || cfg.AppSecret == "" {
			return nil, fmt.Errorf("%w: AppID and AppSecret are required without an Exchanger", ErrConfig)
		}
		cfg.Exchanger = &wechat.Client{AppID: cfg.AppID, Secret: cfg.AppSecret, BaseURL: cfg.WeChatURL}
	}
	m := &Middleware{cfg: cfg, log: cfg.Logger}
	if m.log == nil {
		m.log = slog.Default()
	}
	return m, nil
}

// userKey is the context key of the request's User.
type userKey struct{}

// FromContext returns the user the session layer attached to a request's
// context, and whether there is one.
func FromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	if !ok {
		return User{}, false
	}
	return *u, true
}

// withUser returns r with u in its context.
func withUser(r *http.Request, u *User) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), userKey{}, u))
}

// Request header names of the protocol, in canonical form.
const (
	headerCode      = "X-Wx-Code"
	headerRawData   = "X-Wx-Rawdata"
	headerSignature = "X-Wx-Signature"
)

// Handler returns next wrapped in the session layer, which runs the
// protocol's server flow on every request:
//
//   - Config.Ignore says so: next, untouched.
//   - no X-WX-Code: next, with no user.
//   - X-WX-Code only: the stored session's user, or 401 ERR_SESSION_EXPIRED.
//   - X-WX-Code and X-WX-RawData: a login (below), then next with the user.
//
// A login decodes rawData (400 envelope without reason if it is not
// URI-encoded UTF-8 JSON object text), checks the signature's form (401
// ERR_UNTRUSTED_RAW_DATA unless 40 hex digits), exchanges the code with
// WeChat (502 ERR_SESSION_KEY_EXCHANGE_FAILED when WeChat refuses, 503 with
// that reason when it cannot be reached in ExchangeTimeout), compares the
// signature with hex SHA-1 of rawData + session_key in constant time (401
// ERR_UNTRUSTED_RAW_DATA) and stores the session, revoking the user's
// previous code. Any store failure is a 503 envelope without reason.
//
// Logins are idempotent per code. Concurrent logins with one code share a
// single exchange with WeChat (a code can be exchanged only once). A login
// whose code is already a stored session reuses that session's
// session_key to check the signature instead of exchanging again, so a
// client that retries a login whose answer it lost still succeeds. That
// reuse is safe: the stored session_key is the one WeChat gave for this very
// code, and the signature still has to match it.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.cfg.Ignore != nil && m.cfg.Ignore(r) {
			next.ServeHTTP(w, r)
			return
		}
		code := header(r.Header, headerCode)
		if code == "" {
			next.ServeHTTP(w, r)
			return
		}
		rawData := header(r.Header, headerRawData)
		if rawData == "" {
			m.resume(w, r, next, code)
			return
		}
		m.login(w, r, next, code, rawData)
	})
}

// header returns the first value of the header named canon (canonical
// form). Servers canonicalize names they read off the wire; the
// case-insensitive scan catches requests built in-process with other
// spellings.
func header(h http.Header, canon string) string {
	if v := h[canon]; len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && len(k) == len(canon) && strings.EqualFold(k, canon) {
			return v[0]
		}
	}
	return ""
}

// validCode reports whether code could be a login code: at most
// MaxCodeBytes of printable ASCII without spaces.
func validCode(code string) bool {
	if len(code) > MaxCodeBytes {
		return false
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// resume handles a request with X-WX-Code only.
func (m *Middleware) resume(w http.ResponseWriter, r *http.Request, next http.Handler, code string) {
	if !validCode(code) {
		m.badRequest(w, r, ErrBadCode, "invalid X-WX-Code")
		return
	}
	s, found, err := m.cfg.Store.Get(r.Context(), code)
	if err != nil {
		m.storeFailed(w, r, err, "get")
		return
	}
	if !found {
		writeError(w, http.StatusUnauthorized, ReasonSessionExpired, "session expired, log in again", "")
		return
	}
	next.ServeHTTP(w, withUser(r, &s.User))
}

// login handles a request with X-WX-Code and X-WX-RawData.
func (m *Middleware) login(w http.ResponseWriter, r *http.Request, next http.Handler, code, rawHeader string) {
	start := time.Now()
	ctx := r.Context()
	done := func(result string) {
		if m.cfg.OnLogin != nil {
			m.cfg.OnLogin(ctx, result, time.Since(start))
		}
	}
	if !validCode(code) {
		m.badRequest(w, r, ErrBadCode, "invalid X-WX-Code")
		done(ResultBadRequest)
		return
	}
	if len(rawHeader) > m.cfg.MaxHeaderBytes {
		m.badRequest(w, r, ErrBadRawData, fmt.Sprintf("X-WX-RawData longer than %d bytes", m.cfg.MaxHeaderBytes))
		done(ResultBadRequest)
		return
	}
	rawData, ok := decodeURIComponent(rawHeader)
	if !ok {
		m.badRequest(w, r, ErrBadRawData, "X-WX-RawData is not URI-encoded UTF-8")
		done(ResultBadRequest)
		return
	}
	var user User
	if err := user.UnmarshalJSON([]byte(rawData)); err != nil {
		m.badRequest(w, r, ErrBadRawData, "X-WX-RawData is not a JSON object")
		done(ResultBadRequest)
		return
	}

	if m.cfg.IgnoreSignature {
		sum := sha1.Sum([]byte(user.AvatarURL))
		setIDs(&user, ("PSEUDO_OPENID_" + hex.EncodeToString(sum[:]))[:28], user.UnionID)
		if err := m.cfg.Store.Login(ctx, code, Session{User: user, CreatedAt: time.Now()}, m.cfg.TTL); err != nil {
			m.storeFailed(w, r, err, "login")
			done(ResultStoreUnavailable)
			return
		}
		done(ResultOK)
		next.ServeHTTP(w, withUser(r, &user))
		return
	}

	// A malformed signature can never match: refuse it before spending
	// the code on an exchange.
	sig, ok := parseSignature(header(r.Header, headerSignature))
	if !ok {
		m.untrusted(w, r)
		done(ReasonUntrustedRawData)
		return
	}
	res, err := m.flights.do(ctx, code, func() (flightResult, error) {
		return m.establish(ctx, code, rawData, sig, user)
	})
	if err != nil {
		done(m.loginFailed(w, r, err))
		return
	}
	if !signatureMatches(rawData, res.sessionKey, sig) {
		m.untrusted(w, r)
		done(ReasonUntrustedRawData)
		return
	}
	setIDs(&user, res.openID, res.unionID)
	if res.stored == nil || !sameUser(res.stored, &user) {
		// This request's rawData differs from what the shared login stored
		// (or that login's own signature was bad): store ours.
		s := Session{User: user, SessionKey: res.sessionKey, CreatedAt: time.Now()}
		if err := m.cfg.Store.Login(ctx, code, s, m.cfg.TTL); err != nil {
			m.storeFailed(w, r, err, "login")
			done(ResultStoreUnavailable)
			return
		}
	}
	done(ResultOK)
	m.log.DebugContext(ctx, "wxsession: login", "openid", user.OpenID, "reused", res.reused)
	next.ServeHTTP(w, withUser(r, &user))
}

// flightResult is what one shared login establishes for a code.
type flightResult struct {
	openID, unionID, sessionKey string
	// stored is the user the shared login stored under the code, nil if
	// it stored none.
	stored *User
	// reused is true when the session was already in the store.
	reused bool
}

// Errors inside a shared login, told apart by loginFailed.
var (
	errStore = errors.New("wxsession: store")
)

// establish is the shared part of the logins of one code: find the code's
// session_key (in the store if this code already logged in, else from
// WeChat) and, if the leader's signature matches, store its session. It
// runs on a context that the leader's client cannot cancel, since the
// waiters depend on it, bounded by ExchangeTimeout.
func (m *Middleware) establish(ctx context.Context, code, rawData string, sig [sha1.Size]byte, user User) (flightResult, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.ExchangeTimeout)
	defer cancel()
	s, found, err := m.cfg.Store.Get(ctx, code)
	if err != nil {
		return flightResult{}, fmt.Errorf("%w: get: %w", errStore, err)
	}
	if found && s.SessionKey != "" && s.User.OpenID != "" {
		return flightResult{openID: s.User.OpenID, unionID: s.User.UnionID, sessionKey: s.SessionKey, stored: &s.User, reused: true}, nil
	}
	ws, err := m.cfg.Exchanger.Exchange(ctx, code)
	if err != nil {
		return flightResult{}, fmt.Errorf("%w: %w", ErrExchange, err)
	}
	if ws.OpenID == "" || ws.SessionKey == "" {
		return flightResult{}, fmt.Errorf("%w: answer without openid or session_key", ErrExchange)
	}
	res := flightResult{openID: ws.OpenID, unionID: ws.UnionID, sessionKey: ws.SessionKey}
	if !signatureMatches(rawData, ws.SessionKey, sig) {
		return res, nil // the leader fails; a waiter with good data stores its own
	}
	setIDs(&user, ws.OpenID, ws.UnionID)
	if err := m.cfg.Store.Login(ctx, code, Session{User: user, SessionKey: ws.SessionKey, CreatedAt: time.Now()}, m.cfg.TTL); err != nil {
		return flightResult{}, fmt.Errorf("%w: login: %w", errStore, err)
	}
	res.stored = &user
	return res, nil
}

// setIDs sets the server-made ids of u, dropping any client-sent field of
// the same name so the typed values win when encoding.
func setIDs(u *User, openID, unionID string) {
	u.OpenID = openID
	if unionID != "" {
		// rawData never carries a unionId of its own; if it did, WeChat's
		// answer is the authority.
		u.UnionID = unionID
		delete(u.Extra, "unionId")
	}
	delete(u.Extra, "openId")
	if len(u.Extra) == 0 {
		u.Extra = nil
	}
}

// sameUser reports whether a and b encode to the same JSON.
func sameUser(a, b *User) bool {
	ja, err1 := a.MarshalJSON()
	jb, err2 := b.MarshalJSON()
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// parseSignature decodes X-WX-Signature: 40 hex digits (either case).
func parseSignature(s string) (sum [sha1.Size]byte, ok bool) {
	if len(s) != 2*sha1.Size {
		return sum, false
	}
	if _, err := hex.Decode(sum[:], []byte(s)); err != nil {
		return sum, false
	}
	return sum, true
}

// signatureMatches compares sig with SHA-1(rawData + sessionKey) in
// constant time.
func signatureMatches(rawData, sessionKey string, sig [sha1.Size]byte) bool {
	h := sha1.New()
	h.Write([]byte(rawData))
	h.Write([]byte(sessionKey))
	return subtle.ConstantTimeCompare(h.Sum(nil), sig[:]) == 1
}

// badRequest answers 400 with the envelope and no reason: what the 2016
// server answered to input it could not parse.
func (m *Middleware) badRequest(w http.ResponseWriter, r *http.Request, err error, message string) {
	m.log.DebugContext(r.Context(), "wxsession: bad request", "err", err, "msg", message)
	writeError(w, http.StatusBadRequest, "", message, "")
}

func (m *Middleware) untrusted(w http.ResponseWriter, r *http.Request) {
	m.log.InfoContext(r.Context(), "wxsession: login refused", "err", ErrUntrustedRawData)
	writeError(w, http.StatusUnauthorized, ReasonUntrustedRawData, "rawData signature mismatch", "")
}

// storeFailed logs a store error and answers 503.
func (m *Middleware) storeFailed(w http.ResponseWriter, r *http.Request, err error, op string) {
	m.log.ErrorContext(r.Context(), "wxsession: session store failed", "op", op, "err", m.redact(err))
	writeError(w, http.StatusServiceUnavailable, "", "session store unavailable, retry later", "")
}

// loginFailed answers a failed shared login and returns its OnLogin result.
func (m *Middleware) loginFailed(w http.ResponseWriter, r *http.Request, err error) string {
	ctx := r.Context()
	if errors.Is(err, errStore) {
		m.storeFailed(w, r, err, "login")
		return ResultStoreUnavailable
	}
	var we *wechat.Error
	switch {
	case errors.As(err, &we):
		m.log.WarnContext(ctx, "wxsession: WeChat refused the code", "errcode", we.Code)
		writeError(w, http.StatusBadGateway, ReasonExchangeFailed, "WeChat refused the login code",
			fmt.Sprintf("errcode %d", we.Code))
	case ctx.Err() != nil && !errors.Is(err, ErrExchange):
		// This client gave up waiting for a shared login; it reads nothing.
		writeError(w, http.StatusServiceUnavailable, ReasonExchangeFailed, "login abandoned", "")
	case errors.Is(err, context.DeadlineExceeded):
		m.log.WarnContext(ctx, "wxsession: WeChat code exchange timed out", "timeout", m.cfg.ExchangeTimeout)
		writeError(w, http.StatusServiceUnavailable, ReasonExchangeFailed, "WeChat did not answer in time", "")
	case unreachable(err):
		m.log.WarnContext(ctx, "wxsession: WeChat unreachable", "err", m.redact(err))
		writeError(w, http.StatusServiceUnavailable, ReasonExchangeFailed, "WeChat could not be reached", "")
	default:
		m.log.WarnContext(ctx, "wxsession: WeChat code exchange failed", "err", m.redact(err))
		writeError(w, http.StatusBadGateway, ReasonExchangeFailed, "WeChat answered unexpectedly", "")
	}
	return ReasonExchangeFailed
}

// unreachable reports whether err means WeChat could not be asked (a
// network failure) rather than that it answered something unusable.
func unreachable(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// redact returns err's text with the app secret removed, for logs: an
// HTTP client's errors quote the request URL, which carries the secret.
func (m *Middleware) redact(err error) string {
	s := err.Error()
	if m.cfg.AppSecret != "" {
		s = strings.ReplaceAll(s, m.cfg.AppSecret, "REDACTED")
	}
	return s
}
