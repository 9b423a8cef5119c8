package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

// clock is a fake clock shared by the simulator and the token source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a simulator on a fake clock and a client of it with a token
// source.
type fixture struct {
	clk *clock
	sim *wechatsim.Sim
	url string
	c   *wechat.Client
}

func newFixture(t *testing.T, opts wechat.TokenOptions) *fixture {
	t.Helper()
	// 10:00 in Beijing, so that a day's budget does not roll over mid-test.
	clk := &clock{now: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, Now: clk.Now})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	opts.Now = clk.Now
	f := &fixture{clk: clk, sim: sim, url: srv.URL}
	f.c = f.client(opts)
	return f
}

// client is another instance's client of the same simulator.
func (f *fixture) client(opts wechat.TokenOptions) *wechat.Client {
	c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: f.url}
	opts.Now = f.clk.Now
	c.Tokens = wechat.NewTokenSource(c, opts)
	return c
}

// phoneCode logs user in and gives a getPhoneNumber code.
func (f *fixture) phoneCode(t *testing.T, user string) string {
	t.Helper()
	if _, err := f.sim.Login(appID, user); err != nil {
		t.Fatal(err)
	}
	code, _, _, err := f.sim.PhoneCode(appID, user)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestTokenRefreshedAheadOfExpiry(t *testing.T) {
	f := newFixture(t, wechat.TokenOptions{})
	ctx := context.Background()
	first, err := f.c.Tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour)
	if got, _ := f.c.Tokens.Token(ctx); got != first {
		t.Errorf("after 1 h: got a new token, want the cached one")
	}
	f.clk.Advance(time.Hour - time.Minute) // 1 minute left, inside RefreshBefore
	second, err := f.c.Tokens.Token(ctx)
	if err != nil || second == first {
		t.Fatalf("1 minute before expiry: got %q, %v, want a new token", second, err)
	}
	if got := f.c.Tokens.Stats().Fetches; got != 2 {
		t.Errorf("got %d fetches, want 2", got)
	}
	// The old token stays usable at WeChat until it expires: nothing breaks.
	if _, err := f.c.PhoneNumber(ctx, f.phoneCode(t, "alice"), ""); err != nil {
		t.Errorf("got %v, want a phone number", err)
	}
}

