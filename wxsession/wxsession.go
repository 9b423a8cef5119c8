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
// Protocol v2 (login as a mini program does it today) runs beside v1 on
// the same stores: LoginHandler exchanges a wx.login code alone for an
// opaque token, Handler accepts "Authorization: Bearer <token>" on every
// route, LogoutHandler, Revoke and Lookup end and find sessions, and
// Decrypt uses a session's session_key, which is sealed at rest under
// Config.Secret and never leaves the library.
//
// The module github.com/yibi/yibi/wxsession depends on the standard
// library alone (and on github.com/yibi/yibi/wechat, which does too). It
// holds memstore (an in-process Store), storetest (the conformance suite
// every Store runs) and testenv (starts a real redis-server for tests).
// Stores with dependencies are modules of their own, so their
// dependencies reach only their users: redisstore (Redis through go-redis,
// with a local cache that Redis keeps fresh by invalidation messages).
package wxsession

import (
	"context"
	"crypto/rand"
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
	// OnLogin, when set, is called once per login request, v1 or v2,
	// with its result (ResultOK, a Reason*, ResultBadRequest or
	// ResultStoreUnavailable) and how long it took; LoginVersion(ctx)
	// tells which protocol it was. It runs on the request's goroutine:
	// keep it fast.
	OnLogin func(ctx context.Context, result string, d time.Duration)

	// Secret seals every session_key at rest (v1 and v2 sessions, kept
	// code exchanges) with AES-256-GCM, and seals a v2 login's token in
	// its code's exchange record so a retried code gets the same token.
	// At least MinSecretBytes long; every instance sharing a store must
	// have the same one. Default: HMAC-SHA256(AppSecret, "wxsession
	// session_key v1"), so rotating the app secret rotates it too. With
	// neither Secret nor AppSecret, a random secret of this process is
	// used (and logged as a warning): sealed keys then do not open in
	// other processes or after a restart.
	//
	// When it changes, sessions stay valid (they identify the user), but
	// their session_key no longer opens: Decrypt answers
	// ErrSessionKeyStale and a retried v2 login code gives nothing, so
	// the client logs in again.
	Secret []byte
	// TokenStore keeps v2 sessions; default Store, when it implements
	// TokenStore (memstore and redisstore do). Without one, the v2
	// handlers answer 503 and bearer tokens are refused as expired.
	TokenStore TokenStore
	// IdleTimeout is how long a v2 session lives unused; each use extends
	// it (at most once per IdleTimeout/16, so reads stay reads), never
	// past MaxLifetime. Default DefaultIdleTimeout (7 days).
	IdleTimeout time.Duration
	// MaxLifetime is the absolute limit of a v2 session from its login;
	// default DefaultMaxLifetime (30 days).
	MaxLifetime time.Duration
	// MaxSessions is how many live v2 sessions a user may have (phone,
	// PC WeChat, …); a further login evicts the oldest. Default
	// DefaultMaxSessions (5).
	MaxSessions int
	// Now is the clock of v2 sessions' lifetimes; default time.Now.
	Now func() time.Time
	// Profiles, when set, fills the "user" of a v2 login's answer from
	// the app's profile store.
	Profiles ProfileSource
	// Decrypt decrypts a WeChat encryptedData with a session's
	// session_key, checking the watermark's appid; Middleware.Decrypt
	// uses it. It is the package wechat's decryption (wechat.Decrypt),
	// passed in by the app, so that the key never leaves the library.
	Decrypt func(sessionKey, encryptedData, iv string) ([]byte, error)
	// SessionKeyChecker, when set, tells after a failed Decrypt whether
	// WeChat still accepts the session's session_key (checksession), so
	// that a stale key is answered ErrSessionKeyStale.
	SessionKeyChecker SessionKeyChecker
}

