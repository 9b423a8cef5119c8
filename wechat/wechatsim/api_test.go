package wechatsim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

func TestStableToken(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}, Now: clk.Now})
	ctx := context.Background()
	t1, exp, err := sim.StableToken(ctx, app, secret, false)
	if err != nil || exp != 7200 {
		t.Fatalf("got %q, %d, %v, want a token for 7200 s", t1, exp, err)
	}
	clk.Advance(time.Hour)
	if got, exp, _ := sim.StableToken(ctx, app, secret, false); got != t1 || exp != 3600 {
		t.Errorf("1 h later: got %q for %d s, want the same token for 3600 s", got, exp)
	}
	clk.Advance(56 * time.Minute) // 4 minutes left: renewed
	t2, _, _ := sim.StableToken(ctx, app, secret, false)
	if t2 == t1 {
		t.Errorf("4 minutes before expiry: got the same token, want a new one")
	}
	tokenWorks := func(tok string) int {
		return errcode(sim.CheckSession(ctx, tok, "ounknown", "", "hmac_sha256"))
	}
	if got := tokenWorks(t1); got != wechat.CodeInvalidOpenID {
		t.Errorf("old token in its last minutes: got errcode %d, want it accepted (then 40003 for the openid)", got)
	}
	clk.Advance(5 * time.Minute)
	if got := tokenWorks(t1); got != wechat.CodeTokenExpired {
		t.Errorf("old token expired: got errcode %d, want 42001", got)
	}

	t3, _, _ := sim.StableToken(ctx, app, secret, true)
	if t3 == t2 || tokenWorks(t2) != wechat.CodeInvalidToken {
		t.Errorf("force: got %q (old %q), want a new token and the old one refused with 40001", t3, t2)
	}
	clk.Advance(10 * time.Second)
	if got, _, _ := sim.StableToken(ctx, app, secret, true); got != t3 {
		t.Errorf("force 10 s later: got a new token, want the current one unchanged")
	}
	for range 19 {
		clk.Advance(30 * time.Second)
		if _, _, err := sim.StableToken(ctx, app, secret, true); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(30 * time.Second)
	if _, _, err := sim.StableToken(ctx, app, secret, true); errcode(err) != wechat.CodeDailyQuota {
		t.Errorf("force 21: got %v, want errcode 45009", err)
	}
	if got := sim.Stats().ForceRefreshes; got != 20 {
		t.Errorf("got %d force refreshes, want 20", got)
	}
	if _, _, err := sim.StableToken(ctx, app, "wrong", false); errcode(err) != wechat.CodeInvalidSecret {
		t.Errorf("wrong secret: got %v, want 40125", err)
	}
	if got := tokenWorks(""); got != wechat.CodeMissingToken {
		t.Errorf("no token: got errcode %d, want 41001", got)
	}
}

func TestLegacyTokenInvalidatesPrevious(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}})
	ctx := context.Background()
	stable, _, _ := sim.StableToken(ctx, app, secret, false)
	l1, _, _ := sim.LegacyToken(ctx, app, secret)
	l2, _, _ := sim.LegacyToken(ctx, app, secret)
	check := func(tok string) int { return errcode(sim.CheckSession(ctx, tok, "ounknown", "", "hmac_sha256")) }
	tests := []struct {
		name, token string
		want        int
	}{
		{"PreviousLegacyRefused", l1, wechat.CodeInvalidToken},
		{"LatestLegacyWorks", l2, wechat.CodeInvalidOpenID},
		{"StableUntouched", stable, wechat.CodeInvalidOpenID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := check(tt.token); got != tt.want {
				t.Errorf("got errcode %d, want %d", got, tt.want)
			}
		})
	}
	sim.RotateTokens(app)
	if got := check(l2); got != wechat.CodeInvalidToken {
		t.Errorf("after RotateTokens: got errcode %d, want 40001", got)
	}
	if got := sim.Stats().LegacyTokens; got != 2 {
		t.Errorf("got %d legacy tokens, want 2", got)
	}
}

