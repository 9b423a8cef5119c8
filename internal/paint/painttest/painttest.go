// Package painttest is the conformance suite for paint.Store: every
// implementation runs Run, so all stores keep the same contract.
package painttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// Opener opens a store on one underlying database. Calling it again after
// the previous store was closed must reopen the same data; the suite uses
// that to check durability. Stores it returns are closed by the suite.
type Opener func() paint.Store

// Option relaxes the suite for a store that documents a weaker guarantee.
type Option int

// LimitMayRefuse is for stores without transactions: under concurrent
// creates at the limit they may refuse more saves than needed (ending below
// max), but must still never end above max.
const LimitMayRefuse Option = 1

// Run runs the suite. newDB is called once per subtest and must return an
// Opener for a fresh, empty database.
func Run(t *testing.T, newDB func(t *testing.T) Opener, opts ...Option) {
	t.Helper()
	mayRefuse := false
	for _, o := range opts {
		mayRefuse = mayRefuse || o == LimitMayRefuse
	}
	open := func(t *testing.T) paint.Store {
		t.Helper()
		s := newDB(t)()
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Ping", func(t *testing.T) {
		s := open(t)
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	})
	t.Run("EmptyList", func(t *testing.T) {
		s := open(t)
		got, err := s.List(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || len(got) != 0 {
			t.Fatalf("got %#v, want empty non-nil slice", got)
		}
	})
	t.Run("SaveThenList", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		now := ms(time.Now())
		created, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1]", CreatedAt: now, UpdatedAt: now}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !created {
			t.Errorf("got created false, want true")
		}
		got := list(t, s, "alice")
		if len(got) != 1 {
			t.Fatalf("got %d paints, want 1", len(got))
		}
		want := paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1]", CreatedAt: now, UpdatedAt: now}
		if !same(got[0], want) {
			t.Errorf("got %+v, want %+v", got[0], want)
		}
	})
	t.Run("ReplaceKeepsCreatedAt", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		t0 := ms(time.Now().Add(-time.Hour))
		t1 := t0.Add(time.Minute)
		save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1]", CreatedAt: t0, UpdatedAt: t0}, 0)
		created, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[2]", CreatedAt: t1, UpdatedAt: t1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if created {
			t.Errorf("got created true, want false")
		}
		got := list(t, s, "alice")
		want := paint.Paint{OpenID: "alice", ID: "p1", Actions: "[2]", CreatedAt: t0, UpdatedAt: t1}
		if len(got) != 1 || !same(got[0], want) {
			t.Fatalf("got %+v, want [%+v]", got, want)
		}
	})
	t.Run("ListNewestFirst", func(t *testing.T) {
		s := open(t)
		base := ms(time.Now())
		// Saved out of order, so an insertion-order store fails.
		for _, i := range []int{2, 0, 3, 1} {
			at := base.Add(time.Duration(i) * time.Second)
			save(t, s, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: at, UpdatedAt: at}, 0)
		}
		got := ids(list(t, s, "alice"))
		if want := "p3,p2,p1,p0"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("ScopedPerUser", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		now := ms(time.Now())
		save(t, s, paint.Paint{OpenID: "alice", ID: "same", Actions: `["a"]`, CreatedAt: now, UpdatedAt: now}, 0)
		if got := list(t, s, "bob"); len(got) != 0 {
			t.Errorf("bob lists %d paints, want 0", len(got))
		}
		if err := s.Delete(ctx, "bob", "same"); !errors.Is(err, paint.ErrNotFound) {
			t.Errorf("bob delete: got %v, want ErrNotFound", err)
		}
		created, err := s.Save(ctx, paint.Paint{OpenID: "bob", ID: "same", Actions: `["b"]`, CreatedAt: now, UpdatedAt: now}, 1)
		if err != nil || !created {
			t.Fatalf("bob save: got %v, %v, want true, nil", created, err)
		}
		a := list(t, s, "alice")
		if len(a) != 1 || a[0].Actions != `["a"]` || a[0].OpenID != "alice" {
			t.Errorf("alice's paint: got %+v, want untouched", a)
		}
		b := list(t, s, "bob")
		if len(b) != 1 || b[0].Actions != `["b"]` || b[0].OpenID != "bob" {
			t.Errorf("bob's paint: got %+v, want his own", b)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		now := ms(time.Now())
		save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[]", CreatedAt: now, UpdatedAt: now}, 0)
		if err := s.Delete(ctx, "alice", "p1"); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if got := list(t, s, "alice"); len(got) != 0 {
			t.Errorf("got %d paints after delete, want 0", len(got))
		}
		if err := s.Delete(ctx, "alice", "p1"); !errors.Is(err, paint.ErrNotFound) {
			t.Errorf("second delete: got %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrLimit", func(t *testing.T) {
		s := open(t)
		ctx := context.Background()
		now := ms(time.Now())
		for i := range 3 {
			save(t, s, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, 3)
		}
		_, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p3", Actions: "[]", CreatedAt: now, UpdatedAt: now}, 3)
		if !errors.Is(err, paint.ErrLimit) {
			t.Fatalf("create at max: got %v, want ErrLimit", err)
		}
		created, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[9]", CreatedAt: now, UpdatedAt: now}, 3)
		if err != nil || created {
			t.Errorf("replace at max: got %v, %v, want false, nil", created, err)
		}
		// Another user is not counted against alice.
		if _, err := s.Save(ctx, paint.Paint{OpenID: "bob", ID: "p3", Actions: "[]", CreatedAt: now, UpdatedAt: now}, 3); err != nil {
			t.Errorf("bob: got %v, want nil", err)
		}
		if got := len(list(t, s, "alice")); got != 3 {
			t.Errorf("got %d paints, want 3", got)
		}
	})
	t.Run("ActionsRoundTrip", func(t *testing.T) {
		s := open(t)
		now := ms(time.Now())
		cases := map[string]string{
			"unicode":   `[{"method":"setStrokeStyle","data":["一笔到底 🎨 \u0000 é"]}, 1.50, "\\\""]`,
			"spacing":   " [ 1 ,\n\t2 ] ",
			"oneMiB":    big(paint.DefaultMaxActionsBytes),
			"realistic": Actions(100, 20, 1),
		}
		for id, a := range cases {
			save(t, s, paint.Paint{OpenID: "alice", ID: id, Actions: a, CreatedAt: now, UpdatedAt: now}, 0)
		}
		for _, p := range list(t, s, "alice") {
			if p.Actions != cases[p.ID] {
				t.Errorf("%s: actions changed (got %d bytes, want %d)", p.ID, len(p.Actions), len(cases[p.ID]))
			}
		}
	})
	t.Run("ConcurrentDistinctIDs", func(t *testing.T) {
		s := open(t)
		const n = 32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				now := ms(time.Now())
				_, err := s.Save(context.Background(), paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, 0)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("save: %v", err)
			}
		}
		if got := len(list(t, s, "alice")); got != n {
			t.Errorf("got %d paints, want %d", got, n)
		}
	})
	t.Run("ConcurrentNearLimit", func(t *testing.T) {
		s := open(t)
		const n, max = 24, 5
		var wg sync.WaitGroup
		var ok, limited atomic.Int32
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				now := ms(time.Now())
				_, err := s.Save(context.Background(), paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, max)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, paint.ErrLimit):
					limited.Add(1)
				default:
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("save: %v", err)
		}
		got := len(list(t, s, "alice"))
		if got != int(ok.Load()) {
			t.Errorf("got %d paints, want %d (the saves that succeeded)", got, ok.Load())
		}
		if mayRefuse {
			if got > max || got < 1 {
				t.Errorf("got %d paints (%d limited), want 1 to %d", got, limited.Load(), max)
			}
		} else if got != max {
			t.Errorf("got %d paints (%d limited), want %d", got, limited.Load(), max)
		}
	})
	t.Run("DurableAcrossReopen", func(t *testing.T) {
		reopen := newDB(t)
		s := reopen()
		now := ms(time.Now())
		save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: `["kept"]`, CreatedAt: now, UpdatedAt: now}, 0)
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		s = reopen()
		t.Cleanup(func() { s.Close() })
		got := list(t, s, "alice")
		if len(got) != 1 || got[0].Actions != `["kept"]` {
			t.Errorf("after reopen: got %+v, want the saved paint", got)
		}
	})
}

// ms truncates to milliseconds, the precision both stores keep.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

func same(a, b paint.Paint) bool {
	return a.OpenID == b.OpenID && a.ID == b.ID && a.Actions == b.Actions &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func save(t *testing.T, s paint.Store, p paint.Paint, max int) {
	t.Helper()
	if _, err := s.Save(context.Background(), p, max); err != nil {
		t.Fatalf("save %s/%s: %v", p.OpenID, p.ID, err)
	}
}

func list(t *testing.T, s paint.Store, openID string) []paint.Paint {
	t.Helper()
	got, err := s.List(context.Background(), openID)
	if err != nil {
		t.Fatalf("list %s: %v", openID, err)
	}
	return got
}

func ids(ps []paint.Paint) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.ID)
	}
	return b.String()
}

// big returns a JSON array of exactly n bytes.
func big(n int) string {
	return "[" + `"` + strings.Repeat("画", (n-4)/3) + strings.Repeat("x", (n-4)%3) + `"` + "]"
}
