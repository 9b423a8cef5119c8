package wxsession

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/yibi/yibi/wechat"
)

// Defaults of the v2 sessions.
const (
	// DefaultIdleTimeout is how long an unused v2 session lives.
	DefaultIdleTimeout = 7 * 24 * time.Hour
	// DefaultMaxLifetime is the absolute limit of a v2 session.
	DefaultMaxLifetime = 30 * 24 * time.Hour
	// DefaultMaxSessions is how many live v2 sessions a user may have.
	DefaultMaxSessions = 5
	// maxLoginBody bounds a v2 login's body: {"code":"…"} is ~50 bytes.
	maxLoginBody = 4 << 10
)

// Why v2 requests are refused, for logs.
var (
	errBadAuth    = errors.New("wxsession: malformed Authorization")
	errTokenGone  = errors.New("wxsession: the code's session is gone")
	errNoTokens   = errors.New("wxsession: no TokenStore")
	errBadLoginIn = errors.New("wxsession: malformed login body")
)

// defaultsV2 checks and fills the v2 fields of cfg.
func defaultsV2(cfg *Config) error {
	if cfg.Secret != nil && len(cfg.Secret) < MinSecretBytes {
		return fmt.Errorf("%w: Secret must be at least %d bytes", ErrConfig, MinSecretBytes)
	}
	if cfg.IdleTimeout < 0 || cfg.MaxLifetime < 0 || cfg.MaxSessions < 0 {
		return fmt.Errorf("%w: IdleTimeout, MaxLifetime and MaxSessions must not be negative", ErrConfig)
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.IdleTimeout > cfg.MaxLifetime {
		return fmt.Errorf("%w: IdleTimeout longer than MaxLifetime", ErrConfig)
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenStore == nil {
		cfg.TokenStore, _ = cfg.Store.(TokenStore)
	}
	return nil
}

// tokenLogin is what one shared v2 login establishes for a code.
type tokenLogin struct {
	token string
	sess  TokenSession
	// reused is true when the code had logged in before (a retry).
	reused bool
}

// LoginHandler serves POST {base}/session/login (protocol v2): the body
// is {"code": "<wx.login code>"} as JSON or a form. It answers
//
//	{"code":0,"msg":"success","data":{"token":"…","expiresIn":604800,"isNew":true,"user":{"nickName":"","avatarUrl":""}}}
//
// token is opaque (32 random bytes, base64url); the client sends it as
// "Authorization: Bearer <token>". expiresIn is in seconds, the idle
// limit; each use slides it (see Config.IdleTimeout). user comes from
// Config.Profiles; isNew is true when Profiles knows no nickname for the
// user yet (show the profile sheet), false without Profiles.
//
// A login is idempotent per code: requests with one code share one
// exchange with WeChat and one session, on this instance or (within the
// code's lifetime, through the store) another. Once that session is
// logged out or expired, the code answers 401 ERR_SESSION_EXPIRED. A
// refused code is 401 ERR_SESSION_KEY_EXCHANGE_FAILED; WeChat busy,
// rate-limited or unreachable is 503, a malformed answer 502; a bad body
// 400 ERR_BAD_REQUEST; a store fault 503. Logging in past
// Config.MaxSessions evicts the user's oldest session.
//
// Mount it outside Handler: it reads no session, and a client logging in
// again may still send a dead token, which Handler would refuse.
func (m *Middleware) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, ReasonBadRequest, "use POST", "")
			return
		}
		res, ref := reportLogin(m, r, loginV2, func() (tokenLogin, *refusal) { return m.loginV2(r) })
		if ref != nil {
			m.refuse(w, r, ref)
			return
		}
		var data struct {
			Token     string `json:"token"`
			ExpiresIn int64  `json:"expiresIn"`
			IsNew     bool   `json:"isNew"`
			User      struct {
				NickName  string `json:"nickName"`
				AvatarURL string `json:"avatarUrl"`
			} `json:"user"`
		}
		data.Token = res.token
		data.ExpiresIn = int64(res.sess.ExpiresAt.Sub(m.cfg.Now()).Round(time.Second) / time.Second)
		if p := m.cfg.Profiles; p != nil {
			nick, avatar, err := p.Profile(r.Context(), res.sess.User.OpenID)
			if err != nil {
				m.warnUnlessGone(r.Context(), "wxsession: profile lookup failed", err)
			} else {
				data.User.NickName, data.User.AvatarURL = nick, avatar
				data.IsNew = nick == ""
			}
		}
		writeSuccess(w, data)
	})
}

