package sqlite

import (
	"context"
	"path/filepath"
	"testing"

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
			if v != 1 {
				t.Errorf("got user_version %d, want 1", v)
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