func TestTokenRefusedConcurrentlyOneRefetch(t *testing.T) {
	f := newFixture(t, wechat.TokenOptions{})
	ctx := context.Background()
	if _, err := f.c.Tokens.Token(ctx); err != nil {
		t.Fatal(err)
	}
	codes := make([]string, 40)
	for i := range codes {
		codes[i] = f.phoneCode(t, "user"+string(rune('A'+i)))
	}
	f.sim.RotateTokens(appID)
	var wg sync.WaitGroup
	errs := make([]error, len(codes))
	for i := range codes {
		wg.Go(func() { _, errs[i] = f.c.PhoneNumber(ctx, codes[i], "") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: got %v, want a phone number", i, err)
		}
	}
	if got := f.c.Tokens.Stats().Fetches; got != 2 {
		t.Errorf("got %d fetches, want 2 (one, then one after the rotation)", got)
	}
}

func TestForceRefreshBudget(t *testing.T) {
	shared := wechat.NewMemoryStore()
	f := newFixture(t, wechat.TokenOptions{Store: shared})
	other := f.client(wechat.TokenOptions{Store: shared}) // another instance
	ctx := context.Background()
	old, err := f.c.Tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	forced, err := f.c.Tokens.ForceRefresh(ctx)
	if err != nil || forced == old {
		t.Fatalf("got %q, %v, want a new token", forced, err)
	}
	f.clk.Advance(10 * time.Second)
	if _, err := other.Tokens.ForceRefresh(ctx); !errors.Is(err, wechat.ErrForceRefreshBudget) {
		t.Errorf("10 s later on another instance: got %v, want ErrForceRefreshBudget", err)
	}
	for i := 2; i <= wechat.ForceRefreshPerDay; i++ {
		f.clk.Advance(wechat.ForceRefreshGap)
		if _, err := f.c.Tokens.ForceRefresh(ctx); err != nil {
			t.Fatalf("force %d: got %v, want a token", i, err)
		}
	}
	f.clk.Advance(wechat.ForceRefreshGap)
	if _, err := f.c.Tokens.ForceRefresh(ctx); !errors.Is(err, wechat.ErrForceRefreshBudget) {
		t.Errorf("force 21: got %v, want ErrForceRefreshBudget", err)
	}
	st := f.c.Tokens.Stats()
	if st.ForceRefreshes != wechat.ForceRefreshPerDay || st.ForceRefreshDenied != 1 {
		t.Errorf("got %+v, want %d force refreshes, 1 denied", st, wechat.ForceRefreshPerDay)
	}
	if got := other.Tokens.Stats().ForceRefreshDenied; got != 1 {
		t.Errorf("other instance: got %d denied, want 1", got)
	}
	if got := f.sim.Stats().ForceRefreshes; got != wechat.ForceRefreshPerDay {
		t.Errorf("WeChat saw %d force refreshes, want %d (none denied reached it)", got, wechat.ForceRefreshPerDay)
	}
	f.clk.Advance(16 * time.Hour) // the next day in Beijing
	if _, err := f.c.Tokens.ForceRefresh(ctx); err != nil {
		t.Errorf("next day: got %v, want a token", err)
	}
}

func TestLegacyTokenInvalidatesOtherHolders(t *testing.T) {
	f := newFixture(t, wechat.TokenOptions{Legacy: true})
	ctx := context.Background()
	if _, err := f.c.PhoneNumber(ctx, f.phoneCode(t, "alice"), ""); err != nil {
		t.Fatal(err)
	}
	// A server with its own store fetches a legacy token: ours is dead.
	rogue := f.client(wechat.TokenOptions{Legacy: true})
	if _, err := rogue.Tokens.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.PhoneNumber(ctx, f.phoneCode(t, "bob"), ""); err != nil {
		t.Errorf("got %v, want the refused token renewed and the call to succeed", err)
	}
	if got := f.sim.Stats().LegacyTokens; got != 3 {
		t.Errorf("got %d legacy fetches, want 3", got)
	}
	if got := f.sim.Stats().StableTokens; got != 0 {
		t.Errorf("got %d stable_token fetches, want 0 with Legacy", got)
	}
}

func TestPhoneNumber(t *testing.T) {
	f := newFixture(t, wechat.TokenOptions{})
	ctx := context.Background()
	code := f.phoneCode(t, "alice")
	got, err := f.c.PhoneNumber(ctx, code, wechatsim.OpenID(appID, "alice"))
	if want := wechatsim.PhoneNumberOf("alice"); err != nil || got != want {
		t.Fatalf("got %+v, %v, want %+v", got, err, want)
	}
	tests := []struct {
		name         string
		code, openID string
		fail         int
		want         int
	}{
		{"ErrCodeUsed", code, "", 0, wechat.CodeCodeUsed},
		{"ErrInvalidCode", "made-up", "", 0, wechat.CodeInvalidCode},
		{"ErrOtherUsersCode", f.phoneCode(t, "bob"), wechatsim.OpenID(appID, "alice"), 0, wechat.CodeInvalidOpenID},
		{"ErrRateLimited", f.phoneCode(t, "carol"), "", wechat.CodeRateLimited, wechat.CodeRateLimited},
		{"ErrBusy", f.phoneCode(t, "dave"), "", wechat.CodeSystemBusy, wechat.CodeSystemBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.sim.SetFail(tt.fail)
			defer f.sim.SetFail(0)
			_, err := f.c.PhoneNumber(ctx, tt.code, tt.openID)
			var we *wechat.Error
			if !errors.As(err, &we) || we.Code != tt.want {
				t.Errorf("got %v, want errcode %d", err, tt.want)
			}
		})
	}
	t.Run("ErrUnavailableHang", func(t *testing.T) {
		code := f.phoneCode(t, "erin")
		f.sim.SetDelay(time.Hour)
		defer f.sim.SetDelay(0)
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := f.c.PhoneNumber(ctx, code, "")
		if !errors.Is(err, wechat.ErrUnavailable) {
			t.Errorf("got %v, want ErrUnavailable", err)
		}
	})
	if got := f.sim.Stats().PhoneNumbers; got != 1 {
		t.Errorf("got %d paid calls, want 1", got)
	}
	t.Run("ErrNoTokens", func(t *testing.T) {
		c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: f.url}
		if _, err := c.PhoneNumber(ctx, "x", ""); !errors.Is(err, wechat.ErrNoTokens) {
			t.Errorf("got %v, want ErrNoTokens", err)
		}
	})
}

