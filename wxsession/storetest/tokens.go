package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/yibi/yibi/wxsession"
)

// Both is a store of v1 and v2 sessions: what RunTokens tests, since
// DeleteUser reaches a user's v1 code too.
type Both interface {
	wxsession.Store
	wxsession.TokenStore
}

// RunTokens runs the conformance suite of wxsession.TokenStore. newStore
// must return an empty store on the real clock (a Redis store's expiry is
// Redis's); it is called once per subtest.
func RunTokens(t *testing.T, newStore func(t *testing.T) Both) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Both)
	}{
		{"GetUnknownTokenNotFound", testTokenMiss},
		{"CreateThenGetRoundTrip", testTokenRoundTrip},
		{"ExpiresAtExpiresAt", testTokenExpires},
		{"TouchExtends", testTokenTouch},
		{"TouchNeverRevives", testTokenTouchDeleted},
		{"CapEvictsOldestLogin", testTokenCap},
		{"CapKeepsTheNewLoginOnATie", testTokenCapTie},
		{"DeleteTokenOnlyThatOne", testTokenDelete},
		{"DeleteUserTokensAndCode", testTokenDeleteUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

// tokenSession returns a session of openID logged in at created, living
// for life.
func tokenSession(openID string, created time.Time, life time.Duration) wxsession.TokenSession {
	return wxsession.TokenSession{
		User:             wxsession.User{OpenID: openID, UnionID: "u-" + openID},
		SealedSessionKey: "s1.sealed-" + openID,
		CreatedAt:        created,
		ExpiresAt:        created.Add(life),
		Deadline:         created.Add(30 * life),
	}
}

func mustCreate(t *testing.T, s Both, hash string, ts wxsession.TokenSession, max int) []string {
	t.Helper()
	evicted, err := s.CreateToken(context.Background(), hash, ts, max)
	if err != nil {
		t.Fatalf("CreateToken(%q): %v", hash, err)
	}
	return evicted
}

func tokenFound(t *testing.T, s Both, hash string) bool {
	t.Helper()
	_, ok, err := s.GetToken(context.Background(), hash)
	if err != nil {
		t.Fatalf("GetToken(%q): %v", hash, err)
	}
	return ok
}

func testTokenMiss(t *testing.T, s Both) {
	if got := tokenFound(t, s, "feed"); got {
		t.Errorf("GetToken: got found %v, want false", got)
	}
}

func testTokenRoundTrip(t *testing.T, s Both) {
	want := tokenSession("o-ann", time.Now().Add(-time.Second).Round(0), time.Minute)
	mustCreate(t, s, "h1", want, 5)
	got, ok, err := s.GetToken(context.Background(), "h1")
	if err != nil || !ok {
		t.Fatalf("GetToken: got found %v, err %v, want found", ok, err)
	}
	if got.User.OpenID != want.User.OpenID || got.User.UnionID != want.User.UnionID || got.SealedSessionKey != want.SealedSessionKey {
		t.Errorf("GetToken: got %+v, want %+v", got, want)
	}
	for _, p := range [][2]time.Time{{got.CreatedAt, want.CreatedAt}, {got.ExpiresAt, want.ExpiresAt}, {got.Deadline, want.Deadline}} {
		if !p[0].Equal(p[1]) {
			t.Errorf("time: got %v, want %v", p[0], p[1])
		}
	}
}

func testTokenExpires(t *testing.T, s Both) {
	mustCreate(t, s, "h1", tokenSession("o-ann", time.Now(), 300*time.Millisecond), 5)
	if !tokenFound(t, s, "h1") {
		t.Fatal("GetToken at once: got not found, want found")
	}
	time.Sleep(400 * time.Millisecond)
	if tokenFound(t, s, "h1") {
		t.Error("GetToken after ExpiresAt: got found, want not found")
	}
}

func testTokenTouch(t *testing.T, s Both) {
	now := time.Now()
	mustCreate(t, s, "h1", tokenSession("o-ann", now, 300*time.Millisecond), 5)
	later := now.Add(time.Minute)
	if err := s.TouchToken(context.Background(), "h1", later); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	got, ok, err := s.GetToken(context.Background(), "h1")
	if err != nil || !ok {
		t.Fatalf("GetToken after touch: got found %v, err %v, want found", ok, err)
	}
	if !got.ExpiresAt.Equal(later) {
		t.Errorf("ExpiresAt: got %v, want %v", got.ExpiresAt, later)
	}
}

func testTokenTouchDeleted(t *testing.T, s Both) {
	ctx := context.Background()
	mustCreate(t, s, "h1", tokenSession("o-ann", time.Now(), time.Minute), 5)
	if err := s.DeleteToken(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"h1", "never"} {
		if err := s.TouchToken(ctx, h, time.Now().Add(time.Hour)); err != nil {
			t.Fatalf("TouchToken(%q): %v", h, err)
		}
		if tokenFound(t, s, h) {
			t.Errorf("GetToken(%q) after touch: got found, want not found", h)
		}
	}
}

func testTokenCap(t *testing.T, s Both) {
	base := time.Now()
	// Logins in an order unlike their times: the cap goes by login time.
	order := []int{1, 0, 2}
	for _, i := range order {
		mustCreate(t, s, fmt.Sprintf("h%d", i), tokenSession("o-ann", base.Add(time.Duration(i)*time.Second), time.Minute), 3)
	}
	mustCreate(t, s, "other", tokenSession("o-bob", base, time.Minute), 3)
	evicted := mustCreate(t, s, "h3", tokenSession("o-ann", base.Add(3*time.Second), time.Minute), 3)
	if !slices.Equal(evicted, []string{"h0"}) {
		t.Errorf("evicted: got %v, want [h0]", evicted)
	}
	for h, want := range map[string]bool{"h0": false, "h1": true, "h2": true, "h3": true, "other": true} {
		if got := tokenFound(t, s, h); got != want {
			t.Errorf("GetToken(%q): got found %v, want %v", h, got, want)
		}
	}
	// A deleted session frees its place: the next login evicts nobody.
	if err := s.DeleteToken(context.Background(), "h1"); err != nil {
		t.Fatal(err)
	}
	if evicted := mustCreate(t, s, "h4", tokenSession("o-ann", base.Add(4*time.Second), time.Minute), 3); len(evicted) != 0 {
		t.Errorf("evicted after a delete: got %v, want none", evicted)
	}
}

// testTokenCapTie: logins at the same instant (one clock tick, or a
// coarse clock) tie on CreatedAt; the login being created is never the
// one its own cap evicts, whatever its hash sorts like.
func testTokenCapTie(t *testing.T, s Both) {
	at := time.Now()
	for i, hash := range []string{"m", "a", "z", "b", "y"} {
		evicted := mustCreate(t, s, hash, tokenSession("o-ann", at, time.Minute), 1)
		if slices.Contains(evicted, hash) {
			t.Errorf("login %d (%q): evicted itself (evicted %v)", i, hash, evicted)
		}
		if !tokenFound(t, s, hash) {
			t.Errorf("login %d (%q): not found after its creation", i, hash)
		}
		if i > 0 && len(evicted) != 1 {
			t.Errorf("login %d (%q): evicted %v, want the one before", i, hash, evicted)
		}
	}
}

func testTokenDelete(t *testing.T, s Both) {
	now := time.Now()
	mustCreate(t, s, "h1", tokenSession("o-ann", now, time.Minute), 5)
	mustCreate(t, s, "h2", tokenSession("o-ann", now, time.Minute), 5)
	ctx := context.Background()
	if err := s.DeleteToken(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "never"); err != nil {
		t.Errorf("DeleteToken(unknown): got %v, want nil", err)
	}
	if got1, got2 := tokenFound(t, s, "h1"), tokenFound(t, s, "h2"); got1 || !got2 {
		t.Errorf("found h1, h2: got %v, %v, want false, true", got1, got2)
	}
}

func testTokenDeleteUser(t *testing.T, s Both) {
	now := time.Now()
	ctx := context.Background()
	mustCreate(t, s, "h1", tokenSession("o-ann", now, time.Minute), 5)
	mustCreate(t, s, "h2", tokenSession("o-ann", now, time.Minute), 5)
	mustCreate(t, s, "hb", tokenSession("o-bob", now, time.Minute), 5)
	mustLogin(t, s, "code-ann", session("o-ann"), time.Minute)
	mustLogin(t, s, "code-bob", session("o-bob"), time.Minute)
	if err := s.DeleteUser(ctx, "o-ann"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "o-nobody"); err != nil {
		t.Errorf("DeleteUser(unknown): got %v, want nil", err)
	}
	for h, want := range map[string]bool{"h1": false, "h2": false, "hb": true} {
		if got := tokenFound(t, s, h); got != want {
			t.Errorf("GetToken(%q): got found %v, want %v", h, got, want)
		}
	}
	if got := found(t, s, "code-ann"); got {
		t.Errorf("Get(code-ann): got found %v, want false", got)
	}
	if got := found(t, s, "code-bob"); !got {
		t.Errorf("Get(code-bob): got found %v, want true", got)
	}
	// Her next session is not capped by the deleted ones.
	if evicted := mustCreate(t, s, "h3", tokenSession("o-ann", now, time.Minute), 1); len(evicted) != 0 {
		t.Errorf("evicted after DeleteUser: got %v, want none", evicted)
	}
}
