package render

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden images in testdata/golden")

// Golden tolerance: the renderer is deterministic, so only floating point
// differences between machines (fused multiply-add on arm64, say) may move
// a pixel, and only along edges.
const (
	goldenMeanDiff  = 0.5   // mean absolute difference per channel, of 255
	goldenFarPixels = 0.001 // share of pixels with a channel off by more than 64
)

// drawing is one test drawing of testdata/drawings.
type drawing struct {
	name    string
	actions string
}

func loadDrawings(t testing.TB) []drawing {
	t.Helper()
	files, err := filepath.Glob("testdata/drawings/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata/drawings: got %d files (%v), want some", len(files), err)
	}
	var out []drawing
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, drawing{strings.TrimSuffix(filepath.Base(f), ".json"), string(b)})
	}
	return out
}

// goldenWidths are the widths every drawing is rendered at: a gallery
// thumbnail, the logical width, an odd size and a 2× phone canvas.
var goldenWidths = []int{120, 375, 200, 750}

// imageDiff compares two images of one size: the mean absolute difference
// per colour channel (0..255) and the share of pixels with a channel off
// by more than 64.
func imageDiff(a, b image.Image) (mean, far float64, err error) {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 0, 0, fmt.Errorf("sizes differ: %v and %v", a.Bounds().Size(), b.Bounds().Size())
	}
	ab, bb := a.Bounds(), b.Bounds()
	var sum float64
	var farN int
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			isFar := false
			for _, d := range [3]int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				d = max(d, -d)
				sum += float64(d)
				isFar = isFar || d > 64
			}
			if isFar {
				farN++
			}
		}
	}
	n := float64(ab.Dx() * ab.Dy())
	return sum / (3 * n), float64(farN) / n, nil
}

func TestGolden(t *testing.T) {
	for _, d := range loadDrawings(t) {
		for _, w := range goldenWidths {
			t.Run(fmt.Sprintf("%s-%d", d.name, w), func(t *testing.T) {
				var buf bytes.Buffer
				if err := PNG(&buf, d.actions, w); err != nil {
					t.Fatalf("PNG: %v", err)
				}
				path := filepath.Join("testdata", "golden", fmt.Sprintf("%s-%d.png", d.name, w))
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				got, err := png.Decode(&buf)
				if err != nil {
					t.Fatalf("decode our PNG: %v", err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatalf("golden image: %v (run go test ./internal/render -run TestGolden -update)", err)
				}
				defer f.Close()
				want, err := png.Decode(f)
				if err != nil {
					t.Fatalf("decode golden: %v", err)
				}
				mean, far, err := imageDiff(got, want)
				if err != nil {
					t.Fatal(err)
				}
				if mean > goldenMeanDiff || far > goldenFarPixels {
					t.Errorf("got mean diff %.3f, far pixels %.4f%%; want at most %.3f, %.4f%%", mean, far*100, goldenMeanDiff, goldenFarPixels*100)
				}
			})
		}
	}
}

// TestGoldenHasInk guards the goldens themselves: every drawing draws
// something, so a renderer that draws nothing cannot pass by an -update.
func TestGoldenHasInk(t *testing.T) {
	for _, d := range loadDrawings(t) {
		img, err := Image(d.actions, 375)
		if err != nil {
			t.Fatal(err)
		}
		if n := ink(img); n < 500 {
			t.Errorf("%s: got %d non-white pixels, want at least 500", d.name, n)
		}
	}
}

func ink(img *image.RGBA) int {
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		if img.Pix[i] < 250 || img.Pix[i+1] < 250 || img.Pix[i+2] < 250 {
			n++
		}
	}
	return n
}
