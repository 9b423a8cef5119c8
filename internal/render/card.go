package render

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
)

// Card renders actions onto a width × height image (each clamped to
// [MinWidth, MaxWidth]) of bg, for a picture whose shape is not the
// drawing's: the whole 3:4 drawing, as Image draws it, scaled to fit and
// centred, bg around it. A WeChat share card (shown at 5:4) crops a 3:4
// picture; a 5:4 card of the drawing at full height shows all of it.
func Card(actions string, width, height int, bg color.Color) (*image.RGBA, error) {
	width = min(max(width, MinWidth), MaxWidth)
	height = min(max(height, MinWidth), MaxWidth)
	// The widest 3:4 drawing that fits: its height is (w × 4 + 1) ÷ 3.
	w := min(width, (height*3+1)/4)
	pic, err := Image(actions, w)
	if err != nil {
		return nil, err
	}
	card := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(card, card.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	b := pic.Bounds()
	at := image.Pt((width-b.Dx())/2, (height-b.Dy())/2)
	draw.Draw(card, b.Add(at), pic, b.Min, draw.Src)
	return card, nil
}

// CardPNG writes Card as a PNG image.
func CardPNG(out io.Writer, actions string, width, height int, bg color.Color) error {
	img, err := Card(actions, width, height, bg)
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		return fmt.Errorf("render: png: %w", err)
	}
	return nil
}
