package wxsession_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
	"github.com/yibi/yibi/wxsession/testenv"
)

const magic = "F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"

// env is a middleware in front of a handler that echoes the session user,
// with its fake WeChat, store and captured logs and OnLogin results.
type env struct {
	t       *testing.T
	wx      *fakeWeChat
	store   *memstore.Store
	clock   *clock
	m       *wxsession.Middleware
	h       http.Handler
	logs    *testenv.Buffer
	results chan string
}

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(0, c.ns.Load()) }

// echo answers "anonymous" or the session user's JSON.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, ok := wxsession.FromContext(r.Context())
	if !ok {
		w.Write([]byte("anonymous"))
		return
	}
	json.NewEncoder(w).Encode(u)
})

// newEnv builds an env; edit adjusts the config before New.
func newEnv(t *testing.T, edit func(*wxsession.Config)) *env {
	e := &env{t: t, wx: newFakeWeChat(t), clock: &clock{}, logs: &testenv.Buffer{}, results: make(chan string, 100)}
	e.clock.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	e.store = memstore.New(memstore.WithNow(e.clock.now))
	cfg := wxsession.Config{
		AppID: e.wx.appID, AppSecret: e.wx.secret, WeChatURL: e.wx.srv.URL,
		Store:           e.store,
		ExchangeTimeout: 300 * time.Millisecond,
		Logger:          slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnLogin:         func(_ context.Context, result string, _ time.Duration) { e.results <- result },
		Now:             e.clock.now,
		Ignore:          func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/static/") },
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := wxsession.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// v2 routes as an app mounts them (v2_test.go), the rest echoes.
	mux := http.NewServeMux()
	mux.Handle("/session/login", m.LoginHandler())
	mux.Handle("/session/logout", m.LogoutHandler())
	mux.Handle("/", m.Handler(echo))
	e.m, e.h = m, mux
	t.Cleanup(func() {
		for _, secret := range []string{e.wx.secret, "session_key", "sessionKey"} {
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("logs contain %q:\n%s", secret, e.logs)
			}
		}
		e.wx.mu.Lock()
		defer e.wx.mu.Unlock()
		for _, key := range e.wx.keys {
			if strings.Contains(e.logs.String(), key) {
				t.Errorf("logs contain a session_key:\n%s", e.logs)
			}
		}
	})
	return e
}

// do sends a request with the given headers (canonicalized unless raw).
func (e *env) do(path string, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// loginHeaders logs user in at the fake WeChat and returns the three headers.
func (e *env) loginHeaders(user string) map[string]string {
	code := e.wx.login(user)
	raw, sig := e.wx.userInfo(user)
	return map[string]string{"X-WX-Code": code, "X-WX-RawData": wxsession.EncodeRawData(raw), "X-WX-Signature": sig}
}

// envelope is the decoded session error envelope.
type envelope struct {
	Magic  int     `json:"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"`
	Reason *string `json:"reason"`
	Error  struct {
		Name    string `json:"name"`
		Message string `json:"message"`
		Detail  string `json:"detail"`
	} `json:"error"`
}

// checkEnvelope fails unless w is an envelope with status and reason ("" = absent).
func checkEnvelope(t *testing.T, w *httptest.ResponseRecorder, status int, reason string) envelope {
	t.Helper()
	if w.Code != status {
		t.Errorf("status: got %d, want %d (body %s)", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("body %q: %v, want the session envelope", w.Body, err)
	}
	if env.Magic != 1 {
		t.Errorf("magic key: got %d, want 1", env.Magic)
	}
	got := "<absent>"
	if env.Reason != nil {
		got = *env.Reason
	}
	want := reason
	if want == "" {
		want = "<absent>"
	}
	if got != want {
		t.Errorf("reason: got %s, want %s", got, want)
	}
	if env.Error.Name != "Error" || env.Error.Message == "" {
		t.Errorf("error: got %+v, want name Error and a message", env.Error)
	}
	return env
}

// checkUser fails unless w is the echo of a user with openID; it returns the user JSON.
func checkUser(t *testing.T, w *httptest.ResponseRecorder, openID string) map[string]any {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200 (body %s)", w.Code, w.Body)
	}
	var u map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &u); err != nil {
		t.Fatalf("body %q: %v, want user JSON", w.Body, err)
	}
	if u["openId"] != openID {
		t.Errorf("openId: got %v, want %s", u["openId"], openID)
	}
	return u
}