func TestCheckAndResetSessionKey(t *testing.T) {
	f := newFixture(t, wechat.TokenOptions{})
	ctx := context.Background()
	code, err := f.sim.Login(appID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.c.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.c.CheckSession(ctx, sess.OpenID, sess.SessionKey); err != nil {
		t.Errorf("current key: got %v, want nil", err)
	}
	fresh, err := f.c.ResetSessionKey(ctx, sess.OpenID, sess.SessionKey)
	if err != nil || fresh.SessionKey == "" || fresh.SessionKey == sess.SessionKey || fresh.OpenID != sess.OpenID {
		t.Fatalf("got %+v, %v, want a new session_key for %s", fresh, err, sess.OpenID)
	}
	if err := f.c.CheckSession(ctx, sess.OpenID, sess.SessionKey); !errors.Is(err, wechat.ErrSessionKeyStale) {
		t.Errorf("old key: got %v, want ErrSessionKeyStale", err)
	}
	if _, err := f.c.ResetSessionKey(ctx, sess.OpenID, sess.SessionKey); !errors.Is(err, wechat.ErrSessionKeyStale) {
		t.Errorf("reset with the old key: got %v, want ErrSessionKeyStale", err)
	}
	if err := f.c.CheckSession(ctx, fresh.OpenID, fresh.SessionKey); err != nil {
		t.Errorf("new key: got %v, want nil", err)
	}
	// A new wx.login replaces the key too.
	if _, err := f.sim.Login(appID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.c.CheckSession(ctx, fresh.OpenID, fresh.SessionKey); !errors.Is(err, wechat.ErrSessionKeyStale) {
		t.Errorf("after a new login: got %v, want ErrSessionKeyStale", err)
	}
	var we *wechat.Error
	if err := f.c.CheckSession(ctx, "ounknown", fresh.SessionKey); !errors.As(err, &we) || we.Code != wechat.CodeInvalidOpenID {
		t.Errorf("unknown openid: got %v, want errcode %d", err, wechat.CodeInvalidOpenID)
	}
}

// TestDecryptSimulatorData decrypts what the simulator's client side
// gives, as a server does with the session_key of the user's login.
func TestDecryptSimulatorData(t *testing.T) {
	f := newFixture(t, wechat.TokenOptions{})
	code, _ := f.sim.Login(appID, "alice")
	sess, err := f.c.Exchange(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	_, data, iv, err := f.sim.PhoneCode(appID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := wechat.Decrypt(sess.SessionKey, data, iv, appID)
	if want := `{"countryCode":"86","phoneNumber":"` + wechatsim.PhoneNumberOf("alice").PhoneNumber + `","purePhoneNumber":"` + wechatsim.PhoneNumberOf("alice").PurePhoneNumber + `"}`; err != nil || string(got) != want {
		t.Errorf("phone: got %s, %v, want %s", got, err, want)
	}
	data, iv, err = f.sim.WeRunData(appID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := wechat.Decrypt(sess.SessionKey, data, iv, appID); err != nil || len(got) < 100 {
		t.Errorf("werun: got %s, %v, want the step list", got, err)
	}
	if _, err := wechat.Decrypt(sess.SessionKey, data, iv, "wxsomeoneelse"); !errors.Is(err, wechat.ErrWatermark) {
		t.Errorf("werun for another app: got %v, want ErrWatermark", err)
	}
}

// TestRefusedTokenStillCurrentForcesRefresh: WeChat refuses a token that
// stable_token keeps answering (a leaked token revoked on its side): the
// only way out is one force_refresh. The same for each errcode that
// refuses a token (40001 invalid, 40014 malformed, 42001 expired).
func TestRefusedTokenStillCurrentForcesRefresh(t *testing.T) {
	for _, errcode := range []int{wechat.CodeInvalidToken, wechat.CodeInvalidTokenFormat, wechat.CodeTokenExpired} {
		t.Run(fmt.Sprint(errcode), func(t *testing.T) { refusedTokenForcesRefresh(t, errcode) })
	}
}

func refusedTokenForcesRefresh(t *testing.T, errcode int) {
	clk := &clock{now: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, Now: clk.Now})
	var mu sync.Mutex
	var revoked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		bad := revoked != "" && r.URL.Query().Get("access_token") == revoked
		mu.Unlock()
		if bad {
			fmt.Fprintf(w, `{"errcode":%d,"errmsg":"refused"}`, errcode)
			return
		}
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: srv.URL}
	c.Tokens = wechat.NewTokenSource(c, wechat.TokenOptions{Now: clk.Now})
	ctx := context.Background()
	tok, err := c.Tokens.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	revoked = tok
	mu.Unlock()
	sim.Login(appID, "alice")
	code, _, _, _ := sim.PhoneCode(appID, "alice")
	if _, err := c.PhoneNumber(ctx, code, ""); err != nil {
		t.Fatalf("got %v, want a phone number after a force_refresh", err)
	}
	if st := c.Tokens.Stats(); st.Fetches != 3 || st.ForceRefreshes != 1 {
		t.Errorf("got %+v, want 3 fetches (first, normal, forced), 1 forced", st)
	}
}
