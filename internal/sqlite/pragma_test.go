package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestDurabilityPragmas: the writer commits with synchronous=FULL in WAL
// mode, what makes an acknowledged save survive a power loss (the kill -9
// tests cannot tell: the OS keeps a killed process's writes).
func TestDurabilityPragmas(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var sync int
	if err := s.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("writer's synchronous: got %d, %v; want 2 (FULL)", sync, err)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode: got %q, %v; want wal", mode, err)
	}
}