func (e *env) result() string {
	select {
	case r := <-e.results:
		return r
	case <-time.After(5 * time.Second):
		e.t.Fatal("OnLogin not called")
		return ""
	}
}

func TestNoCodeGoesOnAnonymous(t *testing.T) {
	e := newEnv(t, nil)
	for name, h := range map[string]map[string]string{
		"NoHeaders": nil,
		"EmptyCode": {"X-WX-Code": ""},
		// rawData without a code is not a login: the 2016 server ignored it.
		"RawDataOnly": {"X-WX-RawData": "%7B%7D", "X-WX-Signature": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			w := e.do("/", h)
			if w.Code != 200 || w.Body.String() != "anonymous" {
				t.Errorf("got %d %q, want 200 anonymous", w.Code, w.Body)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	h := e.loginHeaders("alice")
	w := e.do("/", h)
	u := checkUser(t, w, openID("alice"))
	if got := e.result(); got != wxsession.ResultOK {
		t.Errorf("OnLogin result: got %q, want %q", got, wxsession.ResultOK)
	}
	// Every rawData field is kept, and nothing else but openId is added.
	raw, _ := e.wx.userInfo("alice")
	var want map[string]any
	json.Unmarshal([]byte(raw), &want)
	want["openId"] = openID("alice")
	if len(u) != len(want) {
		t.Errorf("user fields: got %v, want %v", u, want)
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("user[%q]: got %v, want %v", k, u[k], v)
		}
	}
	if strings.Contains(w.Body.String(), e.wx.keys["alice"]) {
		t.Error("answer contains the session_key")
	}

	t.Run("CodeOnlyFound", func(t *testing.T) {
		checkUser(t, e.do("/", map[string]string{"X-WX-Code": h["X-WX-Code"]}), openID("alice"))
	})
	t.Run("RetrySameLoginSucceedsWithoutExchange", func(t *testing.T) {
		before := e.wx.exchanges.Load()
		checkUser(t, e.do("/", h), openID("alice"))
		if got := e.wx.exchanges.Load() - before; got != 0 {
			t.Errorf("exchanges for a retried login: got %d, want 0", got)
		}
		e.result()
	})
	t.Run("RetryWithForgedRawDataUntrusted", func(t *testing.T) {
		forged := map[string]string{"X-WX-Code": h["X-WX-Code"], "X-WX-RawData": wxsession.EncodeRawData(`{"nickName":"mallory"}`), "X-WX-Signature": h["X-WX-Signature"]}
		checkEnvelope(t, e.do("/", forged), 401, wxsession.ReasonUntrustedRawData)
		e.result()
	})
	t.Run("CodeOnlyUnknownExpired", func(t *testing.T) {
		checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": "nope"}), 401, wxsession.ReasonSessionExpired)
	})
	t.Run("OpenIDAsCodeExpired", func(t *testing.T) {
		checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": openID("alice")}), 401, wxsession.ReasonSessionExpired)
	})
	t.Run("CodeOnlyAfterTTLExpired", func(t *testing.T) {
		e.clock.ns.Add(int64(wxsession.DefaultTTL + time.Second))
		checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": h["X-WX-Code"]}), 401, wxsession.ReasonSessionExpired)
	})
}

func TestReloginRevokesOldCode(t *testing.T) {
	e := newEnv(t, nil)
	first := e.loginHeaders("bob")
	checkUser(t, e.do("/", first), openID("bob"))
	second := e.loginHeaders("bob")
	checkUser(t, e.do("/", second), openID("bob"))
	checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": first["X-WX-Code"]}), 401, wxsession.ReasonSessionExpired)
	checkUser(t, e.do("/", map[string]string{"X-WX-Code": second["X-WX-Code"]}), openID("bob"))
}

func TestLoginFailures(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *env, h map[string]string)
		edit    func(t *testing.T, c *wxsession.Config)
		status  int
		reason  string
		result  string
		maxTime time.Duration
	}{
		{
			name:   "BadSignatureUntrusted",
			setup:  func(e *env, h map[string]string) { h["X-WX-Signature"] = sign("x", "y") },
			status: 401, reason: wxsession.ReasonUntrustedRawData, result: wxsession.ReasonUntrustedRawData,
		},
		{
			name:   "UpperCaseSignatureAccepted",
			setup:  func(e *env, h map[string]string) { h["X-WX-Signature"] = strings.ToUpper(h["X-WX-Signature"]) },
			status: 200, result: wxsession.ResultOK,
		},
		{
			name:   "MissingSignatureUntrusted",
			setup:  func(e *env, h map[string]string) { delete(h, "X-WX-Signature") },
			status: 401, reason: wxsession.ReasonUntrustedRawData, result: wxsession.ReasonUntrustedRawData,
		},
		{
			name: "RawDataTamperedUntrusted",
			setup: func(e *env, h map[string]string) {
				h["X-WX-RawData"] = strings.Replace(h["X-WX-RawData"], "Guangzhou", "Shenzhen", 1)
			},
			status: 401, reason: wxsession.ReasonUntrustedRawData, result: wxsession.ReasonUntrustedRawData,
		},
		{
			// Mallory's code with Victor's genuine rawData and signature:
			// the signature was made with Victor's session_key, not the
			// one the code exchanges to, so nobody becomes Victor.
			name: "OtherUsersRawDataUntrusted",
			setup: func(e *env, h map[string]string) {
				victor := e.loginHeaders("victor")
				h["X-WX-RawData"], h["X-WX-Signature"] = victor["X-WX-RawData"], victor["X-WX-Signature"]
			},
			status: 401, reason: wxsession.ReasonUntrustedRawData, result: wxsession.ReasonUntrustedRawData,
		},
		{
			name:   "UnknownCodeExchangeFailed",
			setup:  func(e *env, h map[string]string) { h["X-WX-Code"] = "not-a-code" },
			status: 401, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name:   "WeChatBusyExchangeFailed",
			setup:  func(e *env, h map[string]string) { e.wx.sim.SetFail(-1) },
			status: 503, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name:   "RateLimitedExchangeFailed",
			setup:  func(e *env, h map[string]string) { e.wx.sim.SetFail(45011) },
			status: 503, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name:   "RiskyUserExchangeFailed",
			setup:  func(e *env, h map[string]string) { e.wx.sim.SetFail(40226) },
			status: 401, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name:   "WrongSecretExchangeFailed",
			edit:   func(t *testing.T, c *wxsession.Config) { c.AppSecret = "wrong" },
			status: 502, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name: "WeChatUnreachableExchangeFailed",
			edit: func(t *testing.T, c *wxsession.Config) {
				srv := httptest.NewServer(http.NotFoundHandler())
				srv.Close() // its port now refuses connections
				c.WeChatURL = srv.URL
			},
			status: 503, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name: "WeChatAnswersHTMLExchangeFailed",
			edit: func(t *testing.T, c *wxsession.Config) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "<html>bad gateway</html>", 502)
				}))
				t.Cleanup(srv.Close)
				c.WeChatURL = srv.URL
			},
			status: 502, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
		},
		{
			name:   "WeChatSlowTimesOut",
			setup:  func(e *env, h map[string]string) { e.wx.sim.SetDelay(5 * time.Second) },
			status: 503, reason: wxsession.ReasonExchangeFailed, result: wxsession.ReasonExchangeFailed,
			maxTime: 2 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *wxsession.Config) {
				if tt.edit != nil {
					tt.edit(t, c)
				}
			})
			h := e.loginHeaders("carol")
			if tt.setup != nil {
				tt.setup(e, h)
			}
			start := time.Now()
			w := e.do("/", h)
			if tt.status == 200 {
				checkUser(t, w, openID("carol"))
			} else {
				checkEnvelope(t, w, tt.status, tt.reason)
				if strings.Contains(w.Body.String(), e.wx.secret) {
					t.Errorf("answer contains the app secret: %s", w.Body)
				}
			}
			if tt.maxTime > 0 && time.Since(start) > tt.maxTime {
				t.Errorf("took %v, want under %v", time.Since(start), tt.maxTime)
			}
			if got := e.result(); got != tt.result {
				t.Errorf("OnLogin result: got %q, want %q", got, tt.result)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	good := e.loginHeaders("dave")
	with := func(k, v string) map[string]string {
		h := map[string]string{}
		for hk, hv := range good {
			h[hk] = hv
		}
		h[k] = v
		return h
	}
	tests := []struct {
		name    string
		headers map[string]string
		status  int
		reason  string
	}{
		{"RawData1MBBadRequest", with("X-WX-RawData", strings.Repeat("a", 1<<20)), 400, ""},
		{"RawDataInvalidPercentBadRequest", with("X-WX-RawData", "%7B%ZZ%7D"), 400, ""},
		{"RawDataTruncatedPercentBadRequest", with("X-WX-RawData", "%7B%7"), 400, ""},
		{"RawDataBrokenUTF8BadRequest", with("X-WX-RawData", "%7B%22a%22%3A%22%E4%B8%22%7D"), 400, ""},
		{"RawDataSurrogateBadRequest", with("X-WX-RawData", "%7B%22a%22%3A%22%ED%A0%80%22%7D"), 400, ""},
		{"RawDataNotJSONBadRequest", with("X-WX-RawData", "hello"), 400, ""},
		{"RawDataArrayBadRequest", with("X-WX-RawData", "%5B1%5D"), 400, ""},
		{"RawDataNullBadRequest", with("X-WX-RawData", "null"), 400, ""},
		{"RawDataStringBadRequest", with("X-WX-RawData", "%22x%22"), 400, ""},
		{"RawDataTrailingBadRequest", with("X-WX-RawData", "%7B%7D%7B%7D"), 400, ""},
		{"SignatureShortUntrusted", with("X-WX-Signature", "abc"), 401, wxsession.ReasonUntrustedRawData},
		{"SignatureLongUntrusted", with("X-WX-Signature", good["X-WX-Signature"]+"00"), 401, wxsession.ReasonUntrustedRawData},
		{"SignatureNotHexUntrusted", with("X-WX-Signature", strings.Repeat("z", 40)), 401, wxsession.ReasonUntrustedRawData},
		{"Code10KBBadRequest", with("X-WX-Code", strings.Repeat("c", 10<<10)), 400, ""},
		{"Code10KBOnlyBadRequest", map[string]string{"X-WX-Code": strings.Repeat("c", 10<<10)}, 400, ""},
		{"CodeWithSpaceBadRequest", map[string]string{"X-WX-Code": "a b"}, 400, ""},
		{"CodeNonASCIIBadRequest", map[string]string{"X-WX-Code": "码"}, 400, ""},
	}
	before := e.wx.exchanges.Load()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkEnvelope(t, e.do("/", tt.headers), tt.status, tt.reason)
		})
	}
	if got := e.wx.exchanges.Load() - before; got != 0 {
		t.Errorf("exchanges for malformed requests: got %d, want 0", got)
	}
	// The code was not spent: the real login still works.
	checkUser(t, e.do("/", good), openID("dave"))
}

