package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/yibi/yibi/internal/paint/painttest"
)

func TestShares(t *testing.T) {
	painttest.RunShares(t, func(t *testing.T) func() painttest.SharingStore {
		path := filepath.Join(t.TempDir(), "yibi.db")
		return func() painttest.SharingStore {
			s, err := Open(path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			return s
		}
	})
}
