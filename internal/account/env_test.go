package account

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/yibi/yibi/internal/mongo"
	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/internal/testenv"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

const (
	appID  = "wxaccounttest0001"
	secret = "account-test-secret"
	base   = "/applet"
)

var dbSeq atomic.Int64

// forEachStore runs fn on SQLite and on FerretDB (one server for the run,
// a fresh database per open; skipped without FerretDB unless
// YIBI_REQUIRE_SERVICES=1).
func forEachStore(t *testing.T, fn func(t *testing.T, open func(t *testing.T) profile.Store)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, openSQLite) })
	t.Run("FerretDB", func(t *testing.T) {
		f := testenv.StartFerretDB(t)
		fn(t, func(t *testing.T) profile.Store {
			s, err := mongo.Open(context.Background(), f.URI, fmt.Sprintf("account%d", dbSeq.Add(1)))
			if err != nil {
				t.Fatalf("open: %v\n%s", err, f.Log())
			}
			t.Cleanup(func() { s.Close() })
			return mongo.NewProfileStore(s)
		})
	})
}

// openSQLite opens a profile store on a fresh SQLite file, closed when t
// ends.
func openSQLite(t *testing.T) profile.Store {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := sqlite.NewProfileStore(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// env is a server as yibi runs one: the v1 session middleware (memstore,
// codes exchanged with the simulator) in front of the account routes,
// WeChat's server API played by the simulator over HTTP, a real token
// source and a real profile store.
type env struct {
	t        *testing.T
	sim      *wechatsim.Sim
	client   *wechat.Client
	sessions *memstore.Store
	store    profile.Store
	svc      *Service
	srv      *httptest.Server
	paid     atomic.Int64
	logs     *testenv.Buffer
	keys     *testKeys
}

func newEnv(t *testing.T, store profile.Store, opts ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, store: store, logs: &testenv.Buffer{}}
	e.sim = wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}})
	wx := httptest.NewServer(e.sim)
	t.Cleanup(wx.Close)
	e.client = &wechat.Client{AppID: appID, Secret: secret, BaseURL: wx.URL}
	e.client.Tokens = wechat.NewTokenSource(e.client, wechat.TokenOptions{})
	e.sessions = memstore.New()
	t.Cleanup(func() { e.sessions.Close() })
	e.keys = &testKeys{}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{
		Store: store, BasePath: base, Phones: e.client, Keys: e.keys,
		OnPaidCall: func() { e.paid.Add(1) }, Logger: logger,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e.svc = New(cfg)
	mw, err := wxsession.New(wxsession.Config{
		AppSecret: secret, Exchanger: &recordingExchanger{e.sim.Exchanger(appID, secret), e.keys},
		Store: e.sessions, Logger: logger,
		Decrypt: func(sessionKey, data, iv string) ([]byte, error) {
			return wechat.Decrypt(sessionKey, data, iv, appID)
		},
		SessionKeyChecker: checker{e.client},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.keys.m = mw
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	e.srv = httptest.NewServer(mw.Handler(e.svc.Handler(next)))
	t.Cleanup(e.srv.Close)
	t.Cleanup(func() {
		// Bad input is answered, never logged as an error.
		if l := e.logs.String(); strings.Contains(l, "level=ERROR") {
			t.Errorf("ERROR logged:\n%s", l)
		}
	})
	return e
}

// testKeys is the session library's decryption (m.Decrypt, as yibi
// wires it); it also keeps the session_key WeChat gave each user, which
// tests use to encrypt as WeChat would.
type testKeys struct {
	m    *wxsession.Middleware
	keys sync.Map // openId → the session_key of its latest exchange
}

func (k *testKeys) Decrypt(ctx context.Context, data, iv string) ([]byte, error) {
	return k.m.Decrypt(ctx, data, iv)
}

// recordingExchanger is the simulator's exchange, noting the session_key
// it hands out (the server keeps it sealed).
type recordingExchanger struct {
	wxsession.Exchanger
	keys *testKeys
}

func (x *recordingExchanger) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	s, err := x.Exchanger.Exchange(ctx, code)
	if err == nil {
		x.keys.keys.Store(s.OpenID, s.SessionKey)
	}
	return s, err
}

// checker is WeChat's checksession through the real client.
type checker struct{ c *wechat.Client }

func (k checker) CheckSessionKey(ctx context.Context, openID, sessionKey string) (bool, error) {
	err := k.c.CheckSession(ctx, openID, sessionKey)
	if errors.Is(err, wechat.ErrSessionKeyStale) {
		return false, nil
	}
	return err == nil, err
}

// login logs user in with the 2016 headers (wx.login, wx.getUserInfo)
// and returns the session's code, which later requests send.
func (e *env) login(user string) string {
	e.t.Helper()
	code, err := e.sim.Login(appID, user)
	if err != nil {
		e.t.Fatal(err)
	}
	raw, sig, err := e.sim.UserInfo(appID, user)
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+base+"/session/me", nil)
	req.Header.Set("X-WX-Code", code)
	req.Header.Set("X-WX-RawData", wxsession.EncodeRawData(raw))
	req.Header.Set("X-WX-Signature", sig)
	res, body := e.send(req)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("login %s: got %d %s, want 200", user, res.StatusCode, body)
	}
	return code
}

// send does req and reads the whole answer.
func (e *env) send(req *http.Request) (*http.Response, []byte) {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, body
}

// do sends method path with the session code (if any) and a body of
// content type ct.
func (e *env) do(method, path, code, ct string, body io.Reader) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if code != "" {
		req.Header.Set("X-WX-Code", code)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return e.send(req)
}

// postJSON posts v as JSON.
func (e *env) postJSON(path, code string, v any) (*http.Response, []byte) {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do("POST", path, code, "application/json", bytes.NewReader(b))
}

// envelope is either 2016 envelope, or the session one.
type envelope struct {
	Code  int             `json:"code"`
	Msg   string          `json:"msg"`
	Data  json.RawMessage `json:"data"`
	Error struct {
		Reason string `json:"reason"`
	} `json:"error"`
	Reason  string `json:"reason"`
	Session int    `json:"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"`
}

func decode(t *testing.T, body []byte) envelope {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, body)
	}
	return env
}

// wantStatus checks an answer's status and failure reason (the 2016
// envelope's error.reason, or the session envelope's reason).
func wantStatus(t *testing.T, res *http.Response, body []byte, status int, reason string) envelope {
	t.Helper()
	env := decode(t, body)
	if res.StatusCode != status {
		t.Errorf("got status %d (%s), want %d", res.StatusCode, body, status)
	}
	if got := env.Error.Reason + env.Reason; reason != "" && !strings.HasPrefix(got, reason) {
		t.Errorf("got reason %q, want %q", got, reason)
	}
	return env
}