// ProfileSource gives the profile a v2 login answers in its "user".
type ProfileSource interface {
	// Profile returns the user's nickname and avatar URL, "" for what the
	// user has not set. An error is logged; the login still succeeds,
	// with an empty profile.
	Profile(ctx context.Context, openID string) (nickName, avatarURL string, err error)
}

// SessionKeyChecker asks WeChat whether a session_key is still valid
// (GET /wxa/checksession). valid is false when WeChat said no (errcode
// 87009); err is for WeChat or the network failing.
type SessionKeyChecker interface {
	CheckSessionKey(ctx context.Context, openID, sessionKey string) (valid bool, err error)
}

// Middleware is the session layer. Build it with New; it is safe for
// concurrent use.
type Middleware struct {
	cfg     Config
	log     *slog.Logger
	keys    *keyring
	flights flightGroup[flightResult]
	// tokenFlights shares one v2 login among the requests of one code.
	tokenFlights flightGroup[tokenLogin]
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
	if err := defaultsV2(&cfg); err != nil {
		return nil, err
	}
	m := &Middleware{cfg: cfg, log: cfg.Logger}
	if m.log == nil {
		m.log = slog.Default()
	}
	secret := cfg.Secret
	switch {
	case secret != nil:
	case cfg.AppSecret != "":
		secret = defaultSecret(cfg.AppSecret)
	default:
		secret = make([]byte, MinSecretBytes)
		rand.Read(secret)
		m.log.Warn("wxsession: no Secret and no AppSecret: session keys sealed with a secret of this process only")
	}
	m.keys = newKeyring(secret)
	return m, nil
}

// userKey is the context key of the request's session.
type userKey struct{}

// reqSession is the session of a request, v1 or v2.
type reqSession struct {
	user *User
	// sealedKey is the session's session_key as stored (sealed, or in
	// clear from before sealing), for Decrypt.
	sealedKey string
	// code is the v1 session's X-WX-Code; tokenHash the v2 session's.
	code, tokenHash string
}

// FromContext returns the user the session layer attached to a request's
// context, and whether there is one. It is the same for a v1 session
// (X-WX-Code) and a v2 one (Authorization: Bearer).
func FromContext(ctx context.Context) (User, bool) {
	s, ok := ctx.Value(userKey{}).(*reqSession)
	if !ok {
		return User{}, false
	}
	return *s.user, true
}

// sessionFrom returns the request's session.
func sessionFrom(ctx context.Context) (*reqSession, bool) {
	s, ok := ctx.Value(userKey{}).(*reqSession)
	return s, ok
}

// withSession returns r with s in its context.
func withSession(r *http.Request, s *reqSession) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), userKey{}, s))
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
// A session header sent twice (two X-WX-Code, X-WX-RawData or
// X-WX-Signature values) is an ambiguous identity: 400 envelope without
// reason, whichever the values.
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
// single exchange with WeChat (a code can be exchanged only once). WeChat's
// answer is kept in the Store for the code's lifetime (Store.SaveExchange),
// whether or not the login's signature matched, so a forged login (a
// well-formed signature that does not match) cannot spend the code of the
// genuine login that follows, on this instance or another. A login whose
// code is already a stored session, or has a kept exchange, checks its
// signature against that session_key instead of exchanging again, so a
// client that retries a login whose answer it lost still succeeds. That
// reuse is safe: the session_key is the one WeChat gave for this very code,
// it never leaves the server, and the signature still has to match it.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.cfg.Ignore != nil && m.cfg.Ignore(r) {
			next.ServeHTTP(w, r)
			return
		}
		if _, kind := parseAuthorization(r.Header); kind != bearerNone {
			sess, ref := m.resumeBearer(r)
			if ref != nil {
				m.refuse(w, r, ref)
				return
			}
			next.ServeHTTP(w, withSession(r, sess))
			return
		}
		code, okCode := header(r.Header, headerCode)
		rawData, okRaw := header(r.Header, headerRawData)
		if code == "" && okCode {
			next.ServeHTTP(w, r)
			return
		}
		var sess *reqSession
		var ref *refusal
		switch {
		case rawData == "" && okRaw:
			if !okCode {
				ref = badRequest(errAmbiguous, "X-WX-Code sent more than once")
			} else {
				sess, ref = m.resume(r, code)
			}
		default:
			sess, ref = reportLogin(m, r, loginV1, func() (*reqSession, *refusal) {
				if !okCode || !okRaw {
					return nil, badRequest(errAmbiguous, "X-WX-Code or X-WX-RawData sent more than once")
				}
				return m.login(r, code, rawData)
			})
		}
		if ref != nil {
			m.refuse(w, r, ref)
			return
		}
		next.ServeHTTP(w, withSession(r, sess))
	})
}

