package mongo

import (
	"context"
	"fmt"
	"testing"

	"github.com/yibi/yibi/internal/paint/painttest"
	"github.com/yibi/yibi/internal/testenv"
)

func TestShares(t *testing.T) {
	f := testenv.StartFerretDB(t)
	painttest.RunShares(t, func(t *testing.T) func() painttest.SharingStore {
		db := fmt.Sprintf("sharetest%d", dbSeq.Add(1))
		return func() painttest.SharingStore {
			s, err := Open(context.Background(), f.URI, db)
			if err != nil {
				t.Fatalf("open: %v\nferretdb log:\n%s", err, f.Log())
			}
			return s
		}
	})
}