// loginV2 runs a v2 login: it returns the code's session, or why not.
func (m *Middleware) loginV2(r *http.Request) (tokenLogin, *refusal) {
	code, ref := readLoginCode(r)
	if ref != nil {
		return tokenLogin{}, ref
	}
	if m.cfg.TokenStore == nil || m.cfg.Exchanger == nil {
		return tokenLogin{}, storeFailed(r.Context(), errNoTokens, "v2 login needs a TokenStore and an Exchanger")
	}
	ctx := r.Context()
	res, err := m.tokenFlights.do(ctx, code, func() (tokenLogin, error) {
		return m.establishToken(ctx, code)
	})
	switch {
	case errors.Is(err, errTokenGone):
		return tokenLogin{}, expired()
	case err != nil:
		return tokenLogin{}, m.exchangeFailed(ctx, err)
	}
	m.log.DebugContext(ctx, "wxsession: v2 login", "openid", res.sess.User.OpenID, "reused", res.reused)
	return res, nil
}

// readLoginCode reads the code of a v2 login's body: JSON (wx.request's
// default) or a form.
func readLoginCode(r *http.Request) (string, *refusal) {
	if r.ContentLength > maxLoginBody {
		// Before the first read, so that a client that sent
		// "Expect: 100-continue" is refused at once.
		return "", badRequestV2(errBadLoginIn, "body too large")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxLoginBody+1))
	if err != nil {
		ref := badRequestV2(fmt.Errorf("%w: %w", errBadLoginIn, err), "unreadable body")
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			ref.status, ref.message = http.StatusRequestTimeout, "request body timed out"
		}
		return "", ref
	}
	if len(body) > maxLoginBody {
		return "", badRequestV2(errBadLoginIn, "body too large")
	}
	var code string
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form["code"]) != 1 {
			return "", badRequestV2(errBadLoginIn, "the form must hold one code")
		}
		code = form["code"][0]
	} else {
		var in struct {
			Code *string `json:"code"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Code == nil {
			return "", badRequestV2(errBadLoginIn, `the body must be {"code":"…"}`)
		}
		code = *in.Code
	}
	if code == "" || !validCode(code) {
		return "", badRequestV2(errBadCode, "invalid code")
	}
	return code, nil
}

// establishToken is the shared part of the v2 logins of one code: the
// code's existing session if it logged in before, else a new session from
// WeChat's answer. Like establish, it runs on a context that the leader's
// client cannot cancel, bounded by ExchangeTimeout.
func (m *Middleware) establishToken(ctx context.Context, code string) (tokenLogin, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.ExchangeTimeout)
	defer cancel()
	x, found, err := m.exchangeOf(ctx, code)
	if err != nil {
		return tokenLogin{}, err
	}
	if found && x.SealedToken != "" {
		return m.retriedToken(ctx, code, x.SealedToken)
	}
	if !found {
		ws, err := m.cfg.Exchanger.Exchange(ctx, code)
		if codeUsed(err) {
			// Another instance may have spent the code a moment ago:
			// its session is about to be stored.
			if res, err := m.awaitToken(ctx, code); err == nil {
				return res, nil
			}
		}
		if err != nil {
			return tokenLogin{}, fmt.Errorf("%w: %w", errExchange, err)
		}
		if ws.OpenID == "" || ws.SessionKey == "" {
			return tokenLogin{}, fmt.Errorf("%w: answer without openid or session_key", errExchange)
		}
		x = CodeExchange{OpenID: ws.OpenID, UnionID: ws.UnionID, SessionKey: ws.SessionKey}
	}
	token := newToken()
	now := m.cfg.Now()
	deadline := now.Add(m.cfg.MaxLifetime)
	ts := TokenSession{
		User:             User{OpenID: x.OpenID, UnionID: x.UnionID},
		SealedSessionKey: m.keys.sealSessionKey(x.OpenID, x.SessionKey),
		CreatedAt:        now,
		ExpiresAt:        minTime(now.Add(m.cfg.IdleTimeout), deadline),
		Deadline:         deadline,
	}
	// The sealed token goes into the code's record before the session is
	// created: a retry after a failed create finds a token without a
	// session and is told to log in again, never given a second session.
	x.SealedToken = seal(m.keys.codeAEAD(code), token, "token")
	if err := m.saveExchange(ctx, code, x); err != nil {
		return tokenLogin{}, err
	}
	evicted, err := m.cfg.TokenStore.CreateToken(ctx, HashToken(token), ts, m.cfg.MaxSessions)
	if err != nil {
		return tokenLogin{}, fmt.Errorf("%w: create token: %w", errStoreFailed, err)
	}
	if len(evicted) > 0 {
		m.log.DebugContext(ctx, "wxsession: session cap reached, oldest evicted", "openid", x.OpenID, "evicted", len(evicted))
	}
	return tokenLogin{token: token, sess: ts}, nil
}

// retriedToken is the session of a code that logged in before.
func (m *Middleware) retriedToken(ctx context.Context, code, sealed string) (tokenLogin, error) {
	if !strings.HasPrefix(sealed, sealPrefix) {
		return tokenLogin{}, fmt.Errorf("%w: token not sealed", errKeyStale)
	}
	token, err := open(m.keys.codeAEAD(code), sealed, "token")
	if err != nil {
		return tokenLogin{}, fmt.Errorf("%w: %w", errTokenGone, err)
	}
	ts, found, err := m.getToken(ctx, HashToken(token))
	if err != nil {
		return tokenLogin{}, err
	}
	if !found {
		return tokenLogin{}, errTokenGone
	}
	return tokenLogin{token: token, sess: ts, reused: true}, nil
}

// awaitToken waits (codeWait at most) for the session another instance
// is making of code: first its exchange with the sealed token, then the
// token's session, which that instance creates right after.
func (m *Middleware) awaitToken(ctx context.Context, code string) (tokenLogin, error) {
	var res tokenLogin
	err := waitFor(ctx, func() (bool, error) {
		x, found, err := m.exchangeOf(ctx, code)
		if err != nil || !found || x.SealedToken == "" {
			return false, err
		}
		res, err = m.retriedToken(ctx, code, x.SealedToken)
		if errors.Is(err, errTokenGone) {
			return false, nil
		}
		return true, err
	})
	return res, err
}

// getToken returns the live session of a token hash, checking its limits
// on this clock (a store's own expiry may run on another).
func (m *Middleware) getToken(ctx context.Context, hash string) (TokenSession, bool, error) {
	ts, found, err := m.cfg.TokenStore.GetToken(ctx, hash)
	if err != nil {
		return TokenSession{}, false, fmt.Errorf("%w: get token: %w", errStoreFailed, err)
	}
	now := m.cfg.Now()
	if !found || !now.Before(ts.ExpiresAt) || !now.Before(ts.Deadline) {
		return TokenSession{}, false, nil
	}
	return ts, true, nil
}

// resumeBearer finds the session of a request with an Authorization
// header, and slides its expiry.
func (m *Middleware) resumeBearer(r *http.Request) (*reqSession, *refusal) {
	token, kind := parseAuthorization(r.Header)
	if hasV1Headers(r.Header) {
		return nil, badRequestV2(errAmbiguous, "a bearer token and X-WX-* session headers at once")
	}
	switch {
	case kind == bearerAmbiguous:
		return nil, badRequestV2(errBadAuth, "Authorization must be one header: Bearer <token>")
	case kind == bearerUnknown, m.cfg.TokenStore == nil:
		return nil, expired()
	}
	ctx := r.Context()
	hash := HashToken(token)
	ts, found, err := m.getToken(ctx, hash)
	if err != nil {
		return nil, storeFailed(ctx, err, "get token")
	}
	if !found {
		return nil, expired()
	}
	m.slide(ctx, hash, ts)
	return &reqSession{user: &ts.User, sealedKey: ts.SealedSessionKey, tokenHash: hash}, nil
}

// slide extends a session's idle expiry, but only once at least 1/16 of
// the idle limit has passed since the last extension: most requests only
// read (cheap, and cacheable by a store), one in many writes. A failed
// write is logged; the request goes on, its session was valid.
func (m *Middleware) slide(ctx context.Context, hash string, ts TokenSession) {
	next := minTime(m.cfg.Now().Add(m.cfg.IdleTimeout), ts.Deadline)
	if next.Sub(ts.ExpiresAt) < m.cfg.IdleTimeout/16 {
		return
	}
	if err := m.cfg.TokenStore.TouchToken(ctx, hash, next); err != nil {
		m.warnUnlessGone(ctx, "wxsession: extending a session failed", err)
	}
}

// hasV1Headers reports whether h carries any v1 session header.
func hasV1Headers(h http.Header) bool {
	for _, name := range [...]string{headerCode, headerRawData, headerSignature} {
		if v, ok := header(h, name); v != "" || !ok {
			return true
		}
	}
	return false
}

// LogoutHandler serves POST {base}/session/logout: it ends the request's
// session, v1 (X-WX-Code) or v2 (bearer token), at once for every
// instance sharing the store; with ?all=1, every session of the user, v2
// tokens and the v1 code alike. It answers {"code":0,"msg":"success",
// "data":{}}; without a session, 401 ERR_SESSION_EXPIRED. It runs the
// session layer itself (Handler in front is harmless).
func (m *Middleware) LogoutHandler() http.Handler {
	return m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, ReasonBadRequest, "use POST", "")
			return
		}
		sess, ok := sessionFrom(r.Context())
		if !ok {
			m.refuse(w, r, expired())
			return
		}
		ctx := r.Context()
		var err error
		switch {
		case r.URL.Query().Get("all") == "1":
			err = m.Revoke(ctx, sess.user.OpenID)
		case sess.tokenHash != "":
			err = m.cfg.TokenStore.DeleteToken(ctx, sess.tokenHash)
		default:
			err = m.cfg.Store.Delete(ctx, sess.code)
		}
		if err != nil {
			m.refuse(w, r, storeFailed(ctx, err, "logout"))
			return
		}
		writeSuccess(w, struct{}{})
	}))
}

// Revoke ends every session of openID at once, on every instance sharing
// the store: its v2 tokens and its v1 code. Use it when a user is banned
// or deletes their account. Errors are store faults, or ErrConfig without
// a TokenStore.
func (m *Middleware) Revoke(ctx context.Context, openID string) error {
	if m.cfg.TokenStore == nil {
		return fmt.Errorf("%w: Revoke needs a TokenStore", ErrConfig)
	}
	if err := m.cfg.TokenStore.DeleteUser(ctx, openID); err != nil {
		return fmt.Errorf("wxsession: revoke: %w", err)
	}
	return nil
}

// Lookup returns the user of a v2 token, as a request bearing it would
// get, without extending its life. found is false for a token that is
// unknown, malformed, expired or logged out. Errors are store faults, or
// ErrConfig without a TokenStore.
func (m *Middleware) Lookup(ctx context.Context, token string) (u User, found bool, err error) {
	if m.cfg.TokenStore == nil {
		return User{}, false, fmt.Errorf("%w: Lookup needs a TokenStore", ErrConfig)
	}
	if !validToken(token) {
		return User{}, false, nil
	}
	ts, found, err := m.getToken(ctx, HashToken(token))
	if err != nil || !found {
		return User{}, false, err
	}
	return ts.User, true, nil
}

// Decrypt decrypts WeChat's encryptedData (with its iv) using the
// session_key of the session in ctx (a request's context, after Handler),
// v1 or v2, through Config.Decrypt, so that the key never leaves the
// library. Errors: ErrNoSession without a session; ErrSessionKeyStale
// when the key no longer opens (Config.Secret changed), the session has
// none (IgnoreSignature), or, after a decryption that failed on the key
// (not on the input's form), Config.SessionKeyChecker says WeChat no
// longer accepts it; ErrConfig
// without Config.Decrypt; else Config.Decrypt's error, wrapped.
func (m *Middleware) Decrypt(ctx context.Context, encryptedData, iv string) ([]byte, error) {
	sess, ok := sessionFrom(ctx)
	if !ok {
		return nil, ErrNoSession
	}
	if m.cfg.Decrypt == nil {
		return nil, fmt.Errorf("%w: Decrypt needs Config.Decrypt", ErrConfig)
	}
	openID := sess.user.OpenID
	key, err := m.keys.openSessionKey(openID, sess.sealedKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSessionKeyStale, err)
	}
	if key == "" {
		return nil, fmt.Errorf("%w: the session has no session key", ErrSessionKeyStale)
	}
	plain, err := m.cfg.Decrypt(key, encryptedData, iv)
	if err == nil {
		return plain, nil
	}
	if c := m.cfg.SessionKeyChecker; c != nil && !malformed(err) {
		valid, cerr := c.CheckSessionKey(ctx, openID, key)
		switch {
		case cerr != nil:
			m.log.WarnContext(ctx, "wxsession: checksession failed", "err", cerr)
		case !valid:
			return nil, fmt.Errorf("%w: WeChat no longer accepts it", ErrSessionKeyStale)
		}
	}
	return nil, fmt.Errorf("wxsession: decrypt: %w", err)
}

// malformed reports whether a decryption failed on the input's form (not
// base64, a short iv or data, a watermark of another app): any key would
// fail so, and asking WeChat about the key would cost a call for nothing,
// at a client's will.
func malformed(err error) bool {
	return errors.Is(err, wechat.ErrBadBase64) || errors.Is(err, wechat.ErrBadIV) ||
		errors.Is(err, wechat.ErrBadLength) || errors.Is(err, wechat.ErrWatermark)
}

// writeSuccess answers the 2016 success envelope
// {"code":0,"msg":"success","data":…}.
func writeSuccess(w http.ResponseWriter, data any) {
	b, err := json.Marshal(struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data any    `json:"data"`
	}{0, "success", data})
	if err != nil {
		panic("wxsession: encode answer: " + err.Error()) // data is this package's own types
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
