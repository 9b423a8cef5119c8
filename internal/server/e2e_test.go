package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/testenv"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
)

// This file holds the end-to-end helpers: a whole server on port 0 with a
// temporary data directory, and a client that speaks to it the way the
// 2016 mini program client did.

// testConfig is a development-mode config on port 0 with a fresh data
// directory.
func testConfig(t *testing.T) config.Config {
	cfg := config.Default()
	cfg.Port = 0
	cfg.DataDir = t.TempDir()
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// testLogger logs at debug level into a buffer that is shown if t fails.
func testLogger(t *testing.T) (*slog.Logger, *testenv.Buffer) {
	buf := &testenv.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", buf)
		}
	})
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// running is a server started by start.
type running struct {
	*Server
	stop func() error // cancels Run and returns its error; idempotent
}

// start builds and runs a server; it is stopped when t ends.
func start(t *testing.T, cfg config.Config, logger *slog.Logger) *running {
	t.Helper()
	s, err := New(cfg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		s.Close()
		t.Fatalf("Start: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &running{Server: s, stop: stop}
}

// answer is one HTTP answer, body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("HTTP %d %s", a.status, a.body) }

var httpClient = &http.Client{Timeout: 30 * time.Second}

// do sends one request.
func do(t *testing.T, method, u string, header http.Header, contentType string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading answer: %v", method, u, err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

// client is a 2016 mini program client of one user: it logs in through
// the simulator's HTTP API (wx.login, wx.getUserInfo), sends X-WX-Code,
// X-WX-RawData and X-WX-Signature on its first request and only X-WX-Code
// afterwards.
type client struct {
	t         *testing.T
	api       string // server URL + route base path
	sim       *wechatsim.Remote
	user      string
	code      string
	rawData   string
	signature string
	loggedIn  bool // the server accepted the code

	// v2 clients log in with the code alone (POST /session/login) and
	// send the token as Authorization: Bearer.
	v2    bool
	token string
}

// newV2Client is a mini program of today: wx.login, then a bearer token.
func newV2Client(t *testing.T, serverURL, basePath string, sim *wechatsim.Remote, user string) *client {
	c := newClient(t, serverURL, basePath, sim, user)
	c.v2 = true
	return c
}

// loginV2 is wx.login and POST {base}/session/login; it returns the
// login's answer data.
func (c *client) loginV2() map[string]any {
	c.t.Helper()
	code, err := c.sim.Login(context.Background(), c.user)
	if err != nil {
		c.t.Fatalf("sim login: %v", err)
	}
	b, _ := json.Marshal(map[string]string{"code": code})
	a := do(c.t, "POST", c.api+"/session/login", nil, "application/json", bytes.NewReader(b))
	data, _ := wantJSON(c.t, "v2 login", a)["data"].(map[string]any)
	token, _ := data["token"].(string)
	if a.status != http.StatusOK || token == "" {
		c.t.Fatalf("v2 login: got %v, want 200 with a token", a)
	}
	c.code, c.token = code, token
	return data
}

func newClient(t *testing.T, serverURL, basePath string, sim *wechatsim.Remote, user string) *client {
	return &client{t: t, api: serverURL + strings.TrimSuffix(basePath, "/"), sim: sim, user: user}
}

// devSim is the simulator of a development-mode server, over HTTP.
func devSim(serverURL string) *wechatsim.Remote {
	return &wechatsim.Remote{BaseURL: serverURL + SimulatorPath, HTTPClient: httpClient}
}

// login is wx.login and wx.getUserInfo; the next request carries them.
func (c *client) login() {
	c.t.Helper()
	ctx := context.Background()
	code, err := c.sim.Login(ctx, c.user)
	if err != nil {
		c.t.Fatalf("sim login: %v", err)
	}
	raw, sig, err := c.sim.UserInfo(ctx, c.user)
	if err != nil {
		c.t.Fatalf("sim userinfo: %v", err)
	}
	c.code, c.rawData, c.signature, c.loggedIn = code, raw, sig, false
}

func (c *client) headers() http.Header {
	if c.v2 {
		if c.token == "" {
			c.loginV2()
		}
		return http.Header{"Authorization": {"Bearer " + c.token}}
	}
	if c.code == "" {
		c.login()
	}
	h := http.Header{"X-WX-Code": {c.code}}
	if !c.loggedIn {
		h.Set("X-WX-RawData", wxsession.EncodeRawData(c.rawData))
		h.Set("X-WX-Signature", c.signature)
	}
	return h
}

func (c *client) call(method, name, contentType string, body io.Reader) answer {
	c.t.Helper()
	a := do(c.t, method, c.api+"/session/paints/"+name, c.headers(), contentType, body)
	if a.status == http.StatusOK {
		c.loggedIn = true
	}
	return a
}

func (c *client) saveJSON(id, actions string) answer {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"id": id, "actions": actions})
	return c.call("POST", "save", "application/json", bytes.NewReader(b))
}

func (c *client) saveForm(id, actions string) answer {
	c.t.Helper()
	return c.call("POST", "save", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"id": {id}, "actions": {actions}}.Encode()))
}

