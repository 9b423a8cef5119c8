package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

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

func TestUnavailable(t *testing.T) {
	f := testenv.StartFerretDB(t)
	ctx := context.Background()
	s, err := Open(ctx, f.URI, "unavailable")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f.Stop()
	t.Run("ErrUnavailableFast", func(t *testing.T) {
		start := time.Now()
		_, err := s.List(ctx, "alice")
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
		if _, err := s.List(ctx, "alice"); err != nil {
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
