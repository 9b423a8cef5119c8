package wechatsim

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/yibi/yibi/wechat"
)

// TokenTTL is the life of the access tokens the simulator issues, 7200 s
// as WeChat's.
const TokenTTL = 2 * time.Hour

// stableRenewal is the last part of a stable token's life in which a
// normal stable_token call gets a new token (the old one stays valid
// until it expires), as WeChat documents.
const stableRenewal = 5 * time.Minute

// Stats counts the calls the simulator answered, for tests and over GET
// /sim/stats.
type Stats struct {
	// StableTokens is every stable_token answered with a token,
	// ForceRefreshes the forced ones among them that made a new token.
	StableTokens   int64 `json:"stableTokens"`
	ForceRefreshes int64 `json:"forceRefreshes"`
	// LegacyTokens is every /cgi-bin/token answered with a token.
	LegacyTokens int64 `json:"legacyTokens"`
	// PhoneNumbers is the paid getuserphonenumber calls: the ones
	// answered with a number.
	PhoneNumbers int64 `json:"phoneNumbers"`
	// CheckSessions and ResetSessionKeys count the calls answered
	// (valid or not).
	CheckSessions    int64 `json:"checkSessions"`
	ResetSessionKeys int64 `json:"resetSessionKeys"`
}

// appTokens is the token state of one app.
type appTokens struct {
	stable    string    // the current stable token ("" = none yet)
	stableExp time.Time // its expiry
	legacy    string
	forceDay  string // Beijing date of the force_refresh count
	forceN    int
	forceLast time.Time
}

type tokenInfo struct {
	app     string
	expires time.Time
}

// phoneCode is a getPhoneNumber code.
type phoneCode struct {
	appUser
	issued time.Time
	used   bool
}

var beijing = time.FixedZone("CST", 8*3600)

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// RotateTokens invalidates every access token of appID ("" = every app)
// behind its holders' backs, as a force_refresh by another server would:
// their next call is answered 40001, and the next stable_token gets a new
// token.
func (s *Sim) RotateTokens(appID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, ti := range s.tokens {
		if appID == "" || ti.app == appID {
			delete(s.tokens, tok)
		}
	}
	for app, at := range s.apps {
		if appID == "" || app == appID {
			at.stable, at.legacy = "", ""
		}
	}
}

// fault applies the injected delay and failure (SetDelay, SetFail) that
// every server API call goes through.
func (s *Sim) fault(ctx context.Context) error {
	if d := time.Duration(s.delay.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if c := s.fail.Load(); c != 0 {
		msg := "system error (injected fault)"
		if c == wechat.CodeRateLimited {
			msg = "api minute-quota reach limit  mustslower  retry next minute (injected fault)"
		}
		return &wechat.Error{Code: int(c), Msg: msg}
	}
	return nil
}

// checkApp checks an app id and secret.
func (s *Sim) checkApp(appID, secret string) error {
	want, ok := s.cfg.Apps[appID]
	if !ok {
		return &wechat.Error{Code: wechat.CodeInvalidAppID, Msg: "invalid appid"}
	}
	if secret != want {
		return &wechat.Error{Code: wechat.CodeInvalidSecret, Msg: "invalid appsecret"}
	}
	return nil
}

// tokenAnswer is what both token endpoints answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *Sim) appTokensLocked(appID string) *appTokens {
	at := s.apps[appID]
	if at == nil {
		at = &appTokens{}
		s.apps[appID] = at
	}
	return at
}