func (c *client) del(id string) answer {
	c.t.Helper()
	b, _ := json.Marshal(map[string]string{"id": id})
	return c.call("POST", "delete", "application/json", bytes.NewReader(b))
}

// listItem is one paint as list answers it; the times are raw so their
// presence can be checked.
type listItem struct {
	ID        string          `json:"id"`
	Actions   string          `json:"actions"`
	CreatedAt json.RawMessage `json:"createdAt"`
	UpdatedAt json.RawMessage `json:"updatedAt"`
}

func (i listItem) times(t *testing.T) (created, updated time.Time) {
	t.Helper()
	if err := json.Unmarshal(i.CreatedAt, &created); err != nil || created.IsZero() {
		t.Errorf("paint %s: createdAt %s, want a time", i.ID, i.CreatedAt)
	}
	if err := json.Unmarshal(i.UpdatedAt, &updated); err != nil || updated.IsZero() {
		t.Errorf("paint %s: updatedAt %s, want a time", i.ID, i.UpdatedAt)
	}
	return created, updated
}

// list lists the user's paints, failing t unless the answer is a success.
func (c *client) list() []listItem {
	c.t.Helper()
	a := c.call("GET", "list?timestamps=1", "", nil)
	var out struct {
		Code int        `json:"code"`
		Msg  string     `json:"msg"`
		Data []listItem `json:"data"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &out) != nil || out.Code != 0 || out.Msg != "success" || out.Data == nil {
		c.t.Fatalf("list: got %v, want 200 success with a list", a)
	}
	return out.Data
}

func ids(items []listItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// newID is a client-made UUID.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// wantOK checks the success envelope {"code":0,"msg":"success","data":{}}.
func wantOK(t *testing.T, what string, a answer) {
	t.Helper()
	var env struct {
		Code *int            `json:"code"`
		Msg  string          `json:"msg"`
		Data json.RawMessage `json:"data"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &env) != nil || env.Code == nil || *env.Code != 0 || env.Msg != "success" || string(env.Data) != "{}" {
		t.Fatalf("%s: got %v, want 200 {code:0,msg:success,data:{}}", what, a)
	}
}

// wantJSON checks that a is a JSON object, never HTML or plain text.
func wantJSON(t *testing.T, what string, a answer) map[string]any {
	t.Helper()
	ct := a.header.Get("Content-Type")
	var m map[string]any
	if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(a.body, &m) != nil {
		t.Errorf("%s: got Content-Type %q body %q, want a JSON object", what, ct, a.body)
	}
	return m
}

