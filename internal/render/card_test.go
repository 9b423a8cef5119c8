package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func TestCard(t *testing.T) {
	bg := color.RGBA{0xf4, 0xf4, 0xf4, 0xff}
	const actions = `[{"method":"moveTo","data":[0,0]},{"method":"lineTo","data":[375,500]},{"method":"setLineWidth","data":[20]},{"method":"setStrokeStyle","data":["#FF0000"]},{"method":"stroke","data":[]}]`
	for _, tt := range []struct {
		name          string
		width, height int
		at            image.Rectangle // where the drawing goes
	}{
		{"WeChat5x4", 500, 400, image.Rect(100, 0, 400, 400)},
		{"Odd", 501, 401, image.Rect(100, 0, 401, 401)},
		{"Narrow", 300, 600, image.Rect(0, 100, 300, 500)}, // fits the width
		{"Clamped", 1, 99999, image.Rect(0, 0, MinWidth, MaxWidth)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := CardPNG(&buf, actions, tt.width, tt.height, bg); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			want := image.Rect(0, 0, min(max(tt.width, MinWidth), MaxWidth), min(max(tt.height, MinWidth), MaxWidth))
			if img.Bounds() != want {
				t.Fatalf("got %v, want %v", img.Bounds(), want)
			}
			if tt.name == "Clamped" {
				return
			}
			pic, err := Image(actions, tt.at.Dx())
			if err != nil {
				t.Fatal(err)
			}
			if pic.Bounds().Size() != tt.at.Size() {
				t.Fatalf("drawing: got %v, want %v", pic.Bounds().Size(), tt.at.Size())
			}
			for y := 0; y < want.Dy(); y++ {
				for x := 0; x < want.Dx(); x++ {
					p := image.Pt(x, y)
					wantC := color.Color(bg)
					if p.In(tt.at) {
						wantC = pic.At(x-tt.at.Min.X, y-tt.at.Min.Y)
					}
					if !sameColor(img.At(x, y), wantC) {
						t.Fatalf("at %v: got %v, want %v", p, img.At(x, y), wantC)
					}
				}
			}
		})
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}
