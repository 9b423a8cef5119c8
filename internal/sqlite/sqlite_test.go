package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/paint/painttest"
)

func TestStore(t *testing.T) {
	painttest.Run(t, func(t *testing.T) painttest.Opener {
		path := filepath.Join(t.TempDir(), "sub", "dir", "yibi.db")
		return func() paint.Store {
			s, err := Open(path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			return s
		}
	})
}

func TestOpen(t *testing.T) {
	t.Run("MigratesOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "yibi.db")
		for range 2 {
			s, err := Open(path)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			var v int
			if err := s.r.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != 3 {
				t.Errorf("got user_version %d, want 3", v)
			}
			var mode string
			if err := s.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
				t.Fatal(err)
			}
			if mode != "wal" {
				t.Errorf("got journal_mode %q, want wal", mode)
			}
			s.Close()
		}
	})
	t.Run("RevisionsMigration", func(t *testing.T) {
		// A database of the first schema, with a paint, as yibi left it.
		path := filepath.Join(t.TempDir(), "yibi.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		first, err := migrations.ReadFile("migrations/0001_paints.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{string(first), "PRAGMA user_version = 1",
			`INSERT INTO paints (open_id, id, actions, created_at, updated_at) VALUES ('alice', 'p1', '["画"]', 1, 1)`} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := context.Background()
		rev, err := s.Append(ctx, "alice", "p1", 1, "[1]", time.Now(), paint.Limits{})
		if err != nil || rev != 2 {
			t.Fatalf("append to the old paint at rev 1: got %d, %v, want 2, nil", rev, err)
		}
		// The old paint's size counts: 9 bytes now, so 2 more pass a
		// quota of 11 and 3 more do not.
		lim := paint.Limits{UserBytes: 11}
		if _, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p2", Actions: "[1]"}, lim); !errors.Is(err, paint.ErrQuota) {
			t.Errorf("got %v, want ErrQuota", err)
		}
		if _, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p2", Actions: "[]"}, lim); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
	t.Run("ErrNewerSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "yibi.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.Exec("PRAGMA user_version = 99"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err := Open(path); err == nil {
			s.Close()
			t.Fatal("got nil, want error for a newer schema")
		}
	})
	t.Run("ErrUnavailableAfterClose", func(t *testing.T) {
		s, err := Open(filepath.Join(t.TempDir(), "yibi.db"))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if err := s.Ping(context.Background()); err == nil {
			t.Fatal("got nil, want error")
		}
	})
}

func BenchmarkStore(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	painttest.Bench(b, s)
}

// TestListNeedsNoSort: the list queries read paints_newest in its order,
// with no temporary B-tree (a sort of the user's whole list per batch);
// those without actions read that index alone, never a row (whose actions
// take up to 1 MiB of overflow pages).
func TestListNeedsNoSort(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, q := range map[string]string{"first": listFirstQuery, "after": listAfterQuery,
		"first without actions": listFirstMetaQuery, "after without actions": listAfterMetaQuery} {
		rows, err := s.r.Query("EXPLAIN QUERY PLAN "+q, "alice", 0, 0, "p", 10)
		if strings.HasPrefix(name, "first") {
			rows, err = s.r.Query("EXPLAIN QUERY PLAN "+q, "alice", 10)
		}
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if strings.Contains(got, "TEMP B-TREE") || !strings.Contains(got, "paints_newest") {
			t.Errorf("%s: got plan %q, want paints_newest and no sort", name, got)
		}
		if strings.HasSuffix(name, "without actions") && !strings.Contains(got, "COVERING INDEX paints_newest") {
			t.Errorf("%s: got plan %q, want the covering index paints_newest (no row read)", name, got)
		}
	}
}