// wantFail checks the paint API's failure envelope.
func wantFail(t *testing.T, what string, a answer, status int, reason string) {
	t.Helper()
	m := wantJSON(t, what, a)
	e, _ := m["error"].(map[string]any)
	if a.status != status || m["code"] != float64(-1) || m["msg"] != "fail" || e == nil || e["reason"] != reason {
		t.Errorf("%s: got %v, want %d {code:-1,msg:fail,error:{reason:%q}}", what, a, status, reason)
	}
}

// sessionMagic marks the session layer's envelope.
const sessionMagic = "F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"

// wantSessionError checks the session layer's envelope; reason "" means
// none.
func wantSessionError(t *testing.T, what string, a answer, status int, reason string) {
	t.Helper()
	m := wantJSON(t, what, a)
	got, _ := m["reason"].(string)
	if a.status != status || m[sessionMagic] != float64(1) || got != reason {
		t.Errorf("%s: got %v, want %d session envelope with reason %q", what, a, status, reason)
	}
}

// paintFlow is what the 2016 draw and gallery pages do: the first request
// (a save, JSON) logs in; a second paint is saved with a form body; list
// shows both newest first with actions exactly as sent; a save replaces;
// a delete removes.
func paintFlow(t *testing.T, c *client) {
	t.Helper()
	id1, id2 := newID(), newID()
	// Odd spacing and non-ASCII: the actions string must come back byte
	// for byte.
	actions1 := `[{"method":"moveTo","data":[10, 20]} ,{"method":"lineTo","data":[30,40.5]},{"method":"setStrokeStyle","data":["#ff0000"]},{"method":"fillText","data":["一笔"]}]`
	actions2 := `[{"method":"strokePath","data":[{"method":"moveTo","data":[1,1]},{"method":"lineTo","data":[2,2]}]}]`
	actions1b := actions1[:len(actions1)-1] + `,{"method":"stroke","data":[]}]`

	wantOK(t, "first save (login, JSON body)", c.saveJSON(id1, actions1))
	time.Sleep(10 * time.Millisecond) // stores keep milliseconds
	wantOK(t, "second save (form body)", c.saveForm(id2, actions2))

	got := c.list()
	if want := []string{id2, id1}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("list: got %v, want %v (newest first)", ids(got), want)
	}
	if got[0].Actions != actions2 || got[1].Actions != actions1 {
		t.Errorf("list: got actions %q and %q, want %q and %q", got[0].Actions, got[1].Actions, actions2, actions1)
	}
	created1, _ := got[1].times(t)
	got[0].times(t)

	time.Sleep(10 * time.Millisecond)
	wantOK(t, "replace", c.saveJSON(id1, actions1b))
	got = c.list()
	if want := []string{id2, id1}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("list after replace: got %v, want %v (order by creation)", ids(got), want)
	}
	if got[1].Actions != actions1b {
		t.Errorf("list after replace: got actions %q, want %q", got[1].Actions, actions1b)
	}
	created, updated := got[1].times(t)
	if !created.Equal(created1) || !updated.After(created) {
		t.Errorf("replace: got createdAt %v updatedAt %v, want createdAt %v kept and updatedAt later", created, updated, created1)
	}

	wantOK(t, "delete", c.del(id1))
	got = c.list()
	if want := []string{id2}; fmt.Sprint(ids(got)) != fmt.Sprint(want) {
		t.Fatalf("list after delete: got %v, want %v", ids(got), want)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ready GETs /readyz and returns its status and checks.
func ready(t *testing.T, serverURL string) (int, map[string]any) {
	t.Helper()
	a := do(t, "GET", serverURL+"/readyz", nil, "", nil)
	m := wantJSON(t, "readyz", a)
	checks, _ := m["checks"].(map[string]any)
	return a.status, checks
}

// The production setup: real WeChat replaced by a simulator served over
// HTTP (the server uses its wechat.Client against it), sessions in Redis,
// paints in FerretDB.

const (
	prodAppID  = "wxe2e0000000000001"
	prodSecret = "e2e-app-secret-5f3a9c" // must never reach a log
)

type prodEnv struct {
	cfg    config.Config
	simURL string
	redis  *testenv.Redis
	ferret *testenv.Ferret
}

func startProd(t *testing.T) *prodEnv {
	t.Helper()
	r := testenv.StartRedis(t)
	f := testenv.StartFerretDB(t)
	sim := httptest.NewServer(wechatsim.New(wechatsim.Config{Apps: map[string]string{prodAppID: prodSecret}}))
	t.Cleanup(sim.Close)
	cfg := testConfig(t)
	cfg.AppID, cfg.AppSecret, cfg.WeChatAPIURL = prodAppID, prodSecret, sim.URL
	cfg.RedisURL, cfg.MongoURI, cfg.MongoDatabase = r.URL(), f.URI, "yibi_e2e"
	return &prodEnv{cfg: cfg, simURL: sim.URL, redis: r, ferret: f}
}

// remote is a phone's view of WeChat: the simulator's client side.
func (p *prodEnv) remote() *wechatsim.Remote {
	return &wechatsim.Remote{BaseURL: p.simURL, AppID: prodAppID, HTTPClient: httpClient}
}

func TestProduction(t *testing.T) {
	p := startProd(t)
	logger, logs := testLogger(t)
	logger.Info("yibi starting", "config", p.cfg) // as cmd/yibi does
	s1 := start(t, p.cfg, logger)
	s2 := start(t, p.cfg, logger)
	if s1.Simulator() != nil {
		t.Errorf("got a simulator in production mode")
	}
	wantFail(t, "no simulator mounted", do(t, "GET", s1.URL()+"/wechat/sim/users", nil, "", nil), 404, api.ReasonNotFound)
	for _, s := range []*running{s1, s2} {
		if status, checks := ready(t, s.URL()); status != 200 {
			t.Fatalf("readyz: got %d %v, want 200", status, checks)
		}
	}

	t.Run("Flow", func(t *testing.T) {
		paintFlow(t, newClient(t, s1.URL(), "/applet", p.remote(), "小红 (production)"))
	})

	t.Run("ScaleOut", func(t *testing.T) {
		c1 := newClient(t, s1.URL(), "/applet", p.remote(), "scale-out")
		id1, id2 := newID(), newID()
		wantOK(t, "save on server 1 (login)", c1.saveJSON(id1, `[{"method":"moveTo","data":[1,1]}]`))
		// The same code, without login headers, on the other instance.
		c2 := *c1
		c2.api = s2.URL() + "/applet"
		if got := c2.list(); len(got) != 1 || got[0].ID != id1 {
			t.Fatalf("server 2 list: got %v, want [%s]", ids(got), id1)
		}
		wantOK(t, "save on server 2", c2.saveForm(id2, `[]`))
		if got := c1.list(); len(got) != 2 {
			t.Errorf("server 1 list: got %v, want both paints", ids(got))
		}
		// A new login of the user on server 2 revokes the old code everywhere.
		c3 := newClient(t, s2.URL(), "/applet", p.remote(), "scale-out")
		c3.list()
		wantSessionError(t, "old code on server 1", c1.call("GET", "list", "", nil), 401, wxsession.ReasonSessionExpired)
	})

	t.Run("ExchangeRefused", func(t *testing.T) {
		c := newClient(t, s1.URL(), "/applet", p.remote(), "refused")
		c.login()
		c.code = "not-a-code-wechat-issued"
		wantSessionError(t, "unknown code", c.call("GET", "list", "", nil), 401, wxsession.ReasonExchangeFailed)
	})

	t.Run("WeChatUnreachable", func(t *testing.T) {
		cfg := p.cfg
		cfg.WeChatAPIURL = "http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
		s3 := start(t, cfg, logger)
		c := newClient(t, s3.URL(), "/applet", p.remote(), "unreachable")
		wantSessionError(t, "WeChat down", c.call("GET", "list", "", nil), 503, wxsession.ReasonExchangeFailed)
	})

	t.Run("LogsHoldNoSecrets", func(t *testing.T) {
		rc := redis.NewClient(&redis.Options{Addr: p.redis.Addr})
		defer rc.Close()
		ctx := context.Background()
		keys, err := rc.Keys(ctx, redisstore.DefaultPrefix+"code:*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("session keys in Redis: got %v %v, want some", keys, err)
		}
		var sessionKeys []string
		for _, k := range keys {
			var sess wxsession.Session
			v, err := rc.Get(ctx, k).Bytes()
			if err != nil || json.Unmarshal(v, &sess) != nil || sess.SessionKey == "" {
				t.Fatalf("session %s: %v %q", k, err, v)
			}
			sessionKeys = append(sessionKeys, sess.SessionKey)
		}
		out := logs.String()
		if !strings.Contains(out, `"msg":"request"`) || !strings.Contains(out, "WeChat") {
			t.Fatalf("log holds no requests or WeChat failures; the check below would be vacuous:\n%s", out)
		}
		for _, secret := range append([]string{prodSecret}, sessionKeys...) {
			if strings.Contains(out, secret) {
				t.Errorf("log contains the secret %q", secret)
			}
		}
		for _, word := range []string{"session_key", "sessionKey"} {
			if strings.Contains(out, word) {
				t.Errorf("log mentions %q", word)
			}
		}
	})
}

// notReady waits for /readyz to say store is down.
func notReady(t *testing.T, serverURL, store string) {
	t.Helper()
	waitFor(t, 15*time.Second, "readyz 503 with "+store+" down", func() bool {
		status, checks := ready(t, serverURL)
		return status == 503 && checks[store] == "down"
	})
}

// readyAgain waits for /readyz to answer 200.
func readyAgain(t *testing.T, serverURL string) {
	t.Helper()
	waitFor(t, 60*time.Second, "readyz 200", func() bool {
		status, _ := ready(t, serverURL)
		return status == 200
	})
}

// fast is the bound on answers while a store is down: a correctness bound
// (no request hangs), not a performance target.
const fast = 8 * time.Second

func timed(t *testing.T, what string, f func() answer) answer {
	t.Helper()
	start := time.Now()
	a := f()
	if d := time.Since(start); d > fast {
		t.Errorf("%s: answered in %v, want under %v", what, d, fast)
	}
	return a
}

func TestRedisOutage(t *testing.T) {
	r := testenv.StartRedis(t)
	logger, _ := testLogger(t)
	cfg := testConfig(t)
	cfg.RedisURL = r.URL()
	s := start(t, cfg, logger)
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "redis outage")
	id := newID()
	wantOK(t, "save", c.saveJSON(id, `[]`))

	r.Stop()
	notReady(t, s.URL(), "sessions")
	a := timed(t, "list while Redis is down", func() answer { return c.call("GET", "list", "", nil) })
	wantSessionError(t, "list while Redis is down", a, 503, "")

	r.Start()
	readyAgain(t, s.URL())
	// This Redis keeps nothing across restarts: the code is gone and the
	// client logs in again, as the 2016 client does on this reason.
	wantSessionError(t, "old code", c.call("GET", "list", "", nil), 401, wxsession.ReasonSessionExpired)
	c.login()
	if got := c.list(); len(got) != 1 || got[0].ID != id {
		t.Errorf("after recovery: got %v, want [%s]", ids(got), id)
	}
}