// header returns the value of the header named canon (canonical form),
// "" if it is absent; ok is false when it was sent more than once, which
// makes the request's identity ambiguous. Servers canonicalize names they
// read off the wire; the case-insensitive scan catches requests built
// in-process with other spellings.
func header(h http.Header, canon string) (v string, ok bool) {
	n := 0
	for k, vs := range h {
		if len(k) == len(canon) && (k == canon || strings.EqualFold(k, canon)) {
			n += len(vs)
			if len(vs) > 0 {
				v = vs[0]
			}
		}
	}
	return v, n <= 1
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

// resume finds the session of a request with X-WX-Code only.
func (m *Middleware) resume(r *http.Request, code string) (*reqSession, *refusal) {
	if !validCode(code) {
		return nil, badRequest(errBadCode, "invalid X-WX-Code")
	}
	s, found, err := m.cfg.Store.Get(r.Context(), code)
	if err != nil {
		return nil, storeFailed(r.Context(), err, "get")
	}
	if !found {
		return nil, expired()
	}
	return &reqSession{user: &s.User, sealedKey: s.SessionKey, code: code}, nil
}

// reportLogin runs a login of protocol version and reports its result
// and duration to Config.OnLogin: the one place that does.
func reportLogin[T any](m *Middleware, r *http.Request, version loginVersion, login func() (T, *refusal)) (T, *refusal) {
	start := time.Now()
	v, ref := login()
	if m.cfg.OnLogin != nil {
		result := ResultOK
		if ref != nil {
			result = ref.result
		}
		m.cfg.OnLogin(context.WithValue(r.Context(), loginVersionKey{}, version), result, time.Since(start))
	}
	return v, ref
}

// loginVersionKey is the context key of LoginVersion.
type loginVersionKey struct{}

// loginVersion is the protocol of a login: LoginV1 or LoginV2.
type loginVersion string

// Protocol versions LoginVersion reports.
const (
	// LoginV1 is a 2016 login (X-WX-Code with X-WX-RawData).
	LoginV1 = "v1"
	// LoginV2 is a login at LoginHandler (a wx.login code alone).
	LoginV2 = "v2"
)

// LoginVersion tells Config.OnLogin which protocol a login spoke: LoginV1
// or LoginV2 ("" outside OnLogin).
func LoginVersion(ctx context.Context) string {
	v, _ := ctx.Value(loginVersionKey{}).(loginVersion)
	return string(v)
}

const (
	loginV1 loginVersion = LoginV1
	loginV2 loginVersion = LoginV2
)

// login runs a request with X-WX-Code and X-WX-RawData: it returns the
// logged-in user, or why the login is refused.
func (m *Middleware) login(r *http.Request, code, rawHeader string) (*reqSession, *refusal) {
	ctx := r.Context()
	user, rawData, ref := m.parseLogin(code, rawHeader)
	if ref != nil {
		return nil, ref
	}
	sigHeader, ok := header(r.Header, headerSignature)
	if !ok {
		return nil, badRequest(errAmbiguous, "X-WX-Signature sent more than once")
	}
	if m.cfg.IgnoreSignature {
		return m.pseudoLogin(ctx, code, user)
	}
	// A malformed signature can never match: refuse it before spending
	// the code on an exchange.
	sig, ok := parseSignature(sigHeader)
	if !ok {
		return nil, untrusted()
	}
	res, err := m.flights.do(ctx, code, func() (flightResult, error) {
		return m.establish(ctx, code, rawData, sig, user)
	})
	if err != nil {
		return nil, m.exchangeFailed(ctx, err)
	}
	if !signatureMatches(rawData, res.sessionKey, sig) {
		return nil, untrusted()
	}
	setIDs(&user, res.openID, res.unionID)
	sealed := m.keys.sealSessionKey(res.openID, res.sessionKey)
	if res.stored == nil || !sameUser(res.stored, &user) {
		// This request's rawData differs from what the shared login stored
		// (or that login's own signature was bad): store ours.
		s := Session{User: user, SessionKey: sealed, CreatedAt: time.Now()}
		if err := m.cfg.Store.Login(ctx, code, s, m.cfg.TTL); err != nil {
			return nil, storeFailed(ctx, err, "login")
		}
	}
	m.log.DebugContext(ctx, "wxsession: login", "openid", user.OpenID, "reused", res.reused)
	return &reqSession{user: &user, sealedKey: sealed, code: code}, nil
}

// parseLogin checks a login's code and decodes its X-WX-RawData into the
// rawData string and the user it describes.
func (m *Middleware) parseLogin(code, rawHeader string) (User, string, *refusal) {
	if !validCode(code) {
		return User{}, "", badRequest(errBadCode, "invalid X-WX-Code")
	}
	if len(rawHeader) > m.cfg.MaxHeaderBytes {
		return User{}, "", badRequest(errBadRawData, fmt.Sprintf("X-WX-RawData longer than %d bytes", m.cfg.MaxHeaderBytes))
	}
	rawData, ok := decodeURIComponent(rawHeader)
	if !ok {
		return User{}, "", badRequest(errBadRawData, "X-WX-RawData is not URI-encoded UTF-8")
	}
	var user User
	if err := user.UnmarshalJSON([]byte(rawData)); err != nil {
		return User{}, "", badRequest(errBadRawData, "X-WX-RawData is not a JSON object")
	}
	return user, rawData, nil
}

// pseudoLogin is a login under IgnoreSignature: no exchange, no signature,
// an openId made from the avatar URL.
func (m *Middleware) pseudoLogin(ctx context.Context, code string, user User) (*reqSession, *refusal) {
	sum := sha1.Sum([]byte(user.AvatarURL))
	setIDs(&user, ("PSEUDO_OPENID_" + hex.EncodeToString(sum[:]))[:28], user.UnionID)
	if err := m.cfg.Store.Login(ctx, code, Session{User: user, CreatedAt: time.Now()}, m.cfg.TTL); err != nil {
		return nil, storeFailed(ctx, err, "login")
	}
	return &reqSession{user: &user, code: code}, nil
}

// flightResult is what one shared login establishes for a code.
type flightResult struct {
	openID, unionID, sessionKey string
	// stored is the user the shared login stored under the code, nil if
	// it stored none.
	stored *User
	// reused is true when the session_key came from the store (a session
	// or a kept exchange), not from WeChat.
	reused bool
}

// establish is the shared part of the logins of one code: find the code's
// session_key (in the store if this code already logged in or was
// exchanged, else from WeChat, keeping WeChat's answer) and, if the
// leader's signature matches, store its session. It runs on a context that
// the leader's client cannot cancel, since the waiters depend on it,
// bounded by ExchangeTimeout.
func (m *Middleware) establish(ctx context.Context, code, rawData string, sig [sha1.Size]byte, user User) (flightResult, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.ExchangeTimeout)
	defer cancel()
	x, reused, err := m.codeExchange(ctx, code)
	if err != nil {
		return flightResult{}, err
	}
	res := flightResult{openID: x.OpenID, unionID: x.UnionID, sessionKey: x.SessionKey, reused: reused}
	if s, ok := x.session(); ok {
		res.stored = &s.User
		return res, nil
	}
	if !signatureMatches(rawData, x.SessionKey, sig) {
		return res, nil // the leader fails; a waiter with good data stores its own
	}
	setIDs(&user, x.OpenID, x.UnionID)
	s := Session{User: user, SessionKey: m.keys.sealSessionKey(x.OpenID, x.SessionKey), CreatedAt: time.Now()}
	if err := m.cfg.Store.Login(ctx, code, s, m.cfg.TTL); err != nil {
		return flightResult{}, fmt.Errorf("%w: login: %w", errStoreFailed, err)
	}
	res.stored = &user
	return res, nil
}

