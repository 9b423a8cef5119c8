package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/internal/profile/profiletest"
)

func TestProfileStore(t *testing.T) {
	profiletest.Run(t, func(t *testing.T) profile.Store {
		return openProfiles(t, filepath.Join(t.TempDir(), "yibi.db"))
	})
}

// openProfiles opens the Store at path and its ProfileStore, closed when
// the test ends.
func openProfiles(t *testing.T, path string) *ProfileStore {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := NewProfileStore(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProfileStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yibi.db")
	ctx := context.Background()
	nick := "一笔"
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewProfileStore(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Update(ctx, "alice", profile.Update{NickName: &nick}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A second open keeps the tables and their rows.
	got, found, err := openProfiles(t, path).Get(ctx, "alice")
	if err != nil || !found || got.NickName != nick {
		t.Errorf("got %+v %v %v, want nickName %q", got, found, err, nick)
	}
}
