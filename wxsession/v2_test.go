package wxsession_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

// loginAnswer is the data of a v2 login's success envelope.
type loginAnswer struct {
	Token     string `json:"token"`
	ExpiresIn int64  `json:"expiresIn"`
	IsNew     bool   `json:"isNew"`
	User      struct {
		NickName  string `json:"nickName"`
		AvatarURL string `json:"avatarUrl"`
	} `json:"user"`
}

// post sends a POST to path with a JSON body and the given headers.
func (e *env) post(path, body string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// loginV2 logs code in by v2 and returns the answer, failing unless 200.
func (e *env) loginV2(code string) loginAnswer {
	e.t.Helper()
	w := e.post("/session/login", `{"code":"`+code+`"}`, nil)
	if w.Code != http.StatusOK {
		e.t.Fatalf("v2 login: got %d %s, want 200", w.Code, w.Body)
	}
	var env struct {
		Code int         `json:"code"`
		Msg  string      `json:"msg"`
		Data loginAnswer `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Code != 0 || env.Msg != "success" {
		e.t.Fatalf("v2 login body %s: %v, want the success envelope", w.Body, err)
	}
	return env.Data
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// tokenStatus is the status of a request bearing token.
func (e *env) tokenStatus(token string) int { return e.do("/", bearer(token)).Code }

func TestV2Login(t *testing.T) {
	e := newEnv(t, nil)
	a := e.loginV2(e.wx.login("ann"))
	if len(a.Token) != 43 || strings.ContainsAny(a.Token, "+/=") {
		t.Errorf("token %q: want 43 base64url characters", a.Token)
	}
	if want := int64(wxsession.DefaultIdleTimeout / time.Second); a.ExpiresIn != want {
		t.Errorf("expiresIn: got %d, want %d", a.ExpiresIn, want)
	}
	if a.IsNew || a.User.NickName != "" || a.User.AvatarURL != "" {
		t.Errorf("user without Profiles: got isNew %v %+v, want false and empty", a.IsNew, a.User)
	}
	if got := e.result(); got != wxsession.ResultOK {
		t.Errorf("OnLogin: got %q, want %q", got, wxsession.ResultOK)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		w := e.do("/", map[string]string{"Authorization": scheme + "  " + a.Token + " "})
		checkUser(t, w, openID("ann"))
	}
	// The same person by v1 is the same user in the context.
	checkUser(t, e.do("/", e.loginHeaders("ann")), openID("ann"))
}

func TestV2Profiles(t *testing.T) {
	profiles := profileMap{openID("ann"): {"安", "/applet/session/avatars/ab.png"}}
	e := newEnv(t, func(c *wxsession.Config) { c.Profiles = profiles })
	a := e.loginV2(e.wx.login("ann"))
	if a.IsNew || a.User.NickName != "安" || a.User.AvatarURL != "/applet/session/avatars/ab.png" {
		t.Errorf("ann: got isNew %v %+v, want her profile", a.IsNew, a.User)
	}
	b := e.loginV2(e.wx.login("bob"))
	if !b.IsNew || b.User.NickName != "" {
		t.Errorf("bob: got isNew %v %+v, want isNew and no profile", b.IsNew, b.User)
	}
}

type profileMap map[string][2]string

func (p profileMap) Profile(_ context.Context, openID string) (string, string, error) {
	return p[openID][0], p[openID][1], nil
}

// TestV2Authorization: what a request may carry beside or instead of a
// token (protocol-v2.md "Details").
func TestV2Authorization(t *testing.T) {
	e := newEnv(t, nil)
	token := e.loginV2(e.wx.login("ann")).Token
	v1 := e.loginHeaders("bob")
	tests := []struct {
		name   string
		header http.Header
		status int
		reason string
	}{
		{"EmptyIsAnonymous", http.Header{"Authorization": {""}}, 200, ""},
		{"BearerAndV1CodeBadRequest", http.Header{"Authorization": {"Bearer " + token}, "X-Wx-Code": {v1["X-WX-Code"]}}, 400, wxsession.ReasonBadRequest},
		{"BearerAndV1LoginBadRequest", http.Header{"Authorization": {"Bearer " + token}, "X-Wx-Code": {v1["X-WX-Code"]}, "X-Wx-Rawdata": {v1["X-WX-RawData"]}, "X-Wx-Signature": {v1["X-WX-Signature"]}}, 400, wxsession.ReasonBadRequest},
		{"TwoHeadersBadRequest", http.Header{"Authorization": {"Bearer " + token, "Bearer " + token}}, 400, wxsession.ReasonBadRequest},
		{"TwoSpellingsBadRequest", http.Header{"Authorization": {"Bearer " + token}, "authorization": {"Bearer x"}}, 400, wxsession.ReasonBadRequest},
		{"OtherSchemeBadRequest", http.Header{"Authorization": {"Basic YTpi"}}, 400, wxsession.ReasonBadRequest},
		{"BearerAloneBadRequest", http.Header{"Authorization": {"Bearer"}}, 400, wxsession.ReasonBadRequest},
		{"MalformedTokenExpired", http.Header{"Authorization": {"Bearer not/a+token"}}, 401, wxsession.ReasonSessionExpired},
		{"UnknownTokenExpired", http.Header{"Authorization": {"Bearer " + strings.Repeat("A", 43)}}, 401, wxsession.ReasonSessionExpired},
		{"StoreHashIsNoToken", http.Header{"Authorization": {"Bearer " + wxsession.HashToken(token)}}, 401, wxsession.ReasonSessionExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header = tt.header
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if tt.status == 200 {
				if w.Code != 200 || w.Body.String() != "anonymous" {
					t.Errorf("got %d %q, want 200 anonymous", w.Code, w.Body)
				}
				return
			}
			checkEnvelope(t, w, tt.status, tt.reason)
		})
	}
}

// TestV2Lifetime: the idle limit slides with use, never past the
// absolute limit, and the store is written at most once per 1/16 of the
// idle limit.
func TestV2Lifetime(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	token := e.loginV2(e.wx.login("ann")).Token
	expiresAt := func() time.Time {
		ts, ok, err := e.store.GetToken(ctx, wxsession.HashToken(token))
		if err != nil || !ok {
			t.Fatalf("GetToken: found %v, err %v", ok, err)
		}
		return ts.ExpiresAt
	}
	login := e.clock.now()
	first := expiresAt()
	if want := login.Add(wxsession.DefaultIdleTimeout); !first.Equal(want) {
		t.Fatalf("ExpiresAt after login: got %v, want %v", first, want)
	}
	e.clock.ns.Add(int64(time.Hour))
	if got := e.tokenStatus(token); got != 200 {
		t.Fatalf("after 1h: got %d, want 200", got)
	}
	if got := expiresAt(); !got.Equal(first) {
		t.Errorf("ExpiresAt after a use within 1/16 of the idle limit: got %v, want %v (no write)", got, first)
	}
	e.clock.ns.Add(int64(wxsession.DefaultIdleTimeout / 16))
	e.tokenStatus(token)
	if got, want := expiresAt(), e.clock.now().Add(wxsession.DefaultIdleTimeout); !got.Equal(want) {
		t.Errorf("ExpiresAt after a later use: got %v, want %v", got, want)
	}
	// Used every 6 days it lives, up to 30 days after the login.
	for day := 6; ; day += 6 {
		e.clock.ns.Store(login.Add(time.Duration(day) * 24 * time.Hour).UnixNano())
		want := 200
		if day >= 30 {
			want = 401
		}
		if got := e.tokenStatus(token); got != want {
			t.Fatalf("day %d: got %d, want %d", day, got, want)
		}
		if day >= 30 {
			break
		}
	}
	// Unused, it dies after the idle limit.
	idle := e.loginV2(e.wx.login("bob")).Token
	e.clock.ns.Add(int64(wxsession.DefaultIdleTimeout - time.Second))
	if got := e.tokenStatus(idle); got != 200 {
		t.Errorf("just before the idle limit: got %d, want 200", got)
	}
	e.clock.ns.Add(int64(wxsession.DefaultIdleTimeout))
	if got := e.tokenStatus(idle); got != 401 {
		t.Errorf("idle past the limit: got %d, want 401", got)
	}
}

// TestV2SameCode: a retried code gets the same token from one exchange;
// after logout it gives nothing; after its life WeChat refuses it.
func TestV2SameCode(t *testing.T) {
	e := newEnv(t, nil)
	code := e.wx.login("ann")
	first := e.loginV2(code)
	e.clock.ns.Add(int64(time.Minute))
	again := e.loginV2(code)
	if again.Token != first.Token {
		t.Errorf("retried code: got another token, want the same")
	}
	if got := e.wx.exchanges.Load(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
	if w := e.post("/session/logout", "", bearer(first.Token)); w.Code != 200 {
		t.Fatalf("logout: got %d %s", w.Code, w.Body)
	}
	checkEnvelope(t, e.post("/session/login", `{"code":"`+code+`"}`, nil), 401, wxsession.ReasonSessionExpired)
	e.clock.ns.Add(int64(wxsession.CodeLifetime))
	checkEnvelope(t, e.post("/session/login", `{"code":"`+code+`"}`, nil), 401, wxsession.ReasonExchangeFailed)
}

// TestV2ConcurrentLogins: 50 logins with one code at once share one
// exchange and one session.
func TestV2ConcurrentLogins(t *testing.T) {
	e := newEnv(t, func(c *wxsession.Config) { c.ExchangeTimeout = 5 * time.Second; c.MaxSessions = 50 })
	e.wx.sim.SetDelay(100 * time.Millisecond)
	code := e.wx.login("ann")
	const n = 50
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := e.post("/session/login", `{"code":"`+code+`"}`, nil)
			var env struct{ Data loginAnswer }
			json.Unmarshal(w.Body.Bytes(), &env)
			tokens[i] = fmt.Sprint(w.Code, " ", env.Data.Token)
		})
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok != tokens[0] || !strings.HasPrefix(tok, "200 ") {
			t.Errorf("login %d: got %q, want %q", i, tok, tokens[0])
		}
	}
	if got := e.wx.exchanges.Load(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
	// One session: a second login of ann, capped at 1, evicts exactly it.
	evicted, err := e.store.CreateToken(context.Background(), "probe", wxsession.TokenSession{
		User: wxsession.User{OpenID: openID("ann")}, CreatedAt: e.clock.now(), ExpiresAt: e.clock.now().Add(time.Hour), Deadline: e.clock.now().Add(time.Hour),
	}, 1)
	if err != nil || len(evicted) != 1 || evicted[0] != wxsession.HashToken(strings.TrimPrefix(tokens[0], "200 ")) {
		t.Errorf("ann's sessions: evicted %v (err %v), want exactly the shared login's", evicted, err)
	}
}

func TestV2SessionCap(t *testing.T) {
	e := newEnv(t, func(c *wxsession.Config) { c.MaxSessions = 2 })
	var tokens []string
	for range 3 {
		tokens = append(tokens, e.loginV2(e.wx.login("ann")).Token)
		e.clock.ns.Add(int64(time.Second))
	}
	other := e.loginV2(e.wx.login("bob")).Token
	for i, want := range []int{401, 200, 200} {
		if got := e.tokenStatus(tokens[i]); got != want {
			t.Errorf("ann's login %d: got %d, want %d", i, got, want)
		}
	}
	if got := e.tokenStatus(other); got != 200 {
		t.Errorf("bob: got %d, want 200", got)
	}
}

func TestV2Logout(t *testing.T) {
	e := newEnv(t, nil)
	t1 := e.loginV2(e.wx.login("ann")).Token
	t2 := e.loginV2(e.wx.login("ann")).Token
	bob := e.loginV2(e.wx.login("bob")).Token
	v1 := e.loginHeaders("ann")
	if w := e.do("/", v1); w.Code != 200 {
		t.Fatalf("v1 login: %d %s", w.Code, w.Body)
	}
	v1Code := map[string]string{"X-WX-Code": v1["X-WX-Code"]}

	checkEnvelope(t, e.post("/session/logout", "", nil), 401, wxsession.ReasonSessionExpired)
	if w := e.post("/session/logout", "", bearer(t1)); w.Code != 200 || !strings.Contains(w.Body.String(), `"data":{}`) {
		t.Fatalf("logout: got %d %s, want 200 with data {}", w.Code, w.Body)
	}
	if got1, got2 := e.tokenStatus(t1), e.tokenStatus(t2); got1 != 401 || got2 != 200 {
		t.Errorf("after logout of t1: got %d, %d, want 401, 200", got1, got2)
	}
	if w := e.post("/session/logout?all=1", "", bearer(t2)); w.Code != 200 {
		t.Fatalf("logout all: got %d %s", w.Code, w.Body)
	}
	if got := e.tokenStatus(t2); got != 401 {
		t.Errorf("t2 after logout all: got %d, want 401", got)
	}
	checkEnvelope(t, e.do("/", v1Code), 401, wxsession.ReasonSessionExpired)
	if got := e.tokenStatus(bob); got != 200 {
		t.Errorf("bob after ann's logout all: got %d, want 200", got)
	}
	// A v1 session logs out by its code.
	v1b := e.loginHeaders("bob")
	e.do("/", v1b)
	if w := e.post("/session/logout", "", map[string]string{"X-WX-Code": v1b["X-WX-Code"]}); w.Code != 200 {
		t.Fatalf("v1 logout: got %d %s", w.Code, w.Body)
	}
	checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": v1b["X-WX-Code"]}), 401, wxsession.ReasonSessionExpired)
	if got := e.tokenStatus(bob); got != 200 {
		t.Errorf("bob's token after his v1 logout: got %d, want 200", got)
	}
}

func TestV2RevokeAndLookup(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	token := e.loginV2(e.wx.login("ann")).Token
	u, found, err := e.m.Lookup(ctx, token)
	if err != nil || !found || u.OpenID != openID("ann") {
		t.Errorf("Lookup: got %+v %v %v, want ann", u, found, err)
	}
	for _, bad := range []string{"", "x", wxsession.HashToken(token), strings.Repeat("A", 43)} {
		if _, found, err := e.m.Lookup(ctx, bad); found || err != nil {
			t.Errorf("Lookup(%q): got found %v, err %v, want not found", bad, found, err)
		}
	}
	if err := e.m.Revoke(ctx, openID("ann")); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := e.m.Lookup(ctx, token); found {
		t.Error("Lookup after Revoke: got found, want not found")
	}
}

func TestV2LoginBadInput(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, method, ctype, body string
		status                    int
	}{
		{"GetNotAllowed", "GET", "", "", 405},
		{"NotJSONBadRequest", "POST", "application/json", "code=x", 400},
		{"NoCodeBadRequest", "POST", "application/json", `{"c":"x"}`, 400},
		{"CodeNotStringBadRequest", "POST", "application/json", `{"code":5}`, 400},
		{"EmptyCodeBadRequest", "POST", "application/json", `{"code":""}`, 400},
		{"LongCodeBadRequest", "POST", "application/json", `{"code":"` + strings.Repeat("a", 300) + `"}`, 400},
		{"SpaceInCodeBadRequest", "POST", "application/json", `{"code":"a b"}`, 400},
		{"HugeBodyBadRequest", "POST", "application/json", `{"code":"` + strings.Repeat("a", 1<<20) + `"}`, 400},
		{"TwoFormCodesBadRequest", "POST", "application/x-www-form-urlencoded", "code=a&code=b", 400},
		{"UnknownCodeRefused", "POST", "application/x-www-form-urlencoded", "code=never-made", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/session/login", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			reason := wxsession.ReasonBadRequest
			if tt.status == 401 {
				reason = wxsession.ReasonExchangeFailed
			}
			checkEnvelope(t, w, tt.status, reason)
		})
	}
	t.Run("FormLogin", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/session/login", strings.NewReader("code="+e.wx.login("ann")))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("form login: got %d %s, want 200", w.Code, w.Body)
		}
	})
}

// keyRecorder is a Config.Decrypt that reports the session_key it got.
type keyRecorder struct{ got string }

func (k *keyRecorder) decrypt(sessionKey, data, iv string) ([]byte, error) {
	k.got = sessionKey
	if data == "bad" {
		return nil, errors.New("bad padding")
	}
	return []byte(`{"ok":true}`), nil
}

// staleChecker says every session_key is no longer WeChat's.
type staleChecker struct{}

func (staleChecker) CheckSessionKey(context.Context, string, string) (bool, error) { return false, nil }

// decryptIn runs m.Decrypt inside a request bearing headers.
func decryptIn(m *wxsession.Middleware, headers map[string]string, data string) (plain []byte, err error) {
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plain, err = m.Decrypt(r.Context(), data, "iv")
	}))
	r := httptest.NewRequest("GET", "/", nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	return plain, err
}

// TestSessionKeySealed: the store holds session keys sealed (v1, v2 and
// kept exchanges), Decrypt gets them back, and a new Secret makes them
// stale while the sessions go on.
func TestSessionKeySealed(t *testing.T) {
	keys := &keyRecorder{}
	e := newEnv(t, func(c *wxsession.Config) { c.Decrypt = keys.decrypt })
	ctx := context.Background()
	v2code := e.wx.login("ann")
	token := e.loginV2(v2code).Token
	annKey := e.wx.keys["ann"]
	v1 := e.loginHeaders("bob")
	e.do("/", v1)
	bobKey := e.wx.keys["bob"]

	ts, _, _ := e.store.GetToken(ctx, wxsession.HashToken(token))
	s, _, _ := e.store.Get(ctx, v1["X-WX-Code"])
	x, _, _ := e.store.GetExchange(ctx, v2code)
	for name, v := range map[string]string{"token session": ts.SealedSessionKey, "v1 session": s.SessionKey, "exchange": x.SessionKey, "exchange token": x.SealedToken} {
		if !strings.HasPrefix(v, "s1.") || strings.Contains(v, annKey) || strings.Contains(v, bobKey) || strings.Contains(v, token) {
			t.Errorf("%s: got %q, want a sealed value", name, v)
		}
	}

	for _, tt := range []struct {
		name    string
		headers map[string]string
		key     string
	}{{"V2", bearer(token), annKey}, {"V1", map[string]string{"X-WX-Code": v1["X-WX-Code"]}, bobKey}} {
		plain, err := decryptIn(e.m, tt.headers, "data")
		if err != nil || string(plain) != `{"ok":true}` || keys.got != tt.key {
			t.Errorf("%s Decrypt: got %s, %v, key ok %v; want the plain text with the session's key", tt.name, plain, err, keys.got == tt.key)
		}
	}
	if _, err := decryptIn(e.m, nil, "data"); !errors.Is(err, wxsession.ErrNoSession) {
		t.Errorf("Decrypt without session: got %v, want ErrNoSession", err)
	}
	if _, err := decryptIn(e.m, bearer(token), "bad"); err == nil || errors.Is(err, wxsession.ErrSessionKeyStale) {
		t.Errorf("Decrypt of bad data without a checker: got %v, want the decrypt error", err)
	}

	// Another instance with a checker that calls every key stale.
	checked, err := wxsession.New(wxsession.Config{Store: e.store, Exchanger: e.wx, Decrypt: keys.decrypt,
		SessionKeyChecker: staleChecker{}, Secret: []byte(e.wx.secret + strings.Repeat("x", 32)), Logger: e.m2logger(), Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	// Its Secret differs: the session works, its key does not open.
	if _, err := decryptIn(checked, bearer(token), "data"); !errors.Is(err, wxsession.ErrSessionKeyStale) {
		t.Errorf("Decrypt under another Secret: got %v, want ErrSessionKeyStale", err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	checked.Handler(echo).ServeHTTP(w, r)
	checkUser(t, w, openID("ann"))
	// The same Secret as e (derived from the app secret) opens the key;
	// the checker then calls a failed decryption stale.
	same, _ := wxsession.New(wxsession.Config{Store: e.store, Exchanger: e.wx, AppSecret: e.wx.secret, Decrypt: keys.decrypt,
		SessionKeyChecker: staleChecker{}, Logger: e.m2logger(), Now: e.clock.now})
	if _, err := decryptIn(same, bearer(token), "bad"); !errors.Is(err, wxsession.ErrSessionKeyStale) {
		t.Errorf("Decrypt failing with a stale key: got %v, want ErrSessionKeyStale", err)
	}
	if _, err := decryptIn(same, bearer(token), "data"); err != nil {
		t.Errorf("Decrypt under the same Secret: got %v, want nil", err)
	}
}

// m2logger is a logger for a second middleware on e's store, writing to
// e's log buffer so its lines are checked for secrets too.
func (e *env) m2logger() *slog.Logger { return slog.New(slog.NewTextHandler(e.logs, nil)) }

func TestV2NeedsTokenStore(t *testing.T) {
	m, err := wxsession.New(wxsession.Config{Store: v1Only{memstore.New()}, IgnoreSignature: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Revoke(context.Background(), "o"); !errors.Is(err, wxsession.ErrConfig) {
		t.Errorf("Revoke: got %v, want ErrConfig", err)
	}
	r := httptest.NewRequest("POST", "/session/login", strings.NewReader(`{"code":"c"}`))
	w := httptest.NewRecorder()
	m.LoginHandler().ServeHTTP(w, r)
	checkEnvelope(t, w, 503, "")
}

// v1Only hides a store's TokenStore methods.
type v1Only struct{ wxsession.Store }

func TestNewSecretTooShort(t *testing.T) {
	_, err := wxsession.New(wxsession.Config{Store: memstore.New(), IgnoreSignature: true, Secret: []byte("short")})
	if !errors.Is(err, wxsession.ErrConfig) {
		t.Errorf("New: got %v, want ErrConfig", err)
	}
}