// TestSessionCache: with Redis, a session this instance has seen is
// checked from its cache, and never while Redis is down.
// redisGets is the number of GET commands Redis has run.
func redisGets(t *testing.T, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(info, "cmdstat_get:calls=")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
	return n
}

func TestSessionCache(t *testing.T) {
	r := testenv.StartRedis(t)
	logger, _ := testLogger(t)
	cfg := testConfig(t)
	cfg.RedisURL, cfg.SessionCacheEntries = r.URL(), 100
	s := start(t, cfg, logger)
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "session cache")
	id := newID()
	wantOK(t, "save", c.saveJSON(id, `[]`))
	if got := c.list(); len(got) != 1 || got[0].ID != id {
		t.Errorf("list: got %v, want [%s]", ids(got), id)
	}
	// Cached: more lists with the same session ask Redis nothing.
	admin := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer admin.Close()
	before := redisGets(t, admin)
	for range 5 {
		c.list()
	}
	if n := redisGets(t, admin) - before; n != 0 {
		t.Errorf("5 lists with a cached session: Redis ran %d GETs, want 0", n)
	}

	r.Stop()
	// The store drops its cache as soon as it reads the tracking
	// connection's close (or misses a PONG for 2 s): a request racing that
	// read may still be served; none after it.
	waitFor(t, 3*time.Second, "a 503 once the store has seen Redis go", func() bool {
		return c.call("GET", "list", "", nil).status == http.StatusServiceUnavailable
	})
	wantSessionError(t, "list with Redis down and the session cached",
		timed(t, "list", func() answer { return c.call("GET", "list", "", nil) }), 503, "")
}