func TestHeaderNamesAnyCase(t *testing.T) {
	e := newEnv(t, nil)
	h := e.loginHeaders("erin")
	r := httptest.NewRequest("GET", "/", nil)
	// Set without canonicalization, as an in-process caller might.
	r.Header["x-wx-code"] = []string{h["X-WX-Code"]}
	r.Header["X-WX-RAWDATA"] = []string{h["X-WX-RawData"]}
	r.Header["x-Wx-SiGnAtUrE"] = []string{h["X-WX-Signature"]}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	checkUser(t, w, openID("erin"))

	t.Run("OverTheWire", func(t *testing.T) {
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header["x-wx-code"] = []string{h["X-WX-Code"]}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var u map[string]any
		json.NewDecoder(resp.Body).Decode(&u)
		if resp.StatusCode != 200 || u["openId"] != openID("erin") {
			t.Errorf("got %d %v, want 200 with openId %s", resp.StatusCode, u, openID("erin"))
		}
	})
}

func TestConcurrentLoginsShareOneExchange(t *testing.T) {
	e := newEnv(t, func(c *wxsession.Config) { c.ExchangeTimeout = 5 * time.Second })
	e.wx.sim.SetDelay(100 * time.Millisecond)
	h := e.loginHeaders("frank")
	const n = 12
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := e.do("/", h)
			codes[i] = w.Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Errorf("request %d: got status %d, want 200", i, c)
		}
	}
	if got := e.wx.exchanges.Load(); got != 1 {
		t.Errorf("exchanges: got %d, want 1", got)
	}
	if n, _ := e.store.Len(context.Background()); n != 1 {
		t.Errorf("live sessions: got %d, want 1", n)
	}
}

