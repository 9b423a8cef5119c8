package wechatsim

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestUsersFileKeepsTheList: a development server lists its people again
// after a restart; a load generator's unlisted users are never written.
func TestUsersFileKeepsTheList(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.json")
	cfg := Config{Apps: map[string]string{"wxa": "s"}, UsersFile: file}
	first := New(cfg)
	if _, err := first.Login("wxa", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := first.login("wxa", "load-1", false); err != nil {
		t.Fatal(err)
	}
	restarted := New(cfg)
	got := restarted.Users("wxa")
	if len(got) != 1 || got[0].User != "alice" || got[0].OpenID != OpenID("wxa", "alice") {
		t.Fatalf("after a restart: got %+v, want alice alone", got)
	}
	if _, _, err := restarted.UserInfo("wxa", "alice"); !errors.Is(err, ErrNotLogged) {
		t.Errorf("UserInfo before alice logs in again: got %v, want ErrNotLogged (no session_key survives)", err)
	}
	if err := os.WriteFile(file, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := New(cfg).Users("wxa"); len(got) != 0 {
		t.Errorf("from a broken file: got %+v, want an empty list", got)
	}
}
