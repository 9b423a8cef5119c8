package painttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// SharingStore is a paint store that also keeps share links, as every
// Yibi store does.
type SharingStore interface {
	paint.Store
	paint.ShareStore
}

// RunShares runs the paint.ShareStore suite. open is called once per
// subtest and must open a store on a fresh, empty database; calling the
// returned function again opens a second store on the same data (another
// yibi instance). Stores are closed by the suite.
func RunShares(t *testing.T, newDB func(t *testing.T) func() SharingStore) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b SharingStore)
	}{
		{"ShareThenShared", testShareThenShared},
		{"ShareIsIdempotent", testShareIdempotent},
		{"ErrNotSharedAfterUnshareOnOtherInstance", testUnshareAcrossInstances},
		{"UnshareMissingIsNil", testUnshareMissing},
		{"ErrNotSharedForUnknownToken", testSharedUnknown},
		{"RecreatedPaintGetsNewLink", testShareRecreated},
		{"ScopedPerUser", testShareScoped},
		{"ConcurrentSharesMakeOneLink", testShareConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open := newDB(t)
			a, b := open(), open()
			t.Cleanup(func() { a.Close(); b.Close() })
			tt.fn(t, a, b)
		})
	}
}

var created = time.UnixMilli(1_795_000_000_123)

func mustShare(t *testing.T, s paint.ShareStore, openID, id string, at time.Time) paint.Share {
	t.Helper()
	sh, err := s.Share(context.Background(), openID, id, at, paint.NewShareToken())
	if err != nil {
		t.Fatalf("Share(%s, %s): got %v, want nil", openID, id, err)
	}
	return sh
}

func testShareThenShared(t *testing.T, a, b SharingStore) {
	sh := mustShare(t, a, "alice", "p1", created)
	if len(sh.Token) < 22 {
		t.Errorf("token %q: got %d characters, want at least 22 (128 bits)", sh.Token, len(sh.Token))
	}
	got, err := b.Shared(context.Background(), sh.Token)
	if err != nil {
		t.Fatalf("Shared on the other instance: got %v, want nil", err)
	}
	want := paint.Share{Token: sh.Token, OpenID: "alice", ID: "p1", PaintCreated: created}
	if got.Token != want.Token || got.OpenID != want.OpenID || got.ID != want.ID || !got.PaintCreated.Equal(want.PaintCreated) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !got.Of(paint.Paint{OpenID: "alice", ID: "p1", CreatedAt: created}) {
		t.Errorf("Of(the paint): got false, want true")
	}
}

func testShareIdempotent(t *testing.T, a, b SharingStore) {
	first := mustShare(t, a, "alice", "p1", created)
	again := mustShare(t, b, "alice", "p1", created)
	if again.Token != first.Token {
		t.Errorf("token: got %q, want %q (the same link)", again.Token, first.Token)
	}
}

func testUnshareAcrossInstances(t *testing.T, a, b SharingStore) {
	ctx := context.Background()
	sh := mustShare(t, a, "alice", "p1", created)
	if _, err := b.Shared(ctx, sh.Token); err != nil {
		t.Fatalf("Shared before unshare: got %v, want nil", err)
	}
	if err := a.Unshare(ctx, "alice", "p1"); err != nil {
		t.Fatalf("Unshare: got %v, want nil", err)
	}
	if _, err := b.Shared(ctx, sh.Token); !errors.Is(err, paint.ErrNotShared) {
		t.Errorf("Shared after unshare: got %v, want ErrNotShared", err)
	}
	again := mustShare(t, b, "alice", "p1", created)
	if again.Token == sh.Token {
		t.Errorf("sharing after unshare: got the old token %q, want a new one", again.Token)
	}
}

func testUnshareMissing(t *testing.T, a, _ SharingStore) {
	if err := a.Unshare(context.Background(), "alice", "nope"); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}

func testSharedUnknown(t *testing.T, a, _ SharingStore) {
	for _, tok := range []string{paint.NewShareToken(), "", "alice/p1"} {
		if _, err := a.Shared(context.Background(), tok); !errors.Is(err, paint.ErrNotShared) {
			t.Errorf("Shared(%q): got %v, want ErrNotShared", tok, err)
		}
	}
}

func testShareRecreated(t *testing.T, a, b SharingStore) {
	ctx := context.Background()
	old := mustShare(t, a, "alice", "p1", created)
	later := created.Add(time.Hour)
	sh := mustShare(t, b, "alice", "p1", later)
	if sh.Token == old.Token {
		t.Fatalf("token: got the old %q, want a new one for the new paint", sh.Token)
	}
	if _, err := a.Shared(ctx, old.Token); !errors.Is(err, paint.ErrNotShared) {
		t.Errorf("old link: got %v, want ErrNotShared", err)
	}
	if got, err := a.Shared(ctx, sh.Token); err != nil || !got.PaintCreated.Equal(later) {
		t.Errorf("new link: got %+v, %v, want created %v", got, err, later)
	}
}

func testShareScoped(t *testing.T, a, _ SharingStore) {
	ctx := context.Background()
	al := mustShare(t, a, "alice", "p1", created)
	bo := mustShare(t, a, "bob", "p1", created)
	if al.Token == bo.Token {
		t.Fatalf("alice and bob share one token %q", al.Token)
	}
	if err := a.Unshare(ctx, "bob", "p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Shared(ctx, al.Token); err != nil {
		t.Errorf("alice's link after bob's unshare: got %v, want nil", err)
	}
}

func testShareConcurrent(t *testing.T, a, b SharingStore) {
	const n = 8
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			sh, err := s.Share(context.Background(), "alice", "p1", created, paint.NewShareToken())
			if err != nil {
				t.Errorf("Share %d: got %v, want nil", i, err)
				return
			}
			tokens[i] = sh.Token
		}()
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok != tokens[0] {
			t.Errorf("Share %d: got %q, want %q (one link)", i, tok, tokens[0])
		}
	}
}