func TestIgnorePredicateBypasses(t *testing.T) {
	e := newEnv(t, nil)
	w := e.do("/static/app.js", map[string]string{"X-WX-Code": strings.Repeat("c", 10<<10), "X-WX-RawData": "%ZZ"})
	if w.Code != 200 || w.Body.String() != "anonymous" {
		t.Errorf("got %d %q, want 200 anonymous", w.Code, w.Body)
	}
	if got := e.wx.exchanges.Load(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
}

func TestIgnoreSignature(t *testing.T) {
	e := newEnv(t, func(c *wxsession.Config) {
		c.IgnoreSignature = true
		c.AppID, c.AppSecret = "", ""
	})
	raw := `{"nickName":"x","avatarUrl":"https://a/b.png"}`
	w := e.do("/", map[string]string{"X-WX-Code": "any-code", "X-WX-RawData": wxsession.EncodeRawData(raw), "X-WX-Signature": "whatever"})
	sum := sha1.Sum([]byte("https://a/b.png"))
	want := ("PSEUDO_OPENID_" + hex.EncodeToString(sum[:]))[:28]
	checkUser(t, w, want)
	if got := e.wx.exchanges.Load(); got != 0 {
		t.Errorf("exchanges: got %d, want 0", got)
	}
	checkUser(t, e.do("/", map[string]string{"X-WX-Code": "any-code"}), want)
	t.Run("BadRawDataStillBadRequest", func(t *testing.T) {
		checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": "c2", "X-WX-RawData": "%5B%5D"}), 400, "")
	})
}

func TestNewConfigErrors(t *testing.T) {
	store := memstore.New()
	tests := []struct {
		name string
		cfg  wxsession.Config
	}{
		{"NoStore", wxsession.Config{AppID: "a", AppSecret: "s"}},
		{"NoCredentialsNoExchanger", wxsession.Config{Store: store}},
		{"NegativeTTL", wxsession.Config{Store: store, IgnoreSignature: true, TTL: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wxsession.New(tt.cfg); !errors.Is(err, wxsession.ErrConfig) {
				t.Errorf("got %v, want ErrConfig", err)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	wxsession.WriteError(w, 401, wxsession.ReasonSessionExpired, "gone")
	want := `{"` + magic + `":1,"reason":"ERR_SESSION_EXPIRED","error":{"name":"Error","message":"gone"}}` + "\n"
	if w.Body.String() != want || w.Code != 401 {
		t.Errorf("got %d %s, want 401 %s", w.Code, w.Body, want)
	}
	w = httptest.NewRecorder()
	wxsession.WriteError(w, 400, "", "bad")
	want = `{"` + magic + `":1,"error":{"name":"Error","message":"bad"}}` + "\n"
	if w.Body.String() != want {
		t.Errorf("no reason: got %s, want %s", w.Body, want)
	}
}

// TestForgedLoginKeepsCode: a login with a well-formed but wrong signature
// makes the exchange, which WeChat allows once per code; the genuine login
// that follows with the same code, on this instance or another sharing the
// store, still succeeds on the kept answer, with one exchange in all. The
// forged login never creates a session, and the kept answer lasts the
// code's lifetime only.
func TestForgedLoginKeepsCode(t *testing.T) {
	tests := []struct {
		name          string
		otherInstance bool          // the genuine login reaches a second middleware
		wait          time.Duration // between the forged and the genuine login
		wantStatus    int
	}{
		{"SameInstance", false, 0, http.StatusOK},
		{"OtherInstance", true, 0, http.StatusOK},
		{"WithinCodeLifetime", false, wxsession.CodeLifetime - time.Second, http.StatusOK},
		// The kept answer is gone; WeChat refuses the spent code (40163).
		{"AfterCodeLifetime", false, wxsession.CodeLifetime + time.Second, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			code := e.wx.login("victor")
			raw, sig := e.wx.userInfo("victor")
			forged := map[string]string{"X-WX-Code": code, "X-WX-RawData": wxsession.EncodeRawData(raw), "X-WX-Signature": sign(raw, "not-the-session-key")}
			checkEnvelope(t, e.do("/", forged), http.StatusUnauthorized, wxsession.ReasonUntrustedRawData)
			if got := e.result(); got != wxsession.ReasonUntrustedRawData {
				t.Errorf("forged OnLogin result: got %q, want %q", got, wxsession.ReasonUntrustedRawData)
			}
			checkEnvelope(t, e.do("/", map[string]string{"X-WX-Code": code}), http.StatusUnauthorized, wxsession.ReasonSessionExpired)
			e.clock.ns.Add(int64(tt.wait))

			h := e.h
			if tt.otherInstance {
				m, err := wxsession.New(wxsession.Config{AppID: e.wx.appID, AppSecret: e.wx.secret, WeChatURL: e.wx.srv.URL, Store: e.store})
				if err != nil {
					t.Fatal(err)
				}
				h = m.Handler(echo)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-WX-Code", code)
			r.Header.Set("X-WX-RawData", wxsession.EncodeRawData(raw))
			r.Header.Set("X-WX-Signature", sig)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tt.wantStatus == http.StatusOK {
				checkUser(t, w, openID("victor"))
				checkUser(t, e.do("/", map[string]string{"X-WX-Code": code}), openID("victor"))
			} else {
				env := checkEnvelope(t, w, tt.wantStatus, wxsession.ReasonExchangeFailed)
				if env.Error.Detail != "errcode 40163" {
					t.Errorf("detail: got %q, want errcode 40163", env.Error.Detail)
				}
			}
			wantExchanges := int64(1)
			if tt.wantStatus != http.StatusOK {
				wantExchanges = 2 // the second one refused by WeChat
			}
			if got := e.wx.exchanges.Load(); got != wantExchanges {
				t.Errorf("exchanges: got %d, want %d", got, wantExchanges)
			}
		})
	}
}

// TestRepeatedSessionHeader: a session header sent twice makes the
// identity ambiguous: 400 with the envelope, whichever value is first, and
// no session user reaches the handler.
func TestRepeatedSessionHeader(t *testing.T) {
	e := newEnv(t, nil)
	good := e.loginHeaders("wendy")
	checkUser(t, e.do("/", good), openID("wendy"))
	e.result()
	tests := []struct {
		name      string
		headers   [][2]string
		wantLogin bool // reported to OnLogin as a login
	}{
		{"TwoCodes", [][2]string{{"X-WX-Code", good["X-WX-Code"]}, {"X-WX-Code", "other-code"}}, false},
		{"TwoCodesSecondLive", [][2]string{{"X-WX-Code", "other-code"}, {"X-WX-Code", good["X-WX-Code"]}}, false},
		{"TwoCodesOtherSpelling", [][2]string{{"X-WX-Code", good["X-WX-Code"]}, {"x-wx-code", good["X-WX-Code"]}}, false},
		{"TwoCodesInLogin", [][2]string{{"X-WX-Code", good["X-WX-Code"]}, {"X-WX-Code", "other-code"},
			{"X-WX-RawData", good["X-WX-RawData"]}, {"X-WX-Signature", good["X-WX-Signature"]}}, true},
		{"TwoRawData", [][2]string{{"X-WX-Code", good["X-WX-Code"]}, {"X-WX-RawData", good["X-WX-RawData"]},
			{"X-WX-RawData", "%7B%7D"}, {"X-WX-Signature", good["X-WX-Signature"]}}, true},
		{"TwoSignatures", [][2]string{{"X-WX-Code", good["X-WX-Code"]}, {"X-WX-RawData", good["X-WX-RawData"]},
			{"X-WX-Signature", good["X-WX-Signature"]}, {"X-WX-Signature", good["X-WX-Signature"]}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tt.headers {
				r.Header[h[0]] = append(r.Header[h[0]], h[1])
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			env := checkEnvelope(t, w, http.StatusBadRequest, "")
			if !strings.Contains(env.Error.Message, "more than once") {
				t.Errorf("message: got %q, want it to name the repeated header", env.Error.Message)
			}
			if tt.wantLogin {
				if got := e.result(); got != wxsession.ResultBadRequest {
					t.Errorf("OnLogin result: got %q, want %q", got, wxsession.ResultBadRequest)
				}
			}
		})
	}
	select {
	case got := <-e.results:
		t.Errorf("OnLogin called for a request that was no login: %q", got)
	default:
	}
}

// TestRefusedCodeLogLevel: a code WeChat refuses as the client's fault is
// logged below WARN (anyone can send one); WeChat busy or the app refused
// stays a warning.
func TestRefusedCodeLogLevel(t *testing.T) {
	tests := []struct {
		name    string
		errcode int // 0: a code WeChat never issued
		want    string
	}{
		{"UnknownCode", 0, "level=INFO"},
		{"RiskyUser", 40226, "level=INFO"},
		{"Busy", -1, "level=WARN"},
		{"RateLimited", 45011, "level=WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A generous timeout: under load a timed-out exchange would
			// log another line and the check would say nothing.
			e := newEnv(t, func(c *wxsession.Config) { c.ExchangeTimeout = 10 * time.Second })
			h := e.loginHeaders("carol")
			if tt.errcode == 0 {
				h["X-WX-Code"] = "not-a-code"
			} else {
				e.wx.sim.SetFail(tt.errcode)
			}
			e.do("/", h)
			var line string
			for _, l := range strings.Split(e.logs.String(), "\n") {
				if strings.Contains(l, "WeChat refused the code") {
					line = l
				}
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("got log line %q, want %s", line, tt.want)
			}
		})
	}
}

// TestClientGoneIsNotAStoreFault: a client that hangs up while its session
// is looked up (the request's context cancelled, so the store fails with
// context.Canceled) is its own choice: no ERROR or WARN line and no 503,
// on the v1 and the v2 path alike. (A login goes on without its client:
// the shared login runs on its own context, so a retry finds it done.)
func TestClientGoneIsNotAStoreFault(t *testing.T) {
	e := newEnv(t, nil)
	h := e.loginHeaders("ann")
	checkUser(t, e.do("/", h), openID("ann"))
	<-e.results
	token := e.loginV2(e.wx.login("bob")).Token
	<-e.results

	gone := func(headers map[string]string) *httptest.ResponseRecorder {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		return w
	}
	cases := []struct {
		name    string
		headers map[string]string
	}{
		{"v1", map[string]string{"X-WX-Code": h["X-WX-Code"]}},
		{"v2", bearer(token)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.logs.String())
			w := gone(c.headers)
			if w.Code != wxsession.StatusClientClosed {
				t.Errorf("status: got %d %s, want %d", w.Code, w.Body, wxsession.StatusClientClosed)
			}
			logs := e.logs.String()[before:]
			if strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "level=WARN") {
				t.Errorf("a client going away logged above DEBUG:\n%s", logs)
			}
		})
	}
}
