package painttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// Bench runs BenchmarkSave- and BenchmarkList-style sub-benchmarks for
// drawings of 10, 100 and 1000 strokes (20 points each) against s.
func Bench(b *testing.B, s paint.Store) {
	for _, strokes := range []int{10, 100, 1000} {
		actions := Actions(strokes, 20, uint64(strokes))
		b.Run(fmt.Sprintf("Save/strokes=%d", strokes), func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(int64(len(actions)))
			i := 0
			for b.Loop() {
				now := time.Now()
				// 50 ids per user: mostly replaces, like the draw page saving after each stroke.
				p := paint.Paint{OpenID: fmt.Sprint("bench-save-", strokes), ID: fmt.Sprint("p", i%50), Actions: actions, CreatedAt: now, UpdatedAt: now}
				if _, err := s.Save(ctx, p, 0); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("List/strokes=%d", strokes), func(b *testing.B) {
			ctx := context.Background()
			user := fmt.Sprint("bench-list-", strokes)
			for i := range 20 {
				now := time.Now()
				if _, err := s.Save(ctx, paint.Paint{OpenID: user, ID: fmt.Sprint("p", i), Actions: actions, CreatedAt: now, UpdatedAt: now}, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(20 * len(actions)))
			for b.Loop() {
				ps, err := s.List(ctx, user)
				if err != nil || len(ps) != 20 {
					b.Fatalf("list: %d, %v", len(ps), err)
				}
			}
		})
	}
}
