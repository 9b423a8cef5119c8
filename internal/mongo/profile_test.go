package mongo

import (
	"context"
	"fmt"
	"testing"

	"github.com/yibi/yibi/internal/profile"
	"github.com/yibi/yibi/internal/profile/profiletest"
	"github.com/yibi/yibi/internal/testenv"
)

func TestProfileStore(t *testing.T) {
	f := testenv.StartFerretDB(t)
	profiletest.Run(t, func(t *testing.T) profile.Store {
		// One server, one fresh database per subtest.
		s, err := Open(context.Background(), f.URI, fmt.Sprintf("profiletest%d", dbSeq.Add(1)))
		if err != nil {
			t.Fatalf("open: %v\nferretdb log:\n%s", err, f.Log())
		}
		t.Cleanup(func() { s.Close() })
		return NewProfileStore(s)
	})
}
