package wechatsim_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

const (
	app    = "wxsimtest00000001"
	secret = "sim-test-secret"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func errcode(err error) int {
	var we *wechat.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return 0
}

func TestExchange(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret, "wxother": "other"}, Now: clk.Now, RateLimit: 100})
	ex := sim.Exchanger(app, secret)
	ctx := context.Background()
	login := func(t *testing.T, user string) string {
		t.Helper()
		code, err := sim.Login(app, user)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	t.Run("Good", func(t *testing.T) {
		code := login(t, "alice")
		raw, sig, err := sim.UserInfo(app, "alice")
		if err != nil {
			t.Fatal(err)
		}
		s, err := ex.Exchange(ctx, code)
		if err != nil {
			t.Fatalf("got %v, want a session", err)
		}
		if s.OpenID != wechatsim.OpenID(app, "alice") || len(s.OpenID) != 28 || s.UnionID != "" {
			t.Errorf("got openid %q unionid %q, want %q and none", s.OpenID, s.UnionID, wechatsim.OpenID(app, "alice"))
		}
		sum := sha1.Sum([]byte(raw + s.SessionKey))
		if hex.EncodeToString(sum[:]) != sig {
			t.Errorf("signature %s does not match sha1(rawData + session_key)", sig)
		}
		var p wechatsim.Profile
		if err := json.Unmarshal([]byte(raw), &p); err != nil || p.NickName != "alice" {
			t.Errorf("got rawData %s (%v), want alice's profile", raw, err)
		}
	})
	t.Run("NewLoginNewKey", func(t *testing.T) {
		s1, _ := ex.Exchange(ctx, login(t, "bob"))
		s2, _ := ex.Exchange(ctx, login(t, "bob"))
		if s1.SessionKey == s2.SessionKey || s1.OpenID != s2.OpenID {
			t.Errorf("got keys %q, %q and openids %q, %q: want new key, same openid", s1.SessionKey, s2.SessionKey, s1.OpenID, s2.OpenID)
		}
	})
	tests := []struct {
		name string
		do   func(t *testing.T) error
		want int
	}{
		{"ErrInvalidAppID", func(t *testing.T) error {
			_, err := sim.Exchanger("wxnope", secret).Exchange(ctx, login(t, "a"))
			return err
		}, wechat.CodeInvalidAppID},
		{"ErrInvalidSecret", func(t *testing.T) error {
			_, err := sim.Exchanger(app, "nope").Exchange(ctx, login(t, "a"))
			return err
		}, wechat.CodeInvalidSecret},
		{"ErrUnknownCode", func(t *testing.T) error {
			_, err := ex.Exchange(ctx, "not-a-code")
			return err
		}, wechat.CodeInvalidCode},
		{"ErrOtherAppsCode", func(t *testing.T) error {
			code, _ := sim.Login("wxother", "a")
			_, err := ex.Exchange(ctx, code)
			return err
		}, wechat.CodeInvalidCode},
		{"ErrCodeUsed", func(t *testing.T) error {
			code := login(t, "a")
			if _, err := ex.Exchange(ctx, code); err != nil {
				t.Fatal(err)
			}
			_, err := ex.Exchange(ctx, code)
			return err
		}, wechat.CodeCodeUsed},
		{"ErrCodeExpired", func(t *testing.T) error {
			code := login(t, "a")
			clk.Advance(wechatsim.DefaultCodeTTL + time.Second)
			_, err := ex.Exchange(ctx, code)
			return err
		}, wechat.CodeInvalidCode},
		{"CodeJustInTime", func(t *testing.T) error {
			code := login(t, "a")
			clk.Advance(wechatsim.DefaultCodeTTL)
			_, err := ex.Exchange(ctx, code)
			return err
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do(t)
			if got := errcode(err); got != tt.want || (tt.want == 0 && err != nil) {
				t.Errorf("got %v (errcode %d), want errcode %d", err, got, tt.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}, Now: clk.Now, RateLimit: 3})
	ex := sim.Exchanger(app, secret)
	var codes []int
	for range 4 {
		code, _ := sim.Login("", "u")
		_, err := ex.Exchange(context.Background(), code)
		codes = append(codes, errcode(err))
	}
	if want := []int{0, 0, 0, wechat.CodeRateLimited}; !equal(codes, want) {
		t.Errorf("got errcodes %v, want %v", codes, want)
	}
	clk.Advance(time.Minute)
	code, _ := sim.Login("", "u")
	if _, err := ex.Exchange(context.Background(), code); err != nil {
		t.Errorf("got %v a minute later, want a session", err)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFaults(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{UnionID: true})
	ex := sim.Exchanger(wechatsim.DevAppID, wechatsim.DevSecret)

	sim.SetFail(wechat.CodeSystemBusy)
	code, _ := sim.Login("", "carol")
	if _, err := ex.Exchange(context.Background(), code); errcode(err) != wechat.CodeSystemBusy {
		t.Errorf("got %v, want errcode -1 while failing", err)
	}
	sim.SetFail(0)
	s, err := ex.Exchange(context.Background(), code)
	if err != nil || s.UnionID != wechatsim.UnionID("carol") {
		t.Errorf("got %+v, %v after the fault, want a session with carol's unionid", s, err)
	}

	sim.SetDelay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	code, _ = sim.Login("", "carol")
	if _, err := ex.Exchange(ctx, code); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the caller's deadline while slow", err)
	}
}

func TestClientSideErrors(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret, "wxother": "x"}})
	tests := []struct {
		name, app, user string
		want            error
	}{
		{"ErrNoAppAmongMany", "", "u", wechatsim.ErrUnknownApp},
		{"ErrUnknownApp", "wxnope", "u", wechatsim.ErrUnknownApp},
		{"ErrEmptyUser", app, "", wechatsim.ErrNoUser},
		{"ErrLongUser", app, strings.Repeat("x", wechatsim.MaxUserBytes+1), wechatsim.ErrNoUser},
		{"ErrControlChar", app, "a\nb", wechatsim.ErrNoUser},
		{"ErrBadUTF8", app, "a\xffb", wechatsim.ErrNoUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sim.Login(tt.app, tt.user); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, _, err := sim.UserInfo(app, "never"); !errors.Is(err, wechatsim.ErrNotLogged) {
		t.Errorf("UserInfo before login: got %v, want ErrNotLogged", err)
	}
}

func do(t *testing.T, srv *httptest.Server, method, path, ctype, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, m, resp.Header
}

func TestHTTP(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	status, login, _ := do(t, srv, "POST", "/sim/login", "application/json", `{"user":"dora"}`)
	code, _ := login["code"].(string)
	if status != 200 || login["errMsg"] != "login:ok" || code == "" {
		t.Fatalf("login: got %d %v, want 200 login:ok with a code", status, login)
	}
	status, info, _ := do(t, srv, "POST", "/sim/userinfo", "application/x-www-form-urlencoded", "appid="+app+"&user=dora")
	if status != 200 || info["errMsg"] != "getUserInfo:ok" || info["rawData"] == nil || info["signature"] == nil {
		t.Fatalf("userinfo: got %d %v", status, info)
	}
	q := url.Values{"appid": {app}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	status, sess, _ := do(t, srv, "GET", "/sns/jscode2session?"+q.Encode(), "", "")
	key, _ := sess["session_key"].(string)
	sum := sha1.Sum([]byte(info["rawData"].(string) + key))
	if status != 200 || sess["openid"] != wechatsim.OpenID(app, "dora") || hex.EncodeToString(sum[:]) != info["signature"] {
		t.Errorf("jscode2session: got %d %v, want dora's openid and the key that signed her rawData", status, sess)
	}
	status, again, _ := do(t, srv, "GET", "/sns/jscode2session?"+q.Encode(), "", "")
	if status != 200 || again["errcode"] != float64(wechat.CodeCodeUsed) {
		t.Errorf("second exchange: got %d %v, want 200 errcode 40163", status, again)
	}
	_, users, _ := do(t, srv, "GET", "/sim/users", "", "")
	list, _ := users["users"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["openId"] != wechatsim.OpenID(app, "dora") {
		t.Errorf("users: got %v, want dora", users)
	}

	tests := []struct {
		name, method, path, ctype, body string
		status                          int
		errMsg                          string
	}{
		{"ErrNoUser", "POST", "/sim/login", "application/json", `{}`, 400, "login:fail"},
		{"ErrEmptyBody", "POST", "/sim/login", "", "", 400, "login:fail"},
		{"ErrNotObject", "POST", "/sim/login", "application/json", `[1]`, 400, "login:fail"},
		{"ErrBigBody", "POST", "/sim/login", "application/json", `{"user":"` + strings.Repeat("x", 8<<10) + `"}`, 400, "login:fail"},
		{"ErrContentType", "POST", "/sim/login", "text/plain", `user=x`, 415, "login:fail"},
		{"ErrMethod", "GET", "/sim/login", "", "", 405, "login:fail"},
		{"ErrNotLoggedIn", "POST", "/sim/userinfo", "application/json", `{"user":"nobody"}`, 409, "getUserInfo:fail"},
		{"ErrNoGrantType", "GET", "/sns/jscode2session?appid=" + app, "", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := do(t, srv, tt.method, tt.path, tt.ctype, tt.body)
			msg, _ := body["errMsg"].(string)
			if status != tt.status || !strings.HasPrefix(msg, tt.errMsg) || (tt.errMsg == "" && body["errcode"] == nil) {
				t.Errorf("got %d %v, want %d %s…", status, body, tt.status, tt.errMsg)
			}
		})
	}

	status, _, h := do(t, srv, "OPTIONS", "/sim/login", "", "")
	if status != 204 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: got %d %v, want 204 with CORS", status, h)
	}
	status, nf, _ := do(t, srv, "GET", "/nope", "", "")
	if status != 404 || nf["errcode"] == nil {
		t.Errorf("unknown path: got %d %v, want a JSON 404", status, nf)
	}
}

func TestRemote(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{})
	srv := httptest.NewServer(http.StripPrefix("/wechat", sim))
	defer srv.Close()
	r := &wechatsim.Remote{BaseURL: srv.URL + "/wechat/"}
	ctx := context.Background()
	code, err := r.Login(ctx, "eve")
	if err != nil {
		t.Fatal(err)
	}
	raw, sig, err := r.UserInfo(ctx, "eve")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sim.Exchanger(wechatsim.DevAppID, wechatsim.DevSecret).Exchange(ctx, code)
	sum := sha1.Sum([]byte(raw + s.SessionKey))
	if err != nil || hex.EncodeToString(sum[:]) != sig {
		t.Errorf("got %v and a signature that does not match, want eve's session", err)
	}
	pcode, data, iv, err := r.PhoneCode(ctx, "eve")
	if err != nil || pcode == "" {
		t.Fatalf("PhoneCode: got %q, %v, want a code", pcode, err)
	}
	if got, err := wechat.Decrypt(s.SessionKey, data, iv, wechatsim.DevAppID); err != nil || !strings.Contains(string(got), wechatsim.PhoneNumberOf("eve").PurePhoneNumber) {
		t.Errorf("PhoneCode encryptedData: got %s, %v, want eve's number", got, err)
	}
	if _, err := (&wechatsim.Remote{BaseURL: srv.URL + "/wechat", AppID: "wxnope"}).Login(ctx, "eve"); err == nil || !strings.Contains(err.Error(), "unknown appid") {
		t.Errorf("got %v, want an unknown appid error", err)
	}
}