func TestFerretDBOutage(t *testing.T) {
	f := testenv.StartFerretDB(t)
	logger, _ := testLogger(t)
	cfg := testConfig(t)
	cfg.MongoURI, cfg.MongoDatabase = f.URI, "yibi_outage"
	s := start(t, cfg, logger)
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "ferret outage")
	id := newID()
	wantOK(t, "save", c.saveJSON(id, `[]`))

	f.Stop()
	notReady(t, s.URL(), "paints")
	wantFail(t, "list while FerretDB is down",
		timed(t, "list", func() answer { return c.call("GET", "list", "", nil) }), 503, api.ReasonUnavailable)
	wantFail(t, "save while FerretDB is down",
		timed(t, "save", func() answer { return c.saveJSON(newID(), `[]`) }), 503, api.ReasonUnavailable)
	if status, checks := ready(t, s.URL()); checks["sessions"] != "ok" {
		t.Errorf("readyz: got %d %v, want sessions ok", status, checks)
	}

	f.Start()
	readyAgain(t, s.URL())
	if got := c.list(); len(got) != 1 || got[0].ID != id {
		t.Errorf("after recovery: got %v, want [%s]", ids(got), id)
	}
}

func TestStartWhileStoreDown(t *testing.T) {
	t.Run("Redis", func(t *testing.T) {
		r := testenv.StartRedis(t)
		r.Stop()
		logger, _ := testLogger(t)
		cfg := testConfig(t)
		cfg.RedisURL = r.URL()
		began := time.Now()
		s := start(t, cfg, logger)
		if d := time.Since(began); d > fast {
			t.Errorf("start took %v, want under %v", d, fast)
		}
		notReady(t, s.URL(), "sessions")
		c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "late redis")
		wantSessionError(t, "login while Redis is down",
			timed(t, "login", func() answer { return c.call("GET", "list", "", nil) }), 503, "")
		r.Start()
		readyAgain(t, s.URL())
		paintFlow(t, newClient(t, s.URL(), "/applet", devSim(s.URL()), "late redis 2"))
	})
	t.Run("FerretDB", func(t *testing.T) {
		f := testenv.StartFerretDB(t)
		f.Stop()
		logger, _ := testLogger(t)
		cfg := testConfig(t)
		cfg.MongoURI, cfg.MongoDatabase = f.URI, "yibi_late"
		began := time.Now()
		s := start(t, cfg, logger)
		if d := time.Since(began); d > fast {
			t.Errorf("start took %v, want under %v", d, fast)
		}
		notReady(t, s.URL(), "paints")
		c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "late ferret")
		wantFail(t, "list while FerretDB is down",
			timed(t, "list", func() answer { return c.call("GET", "list", "", nil) }), 503, api.ReasonUnavailable)
		f.Start()
		readyAgain(t, s.URL())
		paintFlow(t, c)
	})
}
