package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/clients"
	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
)

func TestDevModeFlow(t *testing.T) {
	logger, logs := testLogger(t)
	s := start(t, testConfig(t), logger)
	if s.Simulator() == nil {
		t.Fatal("Simulator() is nil in development mode")
	}
	const user = "小明 (dev flow)"
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), user)
	paintFlow(t, c)
	// Request logs name the session user, never its headers.
	if want := `"openId":"` + wechatsim.OpenID(wechatsim.DevAppID, user) + `"`; !strings.Contains(logs.String(), want) {
		t.Errorf("request log lacks %s", want)
	}
	if strings.Contains(logs.String(), c.code) {
		t.Errorf("log contains the session code %q", c.code)
	}
}

func TestIDOR(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	sim := devSim(s.URL())
	a := newClient(t, s.URL(), "/applet", sim, "alice")
	b := newClient(t, s.URL(), "/applet", sim, "mallory")
	id := newID()
	const actionsA, actionsB = `[{"method":"moveTo","data":[1,2]}]`, `[{"method":"moveTo","data":[6,6]}]`
	wantOK(t, "A saves", a.saveJSON(id, actionsA))
	aHas := func(when string) {
		t.Helper()
		got := a.list()
		if len(got) != 1 || got[0].ID != id || got[0].Actions != actionsA {
			t.Fatalf("%s: A's list is %+v, want A's paint %s unchanged", when, got, id)
		}
	}

	t.Run("ReadIsScoped", func(t *testing.T) {
		if got := b.list(); len(got) != 0 {
			t.Errorf("got B's list %v, want empty", ids(got))
		}
	})
	t.Run("OverwriteMakesBsOwnPaint", func(t *testing.T) {
		wantOK(t, "B saves A's id", b.saveJSON(id, actionsB))
		aHas("after B's save")
		got := b.list()
		if len(got) != 1 || got[0].Actions != actionsB {
			t.Errorf("got B's list %+v, want B's own paint only", got)
		}
	})
	t.Run("DeleteIsScoped", func(t *testing.T) {
		// 2016 answered success to any delete; what matters is that
		// A's paint survives.
		wantOK(t, "B deletes the id", b.del(id))
		wantOK(t, "B deletes the id again", b.del(id))
		aHas("after B's deletes")
		if got := b.list(); len(got) != 0 {
			t.Errorf("got B's list %v, want empty", ids(got))
		}
	})
}