func TestServerAPIOverHTTP(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	status, tok, _ := do(t, srv, "POST", "/cgi-bin/stable_token", "application/json", `{"grant_type":"client_credential","appid":"`+app+`","secret":"`+secret+`"}`)
	token, _ := tok["access_token"].(string)
	if status != 200 || token == "" || tok["expires_in"] != 7200.0 {
		t.Fatalf("stable_token: got %d %v, want a token", status, tok)
	}
	if status, m, _ := do(t, srv, "GET", "/cgi-bin/stable_token", "", ""); status != 405 || m["errcode"] != 43002.0 {
		t.Errorf("GET stable_token: got %d %v, want 405 and errcode 43002", status, m)
	}
	if _, m, _ := do(t, srv, "POST", "/cgi-bin/stable_token", "application/json", `{"grant_type":"client_credential"`); m["errcode"] != 47001.0 {
		t.Errorf("broken JSON: got %v, want errcode 47001", m)
	}
	if _, m, _ := do(t, srv, "GET", "/cgi-bin/token?grant_type=client_credential&appid="+app+"&secret="+secret, "", ""); m["access_token"] == nil {
		t.Errorf("legacy token: got %v, want a token", m)
	}

	// Client side: getPhoneNumber and WeRun need a login.
	if status, m, _ := do(t, srv, "POST", "/sim/phonenumber", "application/json", `{"user":"alice"}`); status != http.StatusConflict {
		t.Errorf("phonenumber before login: got %d %v, want 409", status, m)
	}
	do(t, srv, "POST", "/sim/login", "application/json", `{"user":"alice"}`)
	status, pc, _ := do(t, srv, "POST", "/sim/phonenumber", "application/json", `{"user":"alice"}`)
	if status != 200 || pc["errMsg"] != "getPhoneNumber:ok" || pc["code"] == "" || pc["encryptedData"] == "" || pc["iv"] == "" {
		t.Fatalf("phonenumber: got %d %v, want code, encryptedData and iv", status, pc)
	}
	if status, m, _ := do(t, srv, "POST", "/sim/werun", "application/x-www-form-urlencoded", "user=alice"); status != 200 || m["encryptedData"] == nil {
		t.Errorf("werun: got %d %v, want encryptedData", status, m)
	}

	phone := func(code string) map[string]any {
		_, m, _ := do(t, srv, "POST", "/wxa/business/getuserphonenumber?access_token="+url.QueryEscape(token), "application/json", `{"code":"`+code+`"}`)
		return m
	}
	m := phone(pc["code"].(string))
	info, _ := m["phone_info"].(map[string]any)
	want := wechatsim.PhoneNumberOf("alice")
	if info["purePhoneNumber"] != want.PurePhoneNumber || info["countryCode"] != "86" || info["watermark"].(map[string]any)["appid"] != app {
		t.Errorf("getuserphonenumber: got %v, want %+v with a watermark", m, want)
	}
	if m := phone(pc["code"].(string)); m["errcode"] != float64(wechat.CodeCodeUsed) {
		t.Errorf("same code again: got %v, want errcode 40163", m)
	}

	// Faults over HTTP, and the counters.
	if status, m, _ := do(t, srv, "POST", "/sim/fault", "application/json", `{"fail":45011}`); status != 200 || m["fail"] != 45011.0 {
		t.Errorf("fault: got %d %v", status, m)
	}
	if m := phone("anything"); m["errcode"] != 45011.0 {
		t.Errorf("with fail 45011: got %v, want errcode 45011", m)
	}
	do(t, srv, "POST", "/sim/fault", "application/json", `{"fail":0,"rotateTokens":true}`)
	if m := phone("anything"); m["errcode"] != float64(wechat.CodeInvalidToken) {
		t.Errorf("after rotateTokens: got %v, want errcode 40001", m)
	}
	if status, _, _ := do(t, srv, "POST", "/sim/fault", "application/json", `{"delayMs":-1}`); status != 400 {
		t.Errorf("negative delay: got %d, want 400", status)
	}
	if status, _, _ := do(t, srv, "POST", "/sim/fault", "application/json", `nope`); status != 400 {
		t.Errorf("bad body: got %d, want 400", status)
	}
	status, st, _ := do(t, srv, "GET", "/sim/stats", "", "")
	if status != 200 || st["phoneNumbers"] != 1.0 || st["stableTokens"] != 1.0 || st["legacyTokens"] != 1.0 {
		t.Errorf("stats: got %d %v, want 1 paid call, 1 stable and 1 legacy token", status, st)
	}
}

func TestHang(t *testing.T) {
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{app: secret}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	do(t, srv, "POST", "/sim/fault", "application/json", `{"delayMs":600000}`)
	defer sim.SetDelay(0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := sim.StableToken(ctx, app, secret, false)
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("got %v after %v, want the caller's timeout", err, time.Since(start))
	}
}