// POST /sim/headers answers the three login headers of the 2016 client,
// one a line: a code that exchanges, rawData URI-encoded, and its
// signature under the exchanged session key.
func TestHeaders(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	resp, err := http.PostForm(srv.URL+"/sim/headers", url.Values{"user": {"张三 & alice"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %s %q, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	h := map[string]string{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("got line %q, want Name: value", l)
		}
		h[k] = v
	}
	if len(lines) != 3 || h["X-WX-Code"] == "" || h["X-WX-RawData"] == "" || h["X-WX-Signature"] == "" {
		t.Fatalf("got %q, want the three X-WX headers", body)
	}
	raw, err := url.PathUnescape(h["X-WX-RawData"])
	if err != nil || strings.ContainsAny(h["X-WX-RawData"], "{\" &") {
		t.Fatalf("got X-WX-RawData %q, want it URI-encoded", h["X-WX-RawData"])
	}
	var p wechatsim.Profile
	if err := json.Unmarshal([]byte(raw), &p); err != nil || p.NickName != "张三 & alice" {
		t.Fatalf("got rawData %q (%v), want the user's profile", raw, err)
	}
	sess, err := sim.Exchanger(app, secret).Exchange(context.Background(), h["X-WX-Code"])
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	sum := sha1.Sum([]byte(raw + sess.SessionKey))
	if got, want := h["X-WX-Signature"], hex.EncodeToString(sum[:]); got != want {
		t.Errorf("got signature %s, want %s", got, want)
	}
	resp, err = http.PostForm(srv.URL+"/sim/headers", url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no user: got %d, want 400", resp.StatusCode)
	}
}

// A load generator's users (Remote.Unlisted) log in as any other but stay
// out of GET /sim/users, the browser app's list of people.
func TestUnlistedUsers(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ctx := context.Background()
	listed := func() []string {
		var names []string
		for _, u := range sim.Users("") {
			names = append(names, u.User)
		}
		return names
	}
	load := &wechatsim.Remote{BaseURL: srv.URL, Unlisted: true}
	person := &wechatsim.Remote{BaseURL: srv.URL}
	if _, err := load.Login(ctx, "lg-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := load.UserInfo(ctx, "lg-1"); err != nil {
		t.Fatalf("an unlisted user's userinfo: %v", err)
	}
	if _, err := person.Login(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listed(), ","); got != "alice" {
		t.Errorf("got users %q, want alice only", got)
	}
	if _, err := person.Login(ctx, "lg-1"); err != nil {
		t.Fatal(err)
	}
	if got := len(listed()); got != 2 {
		t.Errorf("after a listed login of lg-1: got %d users, want 2", got)
	}
}