func TestBadInput(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	sim := devSim(s.URL())
	c := newClient(t, s.URL(), "/applet", sim, "bad-input")
	c.list() // logged in from here on
	paints := s.URL() + "/applet/session/paints/"
	session := func() http.Header { return c.headers() }
	jsonBody := func(v any) io.Reader { b, _ := json.Marshal(v); return bytes.NewReader(b) }

	// A fresh login whose signature is wrong.
	other := newClient(t, s.URL(), "/applet", sim, "forger")
	other.login()
	forged := http.Header{
		"X-WX-Code":      {other.code},
		"X-WX-RawData":   {wxsession.EncodeRawData(other.rawData)},
		"X-WX-Signature": {strings.Repeat("ab", 20)},
	}

	type sessionReason struct{ reason string }
	tests := []struct {
		name        string
		method, url string
		header      http.Header
		contentType string
		body        io.Reader
		status      int
		reason      string         // paint envelope reason
		session     *sessionReason // session envelope instead
		allow       string
	}{
		{name: "BodyTooLarge20MB", method: "POST", url: paints + "save", header: session(), contentType: "application/json",
			body:   io.MultiReader(strings.NewReader(`{"id":"x","actions":"`), bytes.NewReader(bytes.Repeat([]byte("a"), 20<<20)), strings.NewReader(`"}`)),
			status: 413, reason: api.ReasonTooLarge},
		{name: "TruncatedJSON", method: "POST", url: paints + "save", header: session(), contentType: "application/json",
			body: strings.NewReader(`{"id":"abc","actions":"[1,`), status: 400, reason: api.ReasonBadBody},
		{name: "WrongContentType", method: "POST", url: paints + "save", header: session(), contentType: "text/plain",
			body: strings.NewReader(`id=abc`), status: 415, reason: api.ReasonContentType},
		{name: "IDTooLong", method: "POST", url: paints + "save", header: session(), contentType: "application/json",
			body: jsonBody(map[string]string{"id": strings.Repeat("a", paint.MaxIDLength+1), "actions": "[]"}), status: 400, reason: paint.ReasonBadID},
		{name: "IDBadAlphabet", method: "POST", url: paints + "save", header: session(), contentType: "application/json",
			body: jsonBody(map[string]string{"id": "../etc/passwd", "actions": "[]"}), status: 400, reason: paint.ReasonBadID},
		{name: "ActionsNotArray", method: "POST", url: paints + "save", header: session(), contentType: "application/json",
			body: jsonBody(map[string]string{"id": newID(), "actions": `{"method":"moveTo"}`}), status: 400, reason: paint.ReasonActionsNotArray},
		{name: "ActionsNotJSON", method: "POST", url: paints + "save", header: session(), contentType: "application/x-www-form-urlencoded",
			body: strings.NewReader("id=abc&actions=%5B1%2C"), status: 400, reason: paint.ReasonActionsNotArray},
		{name: "Missing", method: "POST", url: paints + "save", header: session(), contentType: "application/json",
			body: jsonBody(map[string]string{"id": newID()}), status: 400, reason: paint.ReasonMissing},
		{name: "NoSession", method: "GET", url: paints + "list", status: 401, reason: api.ReasonNoUser},
		{name: "NoSessionSave", method: "POST", url: paints + "save", contentType: "application/json",
			body: jsonBody(map[string]string{"id": newID(), "actions": "[]"}), status: 401, reason: api.ReasonNoUser},
		{name: "UnknownCode", method: "GET", url: paints + "list", header: http.Header{"X-WX-Code": {"never-issued"}},
			status: 401, session: &sessionReason{wxsession.ReasonSessionExpired}},
		{name: "BadSignature", method: "GET", url: paints + "list", header: forged,
			status: 401, session: &sessionReason{wxsession.ReasonUntrustedRawData}},
		{name: "RawDataNotJSON", method: "GET", url: paints + "list",
			header: http.Header{"X-WX-Code": {"c0de"}, "X-WX-RawData": {"%7Bnot%20json"}, "X-WX-Signature": {strings.Repeat("0", 40)}},
			status: 400, session: &sessionReason{""}},
		{name: "UnknownPath", method: "GET", url: s.URL() + "/no/such/page", status: 404, reason: api.ReasonNotFound},
		{name: "UnknownPathPOST", method: "POST", url: s.URL() + "/no/such/page", status: 404, reason: api.ReasonNotFound},
		{name: "UnknownAPIPath", method: "GET", url: paints + "nope", header: session(), status: 404, reason: api.ReasonNotFound},
		{name: "ListWithPOST", method: "POST", url: paints + "list", header: session(), status: 405, reason: api.ReasonMethodInvalid, allow: "GET, HEAD"},
		{name: "SaveWithGET", method: "GET", url: paints + "save", header: session(), status: 405, reason: api.ReasonMethodInvalid, allow: "POST"},
		{name: "HealthzWithPOST", method: "POST", url: s.URL() + "/healthz", status: 405, reason: api.ReasonMethodInvalid, allow: "GET, HEAD"},
		{name: "StaticWithDELETE", method: "DELETE", url: s.URL() + "/web/app.js", status: 405, reason: api.ReasonMethodInvalid, allow: "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.method, tt.url, tt.header, tt.contentType, tt.body)
			if bytes.HasPrefix(bytes.TrimSpace(a.body), []byte("<")) {
				t.Fatalf("got HTML %q, want JSON", a.body)
			}
			if tt.session != nil {
				wantSessionError(t, tt.name, a, tt.status, tt.session.reason)
			} else {
				wantFail(t, tt.name, a, tt.status, tt.reason)
			}
			if got := a.header.Get("Allow"); got != tt.allow {
				t.Errorf("got Allow %q, want %q", got, tt.allow)
			}
		})
	}
	// Nothing of the above stored anything.
	if got := c.list(); len(got) != 0 {
		t.Errorf("got list %v after bad input, want empty", ids(got))
	}
}

