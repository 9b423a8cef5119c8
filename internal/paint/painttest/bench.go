package painttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// Bench runs BenchmarkSave-, BenchmarkAppend- and BenchmarkList-style
// sub-benchmarks for drawings of 10, 100 and 1000 strokes (20 points each)
// against s.
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
				if _, err := s.Save(ctx, p, paint.Limits{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("Append/strokes=%d", strokes), func(b *testing.B) {
			// One stroke appended to a drawing of strokes strokes, the
			// draw page's save after each stroke; a new paint each 100.
			ctx := context.Background()
			stroke := Actions(1, 20, 7)
			b.SetBytes(int64(len(stroke)))
			user, id, rev := fmt.Sprint("bench-append-", strokes), "", int64(0)
			i := 0
			for b.Loop() {
				if i%100 == 0 {
					id = fmt.Sprint("p", i)
					var err error
					if rev, err = s.Append(ctx, user, id, 0, actions, time.Now(), paint.Limits{}); err != nil {
						b.Fatal(err)
					}
				}
				var err error
				if rev, err = s.Append(ctx, user, id, rev, stroke, time.Now(), paint.Limits{}); err != nil {
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
				if _, err := s.Save(ctx, paint.Paint{OpenID: user, ID: fmt.Sprint("p", i), Actions: actions, CreatedAt: now, UpdatedAt: now}, paint.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(20 * len(actions)))
			for b.Loop() {
				n := 0
				err := s.List(ctx, user, paint.Page{}, func(paint.Paint) error { n++; return nil })
				if err != nil || n != 20 {
					b.Fatalf("list: %d, %v", n, err)
				}
			}
		})
	}
}