// knownExchange is a code's session_key and ids, and the session already
// stored under the code, if any.
type knownExchange struct {
	CodeExchange
	stored *Session
}

// session returns the session already stored under the code.
func (k knownExchange) session() (Session, bool) {
	if k.stored == nil {
		return Session{}, false
	}
	return *k.stored, true
}

// codeExchange returns what WeChat answered for code: from the code's
// session, from the exchange kept by an earlier login of the code (reused
// true), or from WeChat now, keeping the answer for CodeLifetime before
// any signature is checked.
func (m *Middleware) codeExchange(ctx context.Context, code string) (knownExchange, bool, error) {
	s, found, err := m.cfg.Store.Get(ctx, code)
	if err != nil {
		return knownExchange{}, false, fmt.Errorf("%w: get: %w", errStoreFailed, err)
	}
	if found && s.SessionKey != "" && s.User.OpenID != "" {
		key, err := m.keys.openSessionKey(s.User.OpenID, s.SessionKey)
		if err != nil {
			return knownExchange{}, false, fmt.Errorf("%w: %w", errKeyStale, err)
		}
		x := CodeExchange{OpenID: s.User.OpenID, UnionID: s.User.UnionID, SessionKey: key}
		return knownExchange{CodeExchange: x, stored: &s}, true, nil
	}
	x, found, err := m.exchangeOf(ctx, code)
	if err != nil || found {
		return knownExchange{CodeExchange: x}, found, err
	}
	ws, err := m.cfg.Exchanger.Exchange(ctx, code)
	if codeUsed(err) {
		// Another instance may have spent the code a moment ago: its
		// exchange is about to be stored.
		var kept CodeExchange
		werr := waitFor(ctx, func() (bool, error) {
			x, found, err := m.exchangeOf(ctx, code)
			kept = x
			return found, err
		})
		if werr == nil {
			return knownExchange{CodeExchange: kept}, true, nil
		}
	}
	if err != nil {
		return knownExchange{}, false, fmt.Errorf("%w: %w", errExchange, err)
	}
	if ws.OpenID == "" || ws.SessionKey == "" {
		return knownExchange{}, false, fmt.Errorf("%w: answer without openid or session_key", errExchange)
	}
	x = CodeExchange{OpenID: ws.OpenID, UnionID: ws.UnionID, SessionKey: ws.SessionKey}
	if err := m.saveExchange(ctx, code, x); err != nil {
		return knownExchange{}, false, err
	}
	return knownExchange{CodeExchange: x}, false, nil
}

