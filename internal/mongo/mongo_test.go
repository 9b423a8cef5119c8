package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/paint/painttest"
	"github.com/yibi/yibi/internal/testenv"
)

var dbSeq atomic.Int64

func TestStore(t *testing.T) {
	f := testenv.StartFerretDB(t)
	painttest.Run(t, func(t *testing.T) painttest.Opener {
		// One server, one fresh database per subtest.
		db := fmt.Sprintf("painttest%d", dbSeq.Add(1))
		return func() paint.Store {
			s, err := Open(context.Background(), f.URI, db)
			if err != nil {
				t.Fatalf("open: %v\nferretdb log:\n%s", err, f.Log())
			}
			return s
		}
	}, painttest.LimitMayRefuse)
}

// openStore starts a FerretDB and opens a Store on database db in it,
// closed when the test ends.
func openStore(t *testing.T, db string) (*testenv.Ferret, *Store) {
	t.Helper()
	f := testenv.StartFerretDB(t)
	s, err := Open(context.Background(), f.URI, db)
	if err != nil {
		t.Fatalf("open: %v\nferretdb log:\n%s", err, f.Log())
	}
	t.Cleanup(func() { s.Close() })
	return f, s
}

func TestUnavailable(t *testing.T) {
	f, s := openStore(t, "unavailable")
	ctx := context.Background()
	f.Stop()
	t.Run("ErrUnavailableFast", func(t *testing.T) {
		start := time.Now()
		err := s.List(ctx, "alice", paint.Page{}, func(paint.Paint) error { return nil })
		if !errors.Is(err, paint.ErrUnavailable) {
			t.Errorf("got %v, want ErrUnavailable", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v, want under 5s", d)
		}
	})
	t.Run("OpenErrUnavailable", func(t *testing.T) {
		_, err := Open(ctx, f.URI, "unavailable")
		if !errors.Is(err, paint.ErrUnavailable) {
			t.Errorf("got %v, want ErrUnavailable", err)
		}
	})
	f.Start()
	t.Run("RecoversAfterRestart", func(t *testing.T) {
		if err := s.List(ctx, "alice", paint.Page{}, func(paint.Paint) error { return nil }); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

func BenchmarkStore(b *testing.B) {
	f := testenv.StartFerretDB(b)
	s, err := Open(context.Background(), f.URI, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	painttest.Bench(b, s)
}

// TestForeignIDs: paints written by another program, with ObjectId _ids,
// are listed, replaced and deleted like Yibi's own, and one of our own
// gets the _id that writes address.
func TestForeignIDs(t *testing.T) {
	_, s := openStore(t, "foreign")
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := s.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()},
		{Key: "openId", Value: "alice"}, {Key: "id", Value: "old"}, {Key: "actions", Value: "[]"},
		{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now}}); err != nil {
		t.Fatal(err)
	}
	created, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "old", Actions: `[1]`, CreatedAt: now, UpdatedAt: now}, paint.Limits{Paints: 10})
	if err != nil || created {
		t.Fatalf("replace: got created %v, %v; want a replace", created, err)
	}
	if _, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "new", Actions: `[2]`, CreatedAt: now, UpdatedAt: now}, paint.Limits{Paints: 10}); err != nil {
		t.Fatal(err)
	}
	ps, err := listAll(ctx, s, "alice")
	if err != nil || len(ps) != 2 {
		t.Fatalf("list: got %v, %v; want 2 paints", ps, err)
	}
	for _, p := range ps {
		if want := map[string]string{"old": `[1]`, "new": `[2]`}[p.ID]; p.Actions != want {
			t.Errorf("paint %s: got actions %s, want %s", p.ID, p.Actions, want)
		}
	}
	if n, err := s.coll.CountDocuments(ctx, bson.D{{Key: "_id", Value: docID("alice", "new")}}); err != nil || n != 1 {
		t.Errorf("got %d paints with _id %q (%v), want 1", n, docID("alice", "new"), err)
	}
	for _, id := range []string{"old", "new"} {
		if err := s.Delete(ctx, "alice", id); err != nil {
			t.Errorf("delete %s: %v", id, err)
		}
	}
	if ps, err := listAll(ctx, s, "alice"); err != nil || len(ps) != 0 {
		t.Errorf("after deletes: got %v, %v; want none", ps, err)
	}
}

