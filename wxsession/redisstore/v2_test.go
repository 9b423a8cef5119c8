package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/testenv"
)

// countingWeChat is the simulator's exchange, counted, remembering every
// session_key it handed out.
type countingWeChat struct {
	sim       *wechatsim.Sim
	exchanges atomic.Int64
	mu        sync.Mutex
	keys      []string
}

func (c *countingWeChat) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	c.exchanges.Add(1)
	s, err := c.sim.Exchanger("wxredis", "redis-secret").Exchange(ctx, code)
	if err == nil {
		c.mu.Lock()
		c.keys = append(c.keys, s.SessionKey)
		c.mu.Unlock()
	}
	return s, err
}

func (c *countingWeChat) code(user string) string {
	code, err := c.sim.Login("wxredis", user)
	if err != nil {
		panic(err)
	}
	return code
}

// v2app is one instance: a middleware on a Redis store, routes mounted.
type v2app struct {
	t *testing.T
	m *wxsession.Middleware
	h http.Handler
}

func newV2App(t *testing.T, client redis.UniversalClient, prefix string, wx *countingWeChat, edit func(*wxsession.Config)) *v2app {
	store := redisstore.New(client, redisstore.Options{Prefix: prefix})
	t.Cleanup(func() { store.Close() })
	cfg := wxsession.Config{
		Store:           store,
		Exchanger:       wx,
		AppSecret:       "redis-secret",
		ExchangeTimeout: 5 * time.Second,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := wxsession.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/session/login", m.LoginHandler())
	mux.Handle("/session/logout", m.LogoutHandler())
	mux.Handle("/", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wxsession.FromContext(r.Context())
		io.WriteString(w, u.OpenID)
	})))
	return &v2app{t: t, m: m, h: mux}
}

