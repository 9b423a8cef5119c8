package account

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

func phoneOf(t *testing.T, env envelope) phoneAnswer {
	t.Helper()
	var p phoneAnswer
	if err := json.Unmarshal(env.Data, &p); err != nil {
		t.Fatalf("data %s: %v", env.Data, err)
	}
	return p
}

func TestPhone(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) profile.Store) {
		e := newEnv(t, open(t))
		alice, bob := e.login("alice"), e.login("bob")
		want := wechatsim.PhoneNumberOf("alice")
		code, _, _, err := e.sim.PhoneCode(appID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		path := base + "/session/phone"

		t.Run("PaidOnce", func(t *testing.T) {
			for i := range 3 { // the first pays; retries read the store
				res, body := e.postJSON(path, alice, map[string]string{"code": code})
				got := phoneOf(t, wantStatus(t, res, body, 200, ""))
				if got.PurePhoneNumber != want.PurePhoneNumber || got.PhoneNumber != want.PhoneNumber || got.CountryCode != "86" {
					t.Errorf("try %d: got %+v, want %+v", i, got, want)
				}
			}
			if got := e.sim.Stats().PhoneNumbers; got != 1 {
				t.Errorf("got %d paid calls at WeChat, want 1", got)
			}
			if got := e.paid.Load(); got != 1 {
				t.Errorf("got %d paid calls counted, want 1", got)
			}
			res, body := e.do("GET", base+"/session/me", alice, "", nil)
			if !meOf(t, wantStatus(t, res, body, 200, "")).HasPhone {
				t.Errorf("got %s, want hasPhone", body)
			}
		})
		t.Run("OtherUserSameCode", func(t *testing.T) {
			res, body := e.postJSON(path, bob, map[string]string{"code": code})
			wantStatus(t, res, body, 403, ReasonPhoneCodeOther)
			if strings.Contains(string(body), want.PurePhoneNumber) {
				t.Errorf("got %s, want no number", body)
			}
			res, body = e.do("GET", base+"/session/me", bob, "", nil)
			if meOf(t, wantStatus(t, res, body, 200, "")).HasPhone {
				t.Errorf("got %s, want no phone for bob", body)
			}
		})
		t.Run("OtherUsersFreshCode", func(t *testing.T) {
			// bob's code sent by alice first: WeChat checks the openid.
			bobCode, _, _, err := e.sim.PhoneCode(appID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			res, body := e.postJSON(path, alice, map[string]string{"code": bobCode})
			wantStatus(t, res, body, 403, ReasonPhoneCodeOther)
			if strings.Contains(string(body), wechatsim.PhoneNumberOf("bob").PurePhoneNumber) {
				t.Errorf("got %s, want no number", body)
			}
		})
		t.Run("ConcurrentRetriesPayOnce", func(t *testing.T) {
			carol := e.login("carol")
			c, _, _, err := e.sim.PhoneCode(appID, "carol")
			if err != nil {
				t.Fatal(err)
			}
			before := e.sim.Stats().PhoneNumbers
			var wg sync.WaitGroup
			statuses := make([]int, 10)
			for i := range statuses {
				wg.Go(func() {
					res, _ := e.postJSON(path, carol, map[string]string{"code": c})
					statuses[i] = res.StatusCode
				})
			}
			wg.Wait()
			for i, s := range statuses {
				if s != 200 {
					t.Errorf("request %d: got %d, want 200", i, s)
				}
			}
			if got := e.sim.Stats().PhoneNumbers - before; got != 1 {
				t.Errorf("got %d paid calls, want 1", got)
			}
		})
		t.Run("BadCodes", func(t *testing.T) {
			tests := []struct {
				name, body string
				status     int
				reason     string
			}{
				{"Unknown", `{"code":"0123456789abcdef"}`, 400, ReasonPhoneCode},
				{"Empty", `{"code":""}`, 400, ReasonPhoneCode},
				{"Missing", `{}`, 400, ReasonPhoneCode},
				{"TooLong", `{"code":"` + strings.Repeat("a", 600) + `"}`, 400, ReasonPhoneCode},
				{"NotJSON", `code=1`, 400, ReasonBadBody},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res, body := e.do("POST", path, alice, "application/json", strings.NewReader(tt.body))
					wantStatus(t, res, body, tt.status, tt.reason)
				})
			}
		})
	})
}