// TestForeignActionsNotArray: a document another program wrote with
// actions that are not an array (the 2016 server stored any string) is
// refused by an append with paint.ErrNotArray, never joined into text
// that is not JSON and never a panic; a whole save still replaces it.
func TestForeignActionsNotArray(t *testing.T) {
	_, s := openStore(t, "foreignactions")
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i, actions := range []string{"", "not json"} {
		id := fmt.Sprint("p", i)
		if _, err := s.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: bson.NewObjectID()},
			{Key: "openId", Value: "alice"}, {Key: "id", Value: id}, {Key: "actions", Value: actions},
			{Key: "createdAt", Value: now}, {Key: "updatedAt", Value: now}}); err != nil {
			t.Fatal(err)
		}
		p, err := s.Get(ctx, "alice", id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, "alice", id, p.Rev, "[2]", now, paint.Limits{}); !errors.Is(err, paint.ErrNotArray) {
			t.Errorf("append to actions %q: got %v, want paint.ErrNotArray", actions, err)
		}
		if got, err := s.Get(ctx, "alice", id); err != nil || got.Actions != actions {
			t.Errorf("after the refused append: got %q, %v; want %q kept", got.Actions, err, actions)
		}
		if _, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: id, Actions: "[1]", CreatedAt: now, UpdatedAt: now}, paint.Limits{}); err != nil {
			t.Errorf("save over actions %q: %v", actions, err)
		}
	}
}

// TestWritesInOrder: writes to one paint reach the server one at a time, in
// the order they arrive, even when a request gives up on its write while
// the server hangs. Without that order FerretDB runs every write it has
// read when it wakes, in any order, and may keep an older drawing than the
// last acknowledged one or bring back a deleted paint.
func TestWritesInOrder(t *testing.T) {
	f, s := openStore(t, "inorder")
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	save := func(ctx context.Context, id, actions string) error {
		_, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: id, Actions: actions, CreatedAt: now, UpdatedAt: now}, paint.Limits{})
		return err
	}
	giveUp := func(id, actions string) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := save(short, id, actions); !errors.Is(err, paint.ErrUnavailable) {
			t.Fatalf("save %s %s to a hung server: got %v, want ErrUnavailable", id, actions, err)
		}
	}
	settle := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.writes.Len() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := s.writes.Len(); n != 0 {
			t.Fatalf("got %d paint locks after every write ended, want 0", n)
		}
	}
	list := func() map[string]string {
		t.Helper()
		ps, err := listAll(ctx, s, "alice")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, p := range ps {
			got[p.ID] = p.Actions
		}
		return got
	}
	if err := save(ctx, "kept", `["v1"]`); err != nil {
		t.Fatal(err)
	}

	t.Run("GivenUpBeforeItsTurnIsNeverSent", func(t *testing.T) {
		f.Pause()
		giveUp("kept", `["v2"]`) // sent; the server hangs
		giveUp("kept", `["v3"]`) // waits for v2, then gives up: never sent
		f.Resume()
		settle()
		if got := list(); got["kept"] != `["v2"]` {
			t.Errorf("got kept = %s, want [\"v2\"]: the write that was on the wire, not the one that never had its turn", got["kept"])
		}
	})

	t.Run("NextWriteGoesAfter", func(t *testing.T) {
		f.Pause()
		giveUp("deleted", `["d1"]`) // a create: it goes on after the server wakes
		saved, deleted := make(chan error, 1), make(chan error, 1)
		go func() { saved <- save(ctx, "kept", `["v4"]`) }()
		go func() { deleted <- s.Delete(ctx, "alice", "deleted") }()
		time.Sleep(300 * time.Millisecond)
		f.Resume()
		if err := <-saved; err != nil {
			t.Errorf("save v4: %v", err)
		}
		// The create ran first, so the delete finds the paint.
		if err := <-deleted; err != nil {
			t.Errorf("delete after the create: got %v, want nil", err)
		}
		settle()
		if got := list(); len(got) != 1 || got["kept"] != `["v4"]` {
			t.Errorf("got paints %v, want only kept with its last acknowledged drawing [\"v4\"]", got)
		}
	})
}

func listAll(ctx context.Context, s *Store, openID string) ([]paint.Paint, error) {
	var ps []paint.Paint
	err := s.List(ctx, openID, paint.Page{}, func(p paint.Paint) error { ps = append(ps, p); return nil })
	return ps, err
}