func (a *v2app) do(method, path, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

// login logs code in and returns the token.
func (a *v2app) login(code string) string {
	a.t.Helper()
	w := a.do("POST", "/session/login", `{"code":"`+code+`"}`, nil)
	var env struct{ Data struct{ Token string } }
	if err := json.Unmarshal(w.Body.Bytes(), &env); w.Code != 200 || err != nil || env.Data.Token == "" {
		a.t.Fatalf("login: got %d %s, want 200 and a token", w.Code, w.Body)
	}
	return env.Data.Token
}

// user is the openId a request bearing token gets, or its status.
func (a *v2app) user(token string) string {
	w := a.do("GET", "/", "", map[string]string{"Authorization": "Bearer " + token})
	if w.Code != 200 {
		return fmt.Sprint(w.Code)
	}
	return w.Body.String()
}

// refusedSoon reports whether token is refused (401) on a within the
// revocation bound of TestRevocationAcrossInstances: another instance's
// logout reaches a's local cache as Redis' invalidation message.
func (a *v2app) refusedSoon(token string) string {
	limit := 10 * time.Millisecond
	if raceEnabled {
		limit = 50 * time.Millisecond
	}
	start := time.Now()
	for {
		got := a.user(token)
		if got == "401" || time.Since(start) > limit {
			return got
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// onRedis starts a Redis for t and returns a client of it, a key prefix
// and the fake WeChat that the v2 apps of a test share.
func onRedis(t *testing.T) (*redis.Client, string, *countingWeChat) {
	r := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { client.Close() })
	return client, newPrefix(), newWeChat()
}

func newWeChat() *countingWeChat {
	return &countingWeChat{sim: wechatsim.New(wechatsim.Config{Apps: map[string]string{"wxredis": "redis-secret"}})}
}

// TestV2OnRedis: two instances on one Redis, a restart, logout and the
// keys and values Redis holds.
func TestV2OnRedis(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	prefix := newPrefix()
	wx := newWeChat()
	a := newV2App(t, client, prefix, wx, nil)
	b := newV2App(t, client, prefix, wx, nil)
	ann := wechatsim.OpenID("wxredis", "ann")

	ta := a.login(wx.code("ann"))
	tb := b.login(wx.code("ann"))
	for _, tt := range []struct {
		name  string
		app   *v2app
		token string
	}{{"AOnA", a, ta}, {"AOnB", b, ta}, {"BOnA", a, tb}, {"BOnB", b, tb}} {
		if got := tt.app.user(tt.token); got != ann {
			t.Errorf("%s: got %q, want %q", tt.name, got, ann)
		}
	}
	// A v1 session of ann beside them.
	v1code := wx.code("ann")
	raw, sig, _ := wx.sim.UserInfo("wxredis", "ann")
	if w := a.do("GET", "/", "", map[string]string{"X-WX-Code": v1code, "X-WX-RawData": wxsession.EncodeRawData(raw), "X-WX-Signature": sig}); w.Code != 200 {
		t.Fatalf("v1 login: %d %s", w.Code, w.Body)
	}

	t.Run("NoTokenNoSessionKeyInClear", func(t *testing.T) {
		keys, err := client.Keys(ctx, prefix+"*").Result()
		if err != nil {
			t.Fatal(err)
		}
		var dump strings.Builder
		for _, k := range keys {
			dump.WriteString(k + "\n")
			switch typ := client.Type(ctx, k).Val(); typ {
			case "string":
				dump.WriteString(client.Get(ctx, k).Val())
			case "hash":
				for f, v := range client.HGetAll(ctx, k).Val() {
					dump.WriteString(f + "=" + v + "\n")
				}
			case "zset":
				dump.WriteString(strings.Join(client.ZRange(ctx, k, 0, -1).Val(), "\n"))
			default:
				t.Errorf("key %s: unexpected type %s", k, typ)
			}
		}
		if !strings.Contains(dump.String(), wxsession.HashToken(ta)) {
			t.Errorf("dump holds no token hash: the dump missed the sessions\n%s", dump.String())
		}
		for _, tok := range []string{ta, tb} {
			if strings.Contains(dump.String(), tok) {
				t.Errorf("Redis holds a token in clear")
			}
		}
		wx.mu.Lock()
		defer wx.mu.Unlock()
		if len(wx.keys) != 3 {
			t.Fatalf("session keys handed out: got %d, want 3", len(wx.keys))
		}
		for _, sk := range wx.keys {
			if strings.Contains(dump.String(), sk) {
				t.Errorf("Redis holds a session_key in clear")
			}
		}
	})

	t.Run("TokenAfterNewStoreInstance", func(t *testing.T) {
		client2 := redis.NewClient(&redis.Options{Addr: r.Addr})
		defer client2.Close()
		c := newV2App(t, client2, prefix, wx, nil)
		if got := c.user(ta); got != ann {
			t.Errorf("token on a new instance: got %q, want %q", got, ann)
		}
	})

	t.Run("LogoutOnEveryInstanceWithin10ms", func(t *testing.T) {
		if w := b.do("POST", "/session/logout", "", map[string]string{"Authorization": "Bearer " + ta}); w.Code != 200 {
			t.Fatalf("logout: %d %s", w.Code, w.Body)
		}
		if got := a.refusedSoon(ta); got != "401" {
			t.Errorf("logged-out token on the other instance: got %q, want 401", got)
		}
		if got := a.user(tb); got != ann {
			t.Errorf("ann's other token: got %q, want %q", got, ann)
		}
		if w := a.do("POST", "/session/logout?all=1", "", map[string]string{"Authorization": "Bearer " + tb}); w.Code != 200 {
			t.Fatalf("logout all: %d %s", w.Code, w.Body)
		}
		if got := b.refusedSoon(tb); got != "401" {
			t.Errorf("token after logout all: got %q, want 401", got)
		}
		if w := b.do("GET", "/", "", map[string]string{"X-WX-Code": v1code}); w.Code != 401 {
			t.Errorf("v1 code after logout all: got %d, want 401", w.Code)
		}
		if n := len(client.Keys(ctx, prefix+"token*").Val()); n != 0 {
			t.Errorf("token keys after logout all: got %d, want 0", n)
		}
	})
}

// TestV2ConcurrentLoginsOnRedis: 50 logins with one code at once, spread
// over two instances sharing Redis, hold one session from one exchange;
// the simulator refuses a second exchange of a code, so a second
// exchange would show as a failed login.
func TestV2ConcurrentLoginsOnRedis(t *testing.T) {
	client, prefix, wx := onRedis(t)
	a := newV2App(t, client, prefix, wx, nil)
	code := wx.code("ann")
	first := a.login(code) // the one exchange; the rest are retries
	b := newV2App(t, client, prefix, wx, nil)
	wx.sim.SetDelay(50 * time.Millisecond)
	for i, g := range loginAtOnce(code, 50, a, b) {
		if g != "200 "+first {
			t.Errorf("login %d: got %q, want 200 and the first token", i, g)
		}
	}
	if n := wx.exchanges.Load(); n != 1 {
		t.Errorf("exchanges: got %d, want 1", n)
	}
	if n := len(client.Keys(context.Background(), prefix+"token:*").Val()); n != 1 {
		t.Errorf("token keys: got %d, want 1", n)
	}
}

// TestV2ConcurrentFirstLoginsOnRedis: 50 logins with one fresh code at
// once on one instance: one exchange, one session.
func TestV2ConcurrentFirstLoginsOnRedis(t *testing.T) {
	client, prefix, wx := onRedis(t)
	wx.sim.SetDelay(100 * time.Millisecond)
	a := newV2App(t, client, prefix, wx, func(c *wxsession.Config) { c.MaxSessions = 50 })
	code := wx.code("ann")
	got := loginAtOnce(code, 50, a)
	for i, g := range got {
		if g != got[0] || !strings.HasPrefix(g, "200 ") {
			t.Errorf("login %d: got %q, want %q", i, g, got[0])
		}
	}
	if n := wx.exchanges.Load(); n != 1 {
		t.Errorf("exchanges: got %d, want 1", n)
	}
	if n := len(client.Keys(context.Background(), prefix+"token:*").Val()); n != 1 {
		t.Errorf("token keys: got %d, want 1", n)
	}
}

// TestV2FreshCodeOnTwoInstances: one fresh code sent to two instances at
// once (a retry that a load balancer sends elsewhere while WeChat is
// slow): both ask WeChat, which answers one and calls the code used for
// the other; that one waits for the first one's session and answers it.
// Every login gets the one token.
func TestV2FreshCodeOnTwoInstances(t *testing.T) {
	client, prefix, wx := onRedis(t)
	wx.sim.SetDelay(100 * time.Millisecond)
	a := newV2App(t, client, prefix, wx, nil)
	b := newV2App(t, client, prefix, wx, nil)
	code := wx.code("ann")
	got := loginAtOnce(code, 10, a, b)
	for i, g := range got {
		if g != got[0] || !strings.HasPrefix(g, "200 ") {
			t.Errorf("login %d: got %q, want %q", i, g, got[0])
		}
	}
	if n := len(client.Keys(context.Background(), prefix+"token:*").Val()); n != 1 {
		t.Errorf("token keys: got %d, want 1", n)
	}

	// The same for a 2016 login: the one WeChat refuses waits for the
	// other's exchange and logs in with it.
	code = wx.code("bob")
	raw, sig, err := wx.sim.UserInfo("wxredis", "bob")
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{"X-WX-Code": code, "X-WX-RawData": wxsession.EncodeRawData(raw), "X-WX-Signature": sig}
	var wg sync.WaitGroup
	v1 := make([]string, 10)
	for i := range v1 {
		app := []*v2app{a, b}[i%2]
		wg.Go(func() {
			w := app.do("GET", "/", "", h)
			v1[i] = fmt.Sprint(w.Code, " ", w.Body.String())
		})
	}
	wg.Wait()
	for i, g := range v1 {
		if g != "200 "+wechatsim.OpenID("wxredis", "bob") {
			t.Errorf("v1 login %d: got %q, want 200 and bob", i, g)
		}
	}
}

// loginAtOnce sends n v2 logins with code at once, spread over apps, and
// returns each answer as "<status> <token>".
func loginAtOnce(code string, n int, apps ...*v2app) []string {
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := range got {
		app := apps[i%len(apps)]
		wg.Go(func() {
			w := app.do("POST", "/session/login", `{"code":"`+code+`"}`, nil)
			var env struct{ Data struct{ Token string } }
			json.Unmarshal(w.Body.Bytes(), &env)
			got[i] = fmt.Sprint(w.Code, " ", env.Data.Token)
		})
	}
	wg.Wait()
	return got
}