// TestPhoneWeChatFaults maps WeChat's failures to statuses; no store
// matters here, so it runs on SQLite only.
func TestPhoneWeChatFaults(t *testing.T) {
	open := openSQLite
	e := newEnv(t, open(t), func(c *Config) { c.PhoneTimeout = 300 * time.Millisecond })
	alice := e.login("alice")
	path := base + "/session/phone"
	post := func(t *testing.T) (*http.Response, []byte) {
		code, _, _, err := e.sim.PhoneCode(appID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		return e.postJSON(path, alice, map[string]string{"code": code})
	}
	t.Run("Busy503", func(t *testing.T) {
		e.sim.SetFail(wechat.CodeSystemBusy)
		defer e.sim.SetFail(0)
		res, body := post(t)
		wantStatus(t, res, body, 503, ReasonWeChatDown)
	})
	t.Run("RateLimited503", func(t *testing.T) {
		e.sim.SetFail(wechat.CodeRateLimited)
		defer e.sim.SetFail(0)
		res, body := post(t)
		wantStatus(t, res, body, 503, ReasonWeChatDown)
	})
	t.Run("RecoversAfterErrcodes", func(t *testing.T) {
		res, body := post(t)
		wantStatus(t, res, body, 200, "")
	})
	t.Run("Hang503", func(t *testing.T) {
		e.sim.SetDelay(5 * time.Second)
		defer e.sim.SetDelay(0)
		start := time.Now()
		res, body := post(t)
		wantStatus(t, res, body, 503, ReasonWeChatDown)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v, want the PhoneTimeout", d)
		}
	})
	t.Run("Malformed502", func(t *testing.T) {
		// A WeChat that answers the token but garbles the phone call.
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/cgi-bin/stable_token" {
				w.Write([]byte(`{"access_token":"tok","expires_in":7200}`))
				return
			}
			w.Write([]byte(`<html>gateway</html>`))
		}))
		defer bad.Close()
		c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: bad.URL}
		c.Tokens = wechat.NewTokenSource(c, wechat.TokenOptions{})
		e2 := newEnv(t, open(t), func(cfg *Config) { cfg.Phones = c })
		res, body := e2.postJSON(path, e2.login("alice"), map[string]string{"code": "abc"})
		wantStatus(t, res, body, 502, ReasonWeChatMalformed)
		if e2.paid.Load() != 0 {
			t.Errorf("got %d paid, want 0", e2.paid.Load())
		}
	})
}

// TestPhoneCodeOnTwoInstances: the same phone code sent by its user to
// two instances at once (a double tap behind a load balancer): both ask
// WeChat, which answers one and calls the code used for the other; that
// one finds the first one's stored answer, so both get the number, and
// WeChat was paid once.
func TestPhoneCodeOnTwoInstances(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	alice := e.login("alice")
	// A second instance: its own account service (and phone flights) on
	// the same store, behind the same sessions.
	other := New(e.svc.cfg)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv2 := httptest.NewServer(e.keys.m.Handler(other.Handler(next)))
	defer srv2.Close()

	code, _, _, err := e.sim.PhoneCode(appID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	e.sim.SetDelay(200 * time.Millisecond) // both calls reach WeChat before either is answered
	defer e.sim.SetDelay(0)
	body := `{"code":"` + code + `"}`
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i, url := range []string{e.srv.URL, srv2.URL} {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", url+base+"/session/phone", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-WX-Code", alice)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			answers[i] = fmt.Sprintf("%d %s", res.StatusCode, b)
		})
	}
	wg.Wait()
	want := wechatsim.PhoneNumberOf("alice").PurePhoneNumber
	for i, a := range answers {
		if !strings.HasPrefix(a, "200 ") || !strings.Contains(a, want) {
			t.Errorf("instance %d: got %s, want 200 with %s", i+1, a, want)
		}
	}
	if st := e.sim.Stats(); st.PhoneNumbers != 1 {
		t.Errorf("WeChat answered %d phone calls, want 1 (paid once)", st.PhoneNumbers)
	}
}