func TestRestartKeepsPaints(t *testing.T) {
	logger, _ := testLogger(t)
	cfg := testConfig(t)
	s1 := start(t, cfg, logger)
	id := newID()
	const actions = `[{"method":"lineTo","data":[3,4]}]`
	c := newClient(t, s1.URL(), "/applet", devSim(s1.URL()), "restart")
	wantOK(t, "save", c.saveJSON(id, actions))
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s1.stop(); err != nil {
		t.Fatalf("Run after Close: got %v, want nil", err)
	}

	s2 := start(t, cfg, logger)
	// The simulator's people are listed again (the browser app offers them).
	users := do(t, "GET", s2.URL()+SimulatorPath+"/sim/users", nil, "", nil)
	if !strings.Contains(string(users.body), `"user":"restart"`) {
		t.Errorf("simulator users after restart: got %v, want the user who logged in before", users)
	}
	// Memory sessions are gone with the process: the same user logs in
	// again (same openId) and finds the paint.
	c2 := newClient(t, s2.URL(), "/applet", devSim(s2.URL()), "restart")
	got := c2.list()
	if len(got) != 1 || got[0].ID != id || got[0].Actions != actions {
		t.Errorf("got %+v after restart, want the saved paint", got)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "yibi.db")); err != nil {
		t.Errorf("SQLite file: %v", err)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	a := do(t, "GET", s.URL()+"/healthz", nil, "", nil)
	if m := wantJSON(t, "healthz", a); a.status != 200 || m["status"] != "ok" {
		t.Errorf("healthz: got %v, want 200 {status:ok}", a)
	}
	status, checks := ready(t, s.URL())
	if status != 200 || checks["sessions"] != "ok" || checks["paints"] != "ok" {
		t.Errorf("readyz: got %d %v, want 200 with both stores ok", status, checks)
	}
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "metrics")
	c.list()
	m := do(t, "GET", s.URL()+"/metrics", nil, "", nil)
	for _, want := range []string{
		`yibi_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`yibi_http_requests_total{code="200",method="GET",route="GET /applet/session/paints/list"} 1`,
		`yibi_logins_total{result="ok"} 1`,
		`yibi_store_operation_duration_seconds_count{op="list",store="paint"} 1`,
		`yibi_wechat_exchange_duration_seconds_count{result="ok"} 1`,
		`yibi_sessions_live 1`,
	} {
		if !bytes.Contains(m.body, []byte(want)) {
			t.Errorf("metrics: missing %q", want)
		}
	}
}

func TestWebApp(t *testing.T) {
	original, err := fs.ReadFile(clients.Web, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, base, wantMeta, api string
	}{
		{"DefaultBaseServedAsIs", "/applet", `content="/applet"`, "/applet/session/paints/list"},
		{"OtherBaseRewritten", "/yibi/v1", `content="/yibi/v1"`, "/yibi/v1/session/paints/list"},
		{"RootBaseIsRelative", "/", `content="."`, "/session/paints/list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, _ := testLogger(t)
			cfg := testConfig(t)
			cfg.RouteBasePath = tt.base
			s := start(t, cfg, logger)
			page := do(t, "GET", s.URL()+"/", nil, "", nil)
			if page.status != 200 || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") || !bytes.Contains(page.body, []byte(`name="yibi-route-base" `+tt.wantMeta)) {
				t.Errorf("GET /: got %d %q, want the page with %s", page.status, page.header.Get("Content-Type"), tt.wantMeta)
			}
			if tt.base == "/applet" && !bytes.Equal(page.body, original) {
				t.Errorf("GET /: page differs from clients/index.html")
			}
			for _, p := range []string{"/index.html", "/favicon.ico", "/web/app.js", "/web/style.css", "/miniprogram/lib/wxsession.js", "/miniprogram/lib/actions.js"} {
				if a := do(t, "GET", s.URL()+p, nil, "", nil); a.status != 200 || a.header.Get("ETag") == "" {
					t.Errorf("GET %s: got %d ETag %q, want 200 with an ETag", p, a.status, a.header.Get("ETag"))
				}
			}
			c := newClient(t, s.URL(), tt.base, devSim(s.URL()), "web")
			c.list()
			if tt.base != "/applet" {
				wantFail(t, "old base", do(t, "GET", s.URL()+"/applet/session/paints/list", nil, "", nil), 404, api.ReasonNotFound)
			}
		})
	}
}

// badLogins sends n logins with a bad signature from one address and
// returns the last answer, stopping at the first 429.
func badLogins(t *testing.T, serverURL string, n int) answer {
	h := http.Header{"X-WX-Code": {"c"}, "X-WX-RawData": {"%7B%7D"}, "X-WX-Signature": {strings.Repeat("0", 40)}}
	var last answer
	for i := 0; i < n; i++ {
		last = do(t, "GET", serverURL+"/applet/session/paints/list", h, "", nil)
		if last.status == http.StatusTooManyRequests {
			break
		}
	}
	return last
}

func TestLoginRateLimitWired(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	last := badLogins(t, s.URL(), 40)
	wantSessionError(t, "login past the burst", last, http.StatusTooManyRequests, "ERR_RATE_LIMITED")
	if last.header.Get("Retry-After") == "" {
		t.Errorf("got no Retry-After")
	}
	// Requests that are not logins pass.
	wantFail(t, "no login", do(t, "GET", s.URL()+"/applet/session/paints/list", nil, "", nil), 401, api.ReasonNoUser)
}

func TestLoginRateLimitOff(t *testing.T) {
	logger, _ := testLogger(t)
	cfg := testConfig(t)
	cfg.LoginBurstPerIP, cfg.LoginBurstPerApp = 0, 0
	s := start(t, cfg, logger)
	// Far past both default bursts (20 per IP, 200 per app).
	last := badLogins(t, s.URL(), 250)
	// The code is unknown to the simulator: refused by WeChat, not by a limit.
	wantSessionError(t, "login with the limits off", last, http.StatusUnauthorized, "ERR_SESSION_KEY_EXCHANGE_FAILED")
}

func TestGracefulShutdown(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	s.Simulator().SetDelay(time.Second)
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "slow login")
	c.login()
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest("GET", c.api+"/session/paints/list", nil)
		req.Header = c.headers()
		resp, err := httpClient.Do(req)
		if err != nil {
			done <- answer{status: -1, body: []byte(err.Error())}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{status: resp.StatusCode, body: b}
	}()
	time.Sleep(300 * time.Millisecond) // the login is waiting for the simulator
	if err := s.stop(); err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if a := <-done; a.status != 200 {
		t.Errorf("in-flight login: got %v, want it to finish with 200", a)
	}
	if _, err := httpClient.Get(s.URL() + "/healthz"); err == nil {
		t.Errorf("GET after shutdown: got an answer, want a refused connection")
	}
}

func TestNew(t *testing.T) {
	t.Run("InvalidConfig", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.AppID = "wx123" // without a secret
		if _, err := New(cfg, nil); !errors.Is(err, config.ErrInvalid) {
			t.Errorf("got %v, want config.ErrInvalid", err)
		}
	})
	t.Run("UnroutableBasePath", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.RouteBasePath = "/a b"
		if _, err := New(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "route_base_path") {
			t.Errorf("got %v, want an error naming route_base_path", err)
		}
	})
	t.Run("DataDirNotADirectory", func(t *testing.T) {
		cfg := testConfig(t)
		file := filepath.Join(cfg.DataDir, "file")
		os.WriteFile(file, nil, 0o600)
		cfg.DataDir = file
		if _, err := New(cfg, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("got nil, want an error")
		}
	})
	t.Run("ProductionHasNoSimulator", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.AppID, cfg.AppSecret = "wxprod", "prod-secret"
		s, err := New(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.Simulator() != nil {
			t.Errorf("got a simulator in production mode")
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/wechat/sim/login", strings.NewReader(`{"user":"x"}`)))
		wantFail(t, "simulator path", answer{w.Code, w.Header(), w.Body.Bytes()}, 404, api.ReasonNotFound)
		if s.URL() != "" {
			t.Errorf("URL before Start: got %q, want empty", s.URL())
		}
	})
	t.Run("CloseWithoutRunReleasesPort", func(t *testing.T) {
		s, err := New(testConfig(t), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		u := s.URL()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := httpClient.Get(u + "/healthz"); err == nil {
			t.Errorf("GET after Close: got an answer, want a refused connection")
		}
	})
}

func TestRedisClientFromURL(t *testing.T) {
	tests := []struct {
		name, url string
		want      string // client type
		wantErr   bool
	}{
		{"Single", "redis://:pw@127.0.0.1:6379/2", "*redis.Client", false},
		{"Unix", "unix:///run/redis.sock?db=1", "*redis.Client", false},
		{"Cluster", "redis://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", "*redis.ClusterClient", false},
		{"Sentinel", "redis://127.0.0.1:26379?master_name=mymaster", "*redis.Client", false},
		{"UnknownParameter", "redis://:hunter2@127.0.0.1:6379?bogus=1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := redisClient(tt.url)
			if tt.wantErr {
				if err == nil || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("got %v, want an error without the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want a client", err)
			}
			defer c.Close()
			if got := typeName(c); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("DefaultTimeoutsUnlessSet", func(t *testing.T) {
		c, _ := redisClient("redis://127.0.0.1:6379?read_timeout=7s")
		defer c.Close()
		o := c.(*redis.Client).Options()
		if o.DialTimeout != redisDialTimeout || o.ReadTimeout != 7*time.Second {
			t.Errorf("got dial %v read %v, want %v and 7s", o.DialTimeout, o.ReadTimeout, redisDialTimeout)
		}
	})
}

func typeName(v any) string {
	switch v.(type) {
	case *redis.Client:
		return "*redis.Client"
	case *redis.ClusterClient:
		return "*redis.ClusterClient"
	}
	return "other"
}

func TestLazyPaintsRetries(t *testing.T) {
	// The MongoDB path without MongoDB: a store whose open fails twice.
	var attempts int
	st := &fakeStore{}
	open := func(ctx context.Context) (paint.Store, error) {
		attempts++
		if attempts < 3 {
			return nil, paint.ErrUnavailable
		}
		return st, nil
	}
	l := &lazyPaints{log: slog.New(slog.DiscardHandler), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	if err := l.Ping(context.Background()); !errors.Is(err, paint.ErrUnavailable) {
		t.Errorf("Ping before open: got %v, want ErrUnavailable", err)
	}
	go l.connect(ctx, open)
	waitFor(t, 10*time.Second, "lazy store opened", func() bool { return l.Ping(context.Background()) == nil })
	if err := l.Close(); err != nil || !st.closed {
		t.Errorf("Close: got %v closed=%v, want nil and the store closed", err, st.closed)
	}
}

type fakeStore struct {
	paint.Store
	closed bool
}

func (f *fakeStore) Ping(context.Context) error { return nil }
func (f *fakeStore) Close() error               { f.closed = true; return nil }
