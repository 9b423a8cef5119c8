// Package storetest is the conformance suite of wxsession.Store: every
// store implementation runs it from its tests with storetest.Run, so they
// all keep the contract the middleware relies on.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
)

// Run runs the conformance suite. newStore must return an empty store,
// independent of those returned before (a fresh prefix or database will
// do); it is called once per subtest.
func Run(t *testing.T, newStore func(t *testing.T) wxsession.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s wxsession.Store)
	}{
		{"GetUnknownCodeNotFound", testGetMiss},
		{"LoginThenGetFound", testLoginGet},
		{"ValuesRoundTrip", testRoundTrip},
		{"ExpiresAfterTTL", testTTL},
		{"ReloginRevokesOldCode", testRelogin},
		{"ReloginSameCodeStaysLive", testReloginSameCode},
		{"OtherUsersUntouched", testOtherUsers},
		{"DeleteRemovesCode", testDelete},
		{"DeleteStaleCodeKeepsRevocation", testDeleteStale},
		{"ConcurrentLoginsLeaveOneLiveCode", testConcurrentLogins},
		{"CanceledContextFails", testCanceled},
		{"ExchangeUnknownCodeNotFound", testExchangeMiss},
		{"ExchangeRoundTrip", testExchangeRoundTrip},
		{"ExchangeExpiresAfterTTL", testExchangeTTL},
		{"ExchangeApartFromSessions", testExchangeApart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// session returns a session for openID with typical rawData fields.
func session(openID string) wxsession.Session {
	return wxsession.Session{
		User: wxsession.User{
			OpenID:    openID,
			NickName:  "nick-" + openID,
			AvatarURL: "https://wx.qlogo.cn/mmopen/" + openID + "/132",
			Gender:    1,
			Language:  "zh_CN",
			City:      "Guangzhou",
			Province:  "Guangdong",
			Country:   "China",
		},
		SessionKey: "key-" + openID,
		CreatedAt:  time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
	}
}

// mustLogin logs code in for sess, failing the test on error.
func mustLogin(t *testing.T, s wxsession.Store, code string, sess wxsession.Session, ttl time.Duration) {
	t.Helper()
	if err := s.Login(context.Background(), code, sess, ttl); err != nil {
		t.Fatalf("Login(%q): %v", code, err)
	}
}

// found reports whether code is live, failing the test on error.
func found(t *testing.T, s wxsession.Store, code string) bool {
	t.Helper()
	_, ok, err := s.Get(context.Background(), code)
	if err != nil {
		t.Fatalf("Get(%q): %v", code, err)
	}
	return ok
}

func testGetMiss(t *testing.T, s wxsession.Store) {
	got, ok, err := s.Get(context.Background(), "never-stored")
	if err != nil || ok {
		t.Fatalf("Get: got %+v, %v, %v, want not found and no error", got, ok, err)
	}
}

func testLoginGet(t *testing.T, s wxsession.Store) {
	want := session("o-alice")
	mustLogin(t, s, "code-1", want, time.Minute)
	got, ok, err := s.Get(context.Background(), "code-1")
	if err != nil || !ok {
		t.Fatalf("Get: got found %v, err %v, want found", ok, err)
	}
	if got.User.OpenID != want.User.OpenID || got.SessionKey != want.SessionKey {
		t.Errorf("Get: got openId %q key %q, want %q %q", got.User.OpenID, got.SessionKey, want.User.OpenID, want.SessionKey)
	}
	// The openId is a separate namespace: it is not a code.
	if found(t, s, "o-alice") {
		t.Error("Get(openId): got found, want not found")
	}
}

func testRoundTrip(t *testing.T, s wxsession.Store) {
	want := session("o-bob")
	want.User.UnionID = "u-bob"
	want.User.NickName = "鲍勃 \"<&>\" \u2028 😀"
	want.User.City = "" // WeChat often sends empty strings
	want.User.Extra = map[string]json.RawMessage{
		"is_demote": json.RawMessage(`true`),
		"nested":    json.RawMessage(`{"a":[1,2.5,null,"x"]}`),
		"gender2":   json.RawMessage(`"2"`),
	}
	want.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	mustLogin(t, s, "code-rt", want, time.Minute)
	got, ok, err := s.Get(context.Background(), "code-rt")
	if err != nil || !ok {
		t.Fatalf("Get: got found %v, err %v, want found", ok, err)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt: got %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	gotJSON, _ := json.Marshal(got.User)
	wantJSON, _ := json.Marshal(want.User)
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("User JSON: got %s, want %s", gotJSON, wantJSON)
	}
	// Extra values may be re-encoded; compare them as JSON values.
	gotExtra, wantExtra := got.User.Extra, want.User.Extra
	got.User.Extra, want.User.Extra = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Session: got %+v, want %+v", got, want)
	}
	if len(gotExtra) != len(wantExtra) {
		t.Fatalf("Extra: got %d fields, want %d", len(gotExtra), len(wantExtra))
	}
	for k, w := range wantExtra {
		var gv, wv any
		json.Unmarshal(gotExtra[k], &gv)
		json.Unmarshal(w, &wv)
		if !reflect.DeepEqual(gv, wv) {
			t.Errorf("Extra[%q]: got %s, want %s", k, gotExtra[k], w)
		}
	}
}

func testTTL(t *testing.T, s wxsession.Store) {
	mustLogin(t, s, "code-ttl", session("o-ttl"), 200*time.Millisecond)
	if !found(t, s, "code-ttl") {
		t.Fatal("Get right after Login: got not found, want found")
	}
	deadline := time.Now().Add(3 * time.Second)
	for found(t, s, "code-ttl") {
		if time.Now().After(deadline) {
			t.Fatal("Get 3s after a 200ms TTL: got found, want not found")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The user can log in again with a new code, which is live.
	mustLogin(t, s, "code-ttl-2", session("o-ttl"), time.Minute)
	if !found(t, s, "code-ttl-2") {
		t.Error("Get of a new code after expiry: got not found, want found")
	}
}

func testRelogin(t *testing.T, s wxsession.Store) {
	mustLogin(t, s, "code-a", session("o-carol"), time.Minute)
	mustLogin(t, s, "code-b", session("o-carol"), time.Minute)
	if found(t, s, "code-a") {
		t.Error("old code after re-login: got found, want not found")
	}
	if !found(t, s, "code-b") {
		t.Error("new code after re-login: got not found, want found")
	}
	mustLogin(t, s, "code-c", session("o-carol"), time.Minute)
	if found(t, s, "code-b") || !found(t, s, "code-c") {
		t.Error("second re-login: got code-b live or code-c gone, want only code-c live")
	}
}

func testReloginSameCode(t *testing.T, s wxsession.Store) {
	mustLogin(t, s, "code-same", session("o-dave"), time.Minute)
	mustLogin(t, s, "code-same", session("o-dave"), time.Minute)
	if !found(t, s, "code-same") {
		t.Error("code logged in twice: got not found, want found")
	}
	mustLogin(t, s, "code-next", session("o-dave"), time.Minute)
	if found(t, s, "code-same") {
		t.Error("code-same after a new login: got found, want revoked")
	}
}

func testOtherUsers(t *testing.T, s wxsession.Store) {
	mustLogin(t, s, "code-e1", session("o-erin"), time.Minute)
	mustLogin(t, s, "code-f1", session("o-frank"), time.Minute)
	mustLogin(t, s, "code-f2", session("o-frank"), time.Minute)
	if !found(t, s, "code-e1") {
		t.Error("another user's code after a re-login: got not found, want found")
	}
}

func testDelete(t *testing.T, s wxsession.Store) {
	ctx := context.Background()
	mustLogin(t, s, "code-del", session("o-grace"), time.Minute)
	if err := s.Delete(ctx, "code-del"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if found(t, s, "code-del") {
		t.Error("Get after Delete: got found, want not found")
	}
	for _, code := range []string{"code-del", "never-stored"} {
		if err := s.Delete(ctx, code); err != nil {
			t.Errorf("Delete(%q) of a missing code: got %v, want nil", code, err)
		}
	}
	mustLogin(t, s, "code-del-2", session("o-grace"), time.Minute)
	if !found(t, s, "code-del-2") {
		t.Error("login after Delete: got not found, want found")
	}
}

func testDeleteStale(t *testing.T, s wxsession.Store) {
	ctx := context.Background()
	mustLogin(t, s, "code-h1", session("o-heidi"), time.Minute)
	mustLogin(t, s, "code-h2", session("o-heidi"), time.Minute)
	// Deleting the revoked code must not unlink the live one...
	if err := s.Delete(ctx, "code-h1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// ...so the next login still revokes it.
	mustLogin(t, s, "code-h3", session("o-heidi"), time.Minute)
	if found(t, s, "code-h2") {
		t.Error("code-h2 after login code-h3: got found, want revoked")
	}
}

func testConcurrentLogins(t *testing.T, s wxsession.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := fmt.Sprintf("code-c%d", i)
			if err := s.Login(context.Background(), code, session("o-ivan"), time.Minute); err != nil {
				errs <- fmt.Errorf("Login(%q): %w", code, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	live := 0
	for i := range n {
		if found(t, s, fmt.Sprintf("code-c%d", i)) {
			live++
		}
	}
	if live != 1 {
		t.Errorf("live codes after %d concurrent logins of one user: got %d, want 1", n, live)
	}
}

func testCanceled(t *testing.T, s wxsession.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Get(ctx, "code-x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a canceled context: got %v, want context.Canceled", err)
	}
	if err := s.Login(ctx, "code-x", session("o-judy"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Login with a canceled context: got %v, want context.Canceled", err)
	}
	if found(t, s, "code-x") {
		t.Error("Get after a canceled Login: got found, want not found")
	}
}

// exchange returns a code exchange for openID.
func exchange(openID string) wxsession.CodeExchange {
	return wxsession.CodeExchange{OpenID: openID, UnionID: "u-" + openID, SessionKey: "key-" + openID}
}

// getExchange calls GetExchange and fails t on an error.
func getExchange(t *testing.T, s wxsession.Store, code string) (wxsession.CodeExchange, bool) {
	t.Helper()
	x, found, err := s.GetExchange(context.Background(), code)
	if err != nil {
		t.Fatalf("GetExchange(%q): %v", code, err)
	}
	return x, found
}

func mustSaveExchange(t *testing.T, s wxsession.Store, code string, x wxsession.CodeExchange, ttl time.Duration) {
	t.Helper()
	if err := s.SaveExchange(context.Background(), code, x, ttl); err != nil {
		t.Fatalf("SaveExchange(%q): %v", code, err)
	}
}

func testExchangeMiss(t *testing.T, s wxsession.Store) {
	if x, found := getExchange(t, s, "never-exchanged"); found {
		t.Errorf("GetExchange of an unknown code: got %+v found, want not found", x)
	}
}

func testExchangeRoundTrip(t *testing.T, s wxsession.Store) {
	want := exchange("o-kim")
	mustSaveExchange(t, s, "code-kim", want, time.Minute)
	got, found := getExchange(t, s, "code-kim")
	if !found || got != want {
		t.Errorf("GetExchange: got %+v found=%v, want %+v found", got, found, want)
	}
	// Without a unionId.
	want = wxsession.CodeExchange{OpenID: "o-lee", SessionKey: "key-lee"}
	mustSaveExchange(t, s, "code-lee", want, time.Minute)
	if got, found := getExchange(t, s, "code-lee"); !found || got != want {
		t.Errorf("GetExchange without unionId: got %+v found=%v, want %+v found", got, found, want)
	}
}

func testExchangeTTL(t *testing.T, s wxsession.Store) {
	mustSaveExchange(t, s, "code-x-ttl", exchange("o-mia"), 200*time.Millisecond)
	if _, found := getExchange(t, s, "code-x-ttl"); !found {
		t.Fatal("GetExchange right after SaveExchange: got not found, want found")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, found := getExchange(t, s, "code-x-ttl"); !found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("GetExchange 3s after a 200ms TTL: got found, want not found")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testExchangeApart: a code's exchange and its session do not touch each
// other: Login does not create an exchange, Delete and a later login of
// the same user do not remove one, and an exchange is no session.
func testExchangeApart(t *testing.T, s wxsession.Store) {
	ctx := context.Background()
	mustSaveExchange(t, s, "code-nia", exchange("o-nia"), time.Minute)
	if found(t, s, "code-nia") {
		t.Error("Get of a code with only an exchange: got found, want not found")
	}
	mustLogin(t, s, "code-nia", session("o-nia"), time.Minute)
	mustLogin(t, s, "code-nia-2", session("o-nia"), time.Minute)
	if err := s.Delete(ctx, "code-nia-2"); err != nil {
		t.Fatal(err)
	}
	if got, found := getExchange(t, s, "code-nia"); !found || got != exchange("o-nia") {
		t.Errorf("exchange after logins and a delete: got %+v found=%v, want it kept", got, found)
	}
	mustLogin(t, s, "code-oli", session("o-oli"), time.Minute)
	if _, found := getExchange(t, s, "code-oli"); found {
		t.Error("GetExchange of a code that only logged in: got found, want not found")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.SaveExchange(cctx, "code-pat", exchange("o-pat"), time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveExchange with a canceled context: got %v, want context.Canceled", err)
	}
	if _, _, err := s.GetExchange(cctx, "code-nia"); !errors.Is(err, context.Canceled) {
		t.Errorf("GetExchange with a canceled context: got %v, want context.Canceled", err)
	}
}