// StableToken is POST /cgi-bin/stable_token. A normal call returns the
// current token, or a new one in the last 5 minutes of its life (the old
// one stays valid until it expires). force makes a new token and
// invalidates the old one, at most 20 times a day (errcode 45009 after)
// and 30 s apart (a force sooner returns the current token, unchanged).
func (s *Sim) StableToken(ctx context.Context, appID, secret string, force bool) (token string, expiresIn int64, err error) {
	if err := s.fault(ctx); err != nil {
		return "", 0, err
	}
	if err := s.checkApp(appID, secret); err != nil {
		return "", 0, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.appTokensLocked(appID)
	current := at.stable != "" && now.Before(at.stableExp)
	switch {
	case force:
		day := now.In(beijing).Format(time.DateOnly)
		if at.forceDay != day {
			at.forceDay, at.forceN = day, 0
		}
		if current && now.Sub(at.forceLast) < 30*time.Second {
			break // WeChat: "otherwise it does not refresh"
		}
		if at.forceN >= 20 {
			return "", 0, &wechat.Error{Code: wechat.CodeDailyQuota, Msg: "reach max api daily quota limit"}
		}
		at.forceN++
		at.forceLast = now
		delete(s.tokens, at.stable)
		s.newStableLocked(appID, at, now)
		s.stats.ForceRefreshes++
	case !current || at.stableExp.Sub(now) <= stableRenewal:
		// The old token stays in s.tokens until it expires.
		s.newStableLocked(appID, at, now)
	}
	s.stats.StableTokens++
	return at.stable, int64(at.stableExp.Sub(now) / time.Second), nil
}

func (s *Sim) newStableLocked(appID string, at *appTokens, now time.Time) {
	at.stable, at.stableExp = "st"+randomToken(24), now.Add(TokenTTL)
	s.tokens[at.stable] = tokenInfo{app: appID, expires: at.stableExp}
	s.sweepTokensLocked(now)
}

// sweepTokensLocked forgets tokens expired for more than a day (they
// answer 40001 rather than 42001 after that). s.mu is held.
func (s *Sim) sweepTokensLocked(now time.Time) {
	for tok, ti := range s.tokens {
		if now.Sub(ti.expires) > 24*time.Hour {
			delete(s.tokens, tok)
		}
	}
}

// LegacyToken is GET /cgi-bin/token: a new token on every call, which
// invalidates the previous one (40001 for whoever still holds it).
func (s *Sim) LegacyToken(ctx context.Context, appID, secret string) (token string, expiresIn int64, err error) {
	if err := s.fault(ctx); err != nil {
		return "", 0, err
	}
	if err := s.checkApp(appID, secret); err != nil {
		return "", 0, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.appTokensLocked(appID)
	delete(s.tokens, at.legacy)
	at.legacy = "lt" + randomToken(24)
	s.tokens[at.legacy] = tokenInfo{app: appID, expires: now.Add(TokenTTL)}
	s.sweepTokensLocked(now)
	s.stats.LegacyTokens++
	return at.legacy, int64(TokenTTL / time.Second), nil
}

// checkTokenLocked answers 41001 (missing), 40001 (unknown or replaced)
// or 42001 (expired), else the token's app. s.mu is held.
func (s *Sim) checkTokenLocked(token string, now time.Time) (string, error) {
	if token == "" {
		return "", &wechat.Error{Code: wechat.CodeMissingToken, Msg: "access_token missing"}
	}
	ti, ok := s.tokens[token]
	if !ok {
		return "", &wechat.Error{Code: wechat.CodeInvalidToken, Msg: "invalid credential, access_token is invalid or not latest"}
	}
	if !now.Before(ti.expires) {
		return "", &wechat.Error{Code: wechat.CodeTokenExpired, Msg: "access_token expired"}
	}
	return ti.app, nil
}

// PhoneNumberOf is the simulated user's phone number: a mainland China
// mobile number derived from the user's name, so stable.
func PhoneNumberOf(user string) wechat.PhoneNumber {
	sum := sha256.Sum256([]byte("phone\x00" + user))
	n := (uint64(sum[0])<<24 | uint64(sum[1])<<16 | uint64(sum[2])<<8 | uint64(sum[3])) % 100000000
	pure := fmt.Sprintf("138%08d", n)
	return wechat.PhoneNumber{PhoneNumber: pure, PurePhoneNumber: pure, CountryCode: "86"}
}

// PhoneCode is the client side of <button open-type="getPhoneNumber">:
// a one-time code for user's number, exchangeable for 5 minutes. With it
// come the number as encryptedData and iv under the user's session_key
// (the old phone flow), so the user must have logged in.
func (s *Sim) PhoneCode(appID, user string) (code, encryptedData, iv string, err error) {
	app, key, err := s.currentKey(appID, user)
	if err != nil {
		return "", "", "", err
	}
	pn := PhoneNumberOf(user)
	encryptedData, iv, err = s.encrypt(app, key, map[string]any{
		"phoneNumber": pn.PhoneNumber, "purePhoneNumber": pn.PurePhoneNumber, "countryCode": pn.CountryCode,
	})
	if err != nil {
		return "", "", "", err
	}
	code = randomToken(24)
	now := s.cfg.Now()
	s.mu.Lock()
	s.sweep(now)
	s.phoneCodes[code] = &phoneCode{appUser: appUser{app, user}, issued: now}
	s.mu.Unlock()
	return code, encryptedData, iv, nil
}

// WeRunData is wx.getWeRunData: the user's steps of the last 31 days as
// encryptedData and iv under the user's session_key.
func (s *Sim) WeRunData(appID, user string) (encryptedData, iv string, err error) {
	app, key, err := s.currentKey(appID, user)
	if err != nil {
		return "", "", err
	}
	now := s.cfg.Now().In(beijing)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, beijing)
	type day struct {
		Timestamp int64 `json:"timestamp"`
		Step      int   `json:"step"`
	}
	steps := make([]day, 31)
	for i := range steps {
		d := midnight.AddDate(0, 0, i-30)
		sum := sha256.Sum256([]byte(user + "\x00" + d.Format(time.DateOnly)))
		steps[i] = day{Timestamp: d.Unix(), Step: int(sum[0])<<6 | int(sum[1])>>2}
	}
	return s.encrypt(app, key, map[string]any{"stepInfoList": steps})
}

// currentKey resolves the app and returns user's current session_key.
func (s *Sim) currentKey(appID, user string) (app, key string, err error) {
	app, err = s.resolveApp(appID)
	if err != nil {
		return "", "", err
	}
	s.mu.Lock()
	st, ok := s.users[appUser{app, user}]
	if ok {
		key = st.sessionKey
	}
	s.mu.Unlock()
	if !ok {
		return "", "", ErrNotLogged
	}
	return app, key, nil
}

// encrypt adds WeChat's watermark to v and encrypts it as WeChat does.
func (s *Sim) encrypt(app, key string, v map[string]any) (encryptedData, iv string, err error) {
	v["watermark"] = map[string]any{"appid": app, "timestamp": s.cfg.Now().Unix()}
	b, err := json.Marshal(v)
	if err != nil {
		return "", "", err
	}
	return wechat.Encrypt(key, b)
}

// PhoneNumber is POST /wxa/business/getuserphonenumber: the number for a
// getPhoneNumber code, once per code; a paid call (Stats.PhoneNumbers)
// when it answers a number. openID, when given, must be the code's user
// (40003 otherwise).
func (s *Sim) PhoneNumber(ctx context.Context, token, code, openID string) (wechat.PhoneNumber, error) {
	if err := s.fault(ctx); err != nil {
		return wechat.PhoneNumber{}, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	app, err := s.checkTokenLocked(token, now)
	if err != nil {
		return wechat.PhoneNumber{}, err
	}
	pc, ok := s.phoneCodes[code]
	switch {
	case !ok || pc.app != app || now.Sub(pc.issued) > s.cfg.CodeTTL:
		return wechat.PhoneNumber{}, &wechat.Error{Code: wechat.CodeInvalidCode, Msg: "invalid code"}
	case pc.used:
		return wechat.PhoneNumber{}, &wechat.Error{Code: wechat.CodeCodeUsed, Msg: "code been used"}
	case openID != "" && openID != OpenID(app, pc.user):
		return wechat.PhoneNumber{}, &wechat.Error{Code: wechat.CodeInvalidOpenID, Msg: "invalid openid"}
	}
	pc.used = true
	s.stats.PhoneNumbers++
	return PhoneNumberOf(pc.user), nil
}

// userCallLocked checks what checksession and resetusersessionkey share:
// the token, the openid, and the signature with the current session_key.
// s.mu is held.
func (s *Sim) userCallLocked(token, openID, signature, sigMethod string, now time.Time) (*userState, error) {
	app, err := s.checkTokenLocked(token, now)
	if err != nil {
		return nil, err
	}
	au, ok := s.openIDs[openID]
	if !ok || au.app != app {
		return nil, &wechat.Error{Code: wechat.CodeInvalidOpenID, Msg: "invalid openid"}
	}
	st := s.users[au]
	want := wechat.Sign(st.sessionKey, "")
	if sigMethod != "hmac_sha256" || !hmac.Equal([]byte(signature), []byte(want)) {
		return nil, &wechat.Error{Code: wechat.CodeInvalidSignature, Msg: "invalid signature"}
	}
	return st, nil
}

// CheckSession is GET /wxa/checksession: nil when signature is the
// HMAC-SHA256 of "" keyed by the user's current session_key, 87009 when
// not.
func (s *Sim) CheckSession(ctx context.Context, token, openID, signature, sigMethod string) error {
	if err := s.fault(ctx); err != nil {
		return err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.CheckSessions++
	_, err := s.userCallLocked(token, openID, signature, sigMethod, now)
	return err
}

// ResetSessionKey is GET /wxa/resetusersessionkey: checked as
// CheckSession, then the user gets a new session_key.
func (s *Sim) ResetSessionKey(ctx context.Context, token, openID, signature, sigMethod string) (wechat.Session, error) {
	if err := s.fault(ctx); err != nil {
		return wechat.Session{}, err
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.ResetSessionKeys++
	st, err := s.userCallLocked(token, openID, signature, sigMethod, now)
	if err != nil {
		return wechat.Session{}, err
	}
	st.sessionKey = newSessionKey()
	return wechat.Session{OpenID: openID, SessionKey: st.sessionKey}, nil
}

// serveAPI serves the server API calls that need no special handling:
// do returns the answer or a *wechat.Error, written as WeChat writes
// them (HTTP 200 either way); another error means the caller went away.
func serveAPI(w http.ResponseWriter, r *http.Request, method string, do func() (any, error)) {
	if r.Method != method {
		w.Header().Set("Allow", method)
		code := 43001
		if method == http.MethodPost {
			code = 43002
		}
		writeJSON(w, http.StatusMethodNotAllowed, wechat.Error{Code: code, Msg: "require " + method + " method"})
		return
	}
	out, err := do()
	if err != nil {
		if we, ok := err.(*wechat.Error); ok {
			writeJSON(w, http.StatusOK, we)
		}
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// decodeBody reads a WeChat API JSON body into v; a bad one is 47001.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxSimBody)
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return &wechat.Error{Code: 47001, Msg: "data format error"}
	}
	return nil
}

func (s *Sim) serveServerAPI(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	ok := map[string]any{"errcode": 0, "errmsg": "ok"}
	switch r.URL.Path {
	case "/cgi-bin/stable_token":
		serveAPI(w, r, http.MethodPost, func() (any, error) {
			var in struct {
				GrantType    string `json:"grant_type"`
				AppID        string `json:"appid"`
				Secret       string `json:"secret"`
				ForceRefresh bool   `json:"force_refresh"`
			}
			if err := decodeBody(w, r, &in); err != nil {
				return nil, err
			}
			if in.GrantType != "client_credential" {
				return nil, &wechat.Error{Code: 40002, Msg: "invalid grant_type"}
			}
			tok, exp, err := s.StableToken(r.Context(), in.AppID, in.Secret, in.ForceRefresh)
			return tokenAnswer{tok, exp}, err
		})
	case "/cgi-bin/token":
		serveAPI(w, r, http.MethodGet, func() (any, error) {
			if q.Get("grant_type") != "client_credential" {
				return nil, &wechat.Error{Code: 40002, Msg: "invalid grant_type"}
			}
			tok, exp, err := s.LegacyToken(r.Context(), q.Get("appid"), q.Get("secret"))
			return tokenAnswer{tok, exp}, err
		})
	case "/wxa/business/getuserphonenumber":
		serveAPI(w, r, http.MethodPost, func() (any, error) {
			var in struct {
				Code   string `json:"code"`
				OpenID string `json:"openid"`
			}
			if err := decodeBody(w, r, &in); err != nil {
				return nil, err
			}
			pn, err := s.PhoneNumber(r.Context(), q.Get("access_token"), in.Code, in.OpenID)
			if err != nil {
				return nil, err
			}
			app := s.tokenApp(q.Get("access_token"))
			return map[string]any{"errcode": 0, "errmsg": "ok", "phone_info": map[string]any{
				"phoneNumber": pn.PhoneNumber, "purePhoneNumber": pn.PurePhoneNumber, "countryCode": pn.CountryCode,
				"watermark": map[string]any{"timestamp": s.cfg.Now().Unix(), "appid": app},
			}}, nil
		})
	case "/wxa/checksession":
		serveAPI(w, r, http.MethodGet, func() (any, error) {
			err := s.CheckSession(r.Context(), q.Get("access_token"), q.Get("openid"), q.Get("signature"), q.Get("sig_method"))
			return ok, err
		})
	case "/wxa/resetusersessionkey":
		serveAPI(w, r, http.MethodGet, func() (any, error) {
			sess, err := s.ResetSessionKey(r.Context(), q.Get("access_token"), q.Get("openid"), q.Get("signature"), q.Get("sig_method"))
			return map[string]any{"errcode": 0, "errmsg": "ok", "openid": sess.OpenID, "session_key": sess.SessionKey}, err
		})
	default:
		return false
	}
	return true
}

// tokenApp is the app of a token, for the watermark.
func (s *Sim) tokenApp(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[token].app
}

// serveFault is POST /sim/fault: {"fail": errcode, "delayMs": n,
// "rotateTokens": true, "appid": "…"}; each field present sets its
// switch (fail 0 and delayMs 0 turn theirs off).
func (s *Sim) serveFault(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST", "fault")
		return
	}
	var in struct {
		Fail         *int   `json:"fail"`
		DelayMs      *int64 `json:"delayMs"`
		RotateTokens bool   `json:"rotateTokens"`
		AppID        string `json:"appid"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSimBody)
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errMsg": "fault:fail body is not a JSON object {fail?, delayMs?, rotateTokens?, appid?}"})
		return
	}
	if in.DelayMs != nil && (*in.DelayMs < 0 || *in.DelayMs > 600_000) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"errMsg": "fault:fail delayMs must be 0 to 600000"})
		return
	}
	if in.Fail != nil {
		s.SetFail(*in.Fail)
	}
	if in.DelayMs != nil {
		s.SetDelay(time.Duration(*in.DelayMs) * time.Millisecond)
	}
	if in.RotateTokens {
		s.RotateTokens(in.AppID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"errMsg": "fault:ok", "fail": s.fail.Load(), "delayMs": time.Duration(s.delay.Load()).Milliseconds()})
}
