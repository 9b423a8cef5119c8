package render

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func FuzzRender(f *testing.F) {
	for _, d := range loadDrawings(f) {
		f.Add(d.actions, 64)
	}
	for _, s := range []string{
		``, `null`, `{}`, `[1,"x",null,[]]`, `[{"method":1}]`,
		`[{"method":"arc","data":[1e308,1e308,1e308,0,1e308]},{"method":"stroke"}]`,
		`[{"method":"scale","data":[1e300,1e-300]},{"method":"lineTo","data":[1,1]},{"method":"lineTo","data":[2,"2"]},{"method":"stroke"}]`,
		`[{"method":"restore"},{"method":"undo"},{"method":"clear"},{"method":"undo"},{"method":"save"}]`,
		`[{"method":"setStrokeStyle","data":[[[[["normal",[1,2,3,999]]]]]]},{"method":"arcTo","data":[0,0,1,1,-1]}]`,
		`[{"method":"strokePath","data":[{"method":"moveTo","data":["0x10"," 5 "]},{"method":"lineTo","data":[1e5,-1e9]}]}]`,
	} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, actions string, width int) {
		if err := PNG(io.Discard, actions, width%300); err != nil {
			t.Fatalf("PNG: %v", err)
		}
		var buf bytes.Buffer
		if err := SVG(&buf, actions, width%300); err != nil {
			t.Fatalf("SVG: %v", err)
		}
		if !strings.HasSuffix(buf.String(), "</svg>\n") {
			t.Fatalf("SVG: got an unfinished document")
		}
	})
}

// hostile drawings near the 1 MiB limit, each built to make a naive
// renderer work without end: the budgets must cut them short.
func hostile() map[string]string {
	const limit = 1 << 20
	repeat := func(head, unit, tail string) string {
		var b strings.Builder
		b.WriteString(head)
		for b.Len()+len(unit)+len(tail) < limit {
			b.WriteString(unit)
		}
		b.WriteString(tail)
		return b.String()
	}
	return map[string]string{
		// One long path stroked again and again (no beginPath in between).
		"restroke": repeat(`[{"method":"setLineWidth","data":[40]}`, `,{"method":"lineTo","data":[300,400]},{"method":"lineTo","data":[10,10]},{"method":"stroke","data":[]},{"method":"stroke","data":[]}`, `]`),
		// Full-canvas fills, as many as fit.
		"fills": repeat(`[{"method":"setGlobalAlpha","data":[0.1]}`, `,{"method":"fillRect","data":[-9e9,-9e9,9e18,9e18]}`, `]`),
		// Huge arcs and huge widths.
		"arcs": repeat(`[{"method":"setLineWidth","data":[1000]}`, `,{"method":"arc","data":[187,250,1e12,0,1e9]},{"method":"stroke","data":[]}`, `]`),
		// Scaled up until the transform would overflow.
		"scale": repeat(`[`, `{"method":"scale","data":[1e6,1e6]},{"method":"rotate","data":[1]},{"method":"lineTo","data":[1,1]},{"method":"stroke","data":[]},`, `{"method":"stroke","data":[]}]`),
	}
}

func TestHostileDrawingsAreBounded(t *testing.T) {
	// Measured under 2 s on a shared 2-core VM (docs/benchmarks.md);
	// the bound leaves room for a busy machine. Under -race only the
	// thumbnail width runs, as the detector slows rendering fifteenfold.
	bound, widths := 10*time.Second, []int{120, 750}
	if raceEnabled {
		bound, widths = 30*time.Second, []int{120}
	}
	for name, a := range hostile() {
		for _, w := range widths {
			start := time.Now()
			if err := PNG(io.Discard, a, w); err != nil {
				t.Fatalf("%s at %d: %v", name, w, err)
			}
			if d := time.Since(start); d > bound {
				t.Errorf("%s at %d: got %v, want under %v", name, w, d, bound)
			} else {
				t.Logf("%s (%d bytes) at %d px: %v", name, len(a), w, d.Round(time.Millisecond))
			}
		}
	}
}

func TestTooLarge(t *testing.T) {
	big := strings.Repeat(" ", MaxInput+1)
	if err := PNG(io.Discard, big, 120); err != ErrTooLarge {
		t.Errorf("PNG: got %v, want %v", err, ErrTooLarge)
	}
	if err := SVG(io.Discard, big, 120); err != ErrTooLarge {
		t.Errorf("SVG: got %v, want %v", err, ErrTooLarge)
	}
}

func TestSize(t *testing.T) {
	tests := []struct{ in, w, h int }{
		{-5, MinWidth, 21}, {0, MinWidth, 21}, {120, 120, 160}, {375, 375, 500}, {100, 100, 133}, {750, 750, 1000}, {1 << 30, MaxWidth, 2731},
	}
	for _, tt := range tests {
		if w, h := Size(tt.in); w != tt.w || h != tt.h {
			t.Errorf("Size(%d): got %d×%d, want %d×%d", tt.in, w, h, tt.w, tt.h)
		}
	}
}
