package render

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"testing"
)

// bigDrawing is a drawing a real client could write, just under size
// bytes: strokes of 60 points in the palette and the three widths, with
// space, as clients write today.
func bigDrawing(size int) string {
	palette := []string{"#666666", "#FF0000", "#FFA500", "#FFFF00", "#008000", "#0000FF", "#8A2BE2"}
	out := []byte(`[{"method":"space","data":[375,500]}`)
	for i := 0; ; i++ {
		var s []byte
		x0, y0 := float64(i*37%300), float64(i*53%420)
		s = append(s, `,{"method":"save","data":[]}`...)
		for j := range 60 {
			m := "lineTo"
			if j == 0 {
				m = "moveTo"
			}
			x := x0 + float64(j)*1.2
			y := y0 + 30*math.Sin(float64(j+i)*0.2)
			s = fmt.Appendf(s, `,{"method":%q,"data":[%.1f,%.1f]}`, m, x, y)
		}
		c, _ := json.Marshal(palette[i%len(palette)])
		s = fmt.Appendf(s, `,{"method":"setStrokeStyle","data":[%s]},{"method":"setLineWidth","data":[%d]},{"method":"stroke","data":[]},{"method":"restore","data":[]}`, c, []int{2, 5, 12}[i%3])
		if len(out)+len(s)+1 > size {
			break
		}
		out = append(out, s...)
	}
	return string(append(out, ']'))
}

// BenchmarkRender measures a 1 MiB drawing (the paint API's limit) and a
// typical 20 KiB one at a thumbnail and a 2× phone width: PNG encoding
// included, as the image endpoint pays it. thumbs/s is renders per second
// on one core.
func BenchmarkRender(b *testing.B) {
	for _, size := range []int{1 << 20, 20 << 10} {
		d := bigDrawing(size)
		for _, w := range []int{120, 750} {
			b.Run(fmt.Sprintf("%dKiB-%dpx", size>>10, w), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(d)))
				for b.Loop() {
					if err := PNG(io.Discard, d, w); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renders/s")
			})
		}
	}
}

// TestBigDrawingIsWithinBudget checks that the budgets never cut a real
// drawing short: a 1 MiB drawing of real strokes stays inside them.
func TestBigDrawingIsWithinBudget(t *testing.T) {
	d := bigDrawing(1 << 20)
	for _, w := range []int{120, 750, MaxWidth} {
		ww, h := Size(w)
		c := newCanvas(nopPainter{}, ww, h)
		c.replay(parseActions(d))
		if c.spent {
			t.Errorf("width %d: got the budget spent (%d segments, area %.0f×), want a real drawing drawn whole", w, c.segs, c.area/float64(ww*h))
		} else {
			t.Logf("width %d: %d segments, area %.1f× the image", w, c.segs, c.area/float64(ww*h))
		}
	}
}

type nopPainter struct{}

func (nopPainter) stroke([]seg, strokeStyle) {}
func (nopPainter) fill([]seg, color.NRGBA)   {}