// codeWait bounds how long a login whose code WeChat calls used waits for
// another instance's exchange of it to be stored: that instance stores it
// right after WeChat's answer.
const codeWait = 2 * time.Second

// errNotYet: waitFor's condition did not hold within codeWait.
var errNotYet = errors.New("wxsession: not stored in time")

// codeUsed reports whether err is WeChat calling a login code used
// (40163): spent by an earlier exchange, perhaps another instance's.
func codeUsed(err error) bool {
	var we *wechat.Error
	return errors.As(err, &we) && we.Code == wechat.CodeCodeUsed
}

// waitFor asks done every 20 ms until it holds (nil), fails (its error),
// codeWait passes or ctx ends (errNotYet).
func waitFor(ctx context.Context, done func() (bool, error)) error {
	deadline := time.Now().Add(codeWait)
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errNotYet
		}
		select {
		case <-ctx.Done():
			return errNotYet
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// exchangeOf returns the exchange kept for code, its session_key opened.
func (m *Middleware) exchangeOf(ctx context.Context, code string) (CodeExchange, bool, error) {
	x, found, err := m.cfg.Store.GetExchange(ctx, code)
	if err != nil {
		return CodeExchange{}, false, fmt.Errorf("%w: get exchange: %w", errStoreFailed, err)
	}
	if !found {
		return CodeExchange{}, false, nil
	}
	if x.SessionKey, err = m.keys.openSessionKey(x.OpenID, x.SessionKey); err != nil {
		return CodeExchange{}, false, fmt.Errorf("%w: %w", errKeyStale, err)
	}
	return x, true, nil
}

// saveExchange keeps x (session_key in clear, sealed here) for code's
// lifetime.
func (m *Middleware) saveExchange(ctx context.Context, code string, x CodeExchange) error {
	x.SessionKey = m.keys.sealSessionKey(x.OpenID, x.SessionKey)
	if err := m.cfg.Store.SaveExchange(ctx, code, x, CodeLifetime); err != nil {
		// The code is spent: without the kept answer a later, genuine
		// login with it would fail at WeChat, so report the store fault.
		return fmt.Errorf("%w: save exchange: %w", errStoreFailed, err)
	}
	return nil
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

// refusal is a request the session layer answers itself: the envelope's
// status and fields, the OnLogin result if it was a login, and the log
// line. Every refusal is answered by refuse, as wtf maps errors in one
// place.
type refusal struct {
	status                  int
	reason, message, detail string
	result                  string // OnLogin's result
	level                   slog.Level
	log                     string // the log message; "" logs nothing
	err                     error
	attrs                   []any
}

// badRequest is a 400 with the envelope and no reason: what the 2016
// server answered to input it could not parse.
func badRequest(err error, message string) *refusal {
	return &refusal{status: http.StatusBadRequest, message: message, result: ResultBadRequest,
		level: slog.LevelDebug, log: "wxsession: bad request", err: err, attrs: []any{"msg", message}}
}

// expired is a 401 for a session that does not exist (any more).
func expired() *refusal {
	return &refusal{status: http.StatusUnauthorized, reason: ReasonSessionExpired, message: "session expired, log in again", result: ReasonSessionExpired}
}

// badRequestV2 is a 400 of the v2 protocol: with the reason
// ERR_BAD_REQUEST, which v1 answers do not carry.
func badRequestV2(err error, message string) *refusal {
	ref := badRequest(err, message)
	ref.reason = ReasonBadRequest
	return ref
}

// untrusted is a 401 for a signature that does not match rawData.
func untrusted() *refusal {
	return &refusal{status: http.StatusUnauthorized, reason: ReasonUntrustedRawData, message: "rawData signature mismatch",
		result: ReasonUntrustedRawData, level: slog.LevelInfo, log: "wxsession: login refused", err: errUntrusted}
}

// storeFailed is a 503 for a store fault in op, unless the error is the
// request's own client going away (its context cancelled while the store
// was asked): that is the client's choice, not a store fault, so it is
// logged at DEBUG and recorded as ResultClientClosed with status 499, as
// nginx records it; no one reads that answer.
func storeFailed(ctx context.Context, err error, op string) *refusal {
	if clientGone(ctx, err) {
		return &refusal{status: StatusClientClosed, message: "client closed request", result: ResultClientClosed,
			level: slog.LevelDebug, log: "wxsession: client went away", err: err, attrs: []any{"op", op}}
	}
	return &refusal{status: http.StatusServiceUnavailable, message: "session store unavailable, retry later",
		result: ResultStoreUnavailable, level: slog.LevelError, log: "wxsession: session store failed", err: err, attrs: []any{"op", op}}
}

// clientGone reports whether err comes from ctx's client going away (its
// request's context cancelled), not from a store or WeChat.
func clientGone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// warnUnlessGone logs msg at WARN, or at DEBUG when err is the client
// going away: a client must not be able to fill the warnings.
func (m *Middleware) warnUnlessGone(ctx context.Context, msg string, err error) {
	level := slog.LevelWarn
	if clientGone(ctx, err) {
		level = slog.LevelDebug
	}
	m.log.Log(ctx, level, msg, "err", err)
}

// exchangeFailed is the refusal of a failed shared login.
func (m *Middleware) exchangeFailed(ctx context.Context, err error) *refusal {
	if errors.Is(err, errStoreFailed) {
		return storeFailed(ctx, err, "login")
	}
	ref := &refusal{reason: ReasonExchangeFailed, result: ReasonExchangeFailed, level: slog.LevelWarn, err: err}
	var we *wechat.Error
	switch {
	case errors.As(err, &we):
		ref.status, ref.message, ref.detail = refusedStatus(we.Code), "WeChat refused the login code", fmt.Sprintf("errcode %d", we.Code)
		ref.log, ref.err, ref.attrs = "wxsession: WeChat refused the code", nil, []any{"errcode", we.Code}
		if ref.status == http.StatusUnauthorized {
			// An invalid, used or risky code is the client's (anyone
			// can send one): below WARN, like a bad signature, so that
			// no client can fill the warnings. Busy or a refused app
			// stays a warning: that is the operator's to see.
			ref.level = slog.LevelInfo
		}
	case errors.Is(err, errKeyStale):
		// The code's kept session_key was sealed under another Secret:
		// the client must log in with a fresh code.
		ref.status, ref.message, ref.log = http.StatusUnauthorized, "log in again", "wxsession: kept session key does not open (Secret changed?)"
	case ctx.Err() != nil && !errors.Is(err, errExchange):
		// This client gave up waiting for a shared login; it reads nothing.
		ref.status, ref.message, ref.result, ref.level = StatusClientClosed, "client closed request", ResultClientClosed, slog.LevelDebug
	case errors.Is(err, context.DeadlineExceeded):
		ref.status, ref.message = http.StatusServiceUnavailable, "WeChat did not answer in time"
		ref.log, ref.err, ref.attrs = "wxsession: WeChat code exchange timed out", nil, []any{"timeout", m.cfg.ExchangeTimeout}
	case unreachable(err):
		ref.status, ref.message, ref.log = http.StatusServiceUnavailable, "WeChat could not be reached", "wxsession: WeChat unreachable"
	default:
		ref.status, ref.message, ref.log = http.StatusBadGateway, "WeChat answered unexpectedly", "wxsession: WeChat code exchange failed"
	}
	return ref
}

// refusedStatus is the HTTP status of a WeChat errcode refusing a code
// (protocol-v2.md "Details", v1 and v2 alike): the client's code is
// invalid, used or risky → 401, it logs in again with a new one; WeChat
// busy or rate-limited → 503; anything else (a wrong app id or secret: the
// server's setup) → 502.
func refusedStatus(errcode int) int {
	switch errcode {
	case wechat.CodeInvalidCode, wechat.CodeCodeUsed, wechat.CodeRiskyUser:
		return http.StatusUnauthorized
	case wechat.CodeSystemBusy, wechat.CodeRateLimited:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadGateway
}

// refuse logs ref and answers it with the session envelope.
func (m *Middleware) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	if ref.log != "" {
		attrs := ref.attrs
		if ref.err != nil {
			attrs = append([]any{"err", m.redact(ref.err)}, attrs...)
		}
		m.log.Log(r.Context(), ref.level, ref.log, attrs...)
	}
	writeError(w, ref.status, ref.reason, ref.message, ref.detail)
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
