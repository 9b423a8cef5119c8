// Package render draws a paint's actions (the drawing format of
// docs/drawing.md) as a PNG or an SVG on the server, the way the clients'
// canvas replay (clients/miniprogram/lib/actions.js) draws them in a
// browser or the mini program: white background, scale = width ÷ 375, a
// 3:4 image, round caps and joins by default, the eraser as a white
// stroke, both coordinate forms, undo and clear, and every 2016 form.
//
// # Why rasterx on golang.org/x/image/vector
//
// Three pure-Go libraries were compared. golang.org/x/image/vector is kept
// by the Go team and is a fast anti-aliasing rasterizer, but it only fills:
// strokes with round caps and joins would be ours to write and keep.
// github.com/tdewolff/canvas is the most complete and actively kept, but
// its module requires dozens of others (fyne, gioui, go-gl, a MongoDB
// driver v1, font and TeX packages), far more than one image endpoint
// earns. github.com/srwiley/rasterx (BSD-3, last release July 2022,
// imported by about 140 modules including fyne) is a stroker and filler
// for exactly this: round, square and butt caps, round, miter and bevel
// joins, quadratic and cubic Béziers, depending on golang.org/x/image
// alone, and it rasterizes through golang.org/x/image/vector. Its code is
// small and stable, so its age is a small risk; what it lacks here (its
// scanner composites the whole image per path) is replaced by boxScanner,
// which rasterizes only the box each path covers. Arcs are converted to
// cubic Béziers here, following Chromium's canvas arc angles.
//
// Work is bounded (MaxSegments, MaxPathSegments, MaxAreaFactor, and
// coordinates, transforms and widths clamped), so a hostile drawing
// renders in bounded time and memory; the functions never panic.
package render

import (
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
)

// The image widths a caller may ask for; Size clamps to them.
const (
	MinWidth = 16
	MaxWidth = 2048
)

// MaxInput is the longest actions string rendered (four times the paint
// API's 1 MiB limit, so the renderer is never the tighter bound).
const MaxInput = 4 << 20

// ErrTooLarge is returned for an actions string longer than MaxInput.
var ErrTooLarge = errors.New("render: drawing too large")

// Size clamps width to [MinWidth, MaxWidth] and returns it with the
// height of the 3:4 drawing aspect (width × 4 ÷ 3, rounded).
func Size(width int) (w, h int) {
	w = min(max(width, MinWidth), MaxWidth)
	return w, (w*4 + 1) / 3
}

// Image renders actions at the given width (clamped by Size) onto a new
// opaque RGBA image. Malformed actions are skipped, as every reader does.
func Image(actions string, width int) (*image.RGBA, error) {
	if len(actions) > MaxInput {
		return nil, ErrTooLarge
	}
	w, h := Size(width)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	newCanvas(newRasterPainter(img), w, h).replay(parseActions(actions))
	return img, nil
}

// PNG writes actions rendered at the given width (clamped by Size) as a
// PNG image.
func PNG(out io.Writer, actions string, width int) error {
	img, err := Image(actions, width)
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		return fmt.Errorf("render: png: %w", err)
	}
	return nil
}

// SVG writes actions at the given width (clamped by Size) as an SVG
// document with the same geometry as the PNG.
func SVG(out io.Writer, actions string, width int) error {
	if len(actions) > MaxInput {
		return ErrTooLarge
	}
	w, h := Size(width)
	if err := writeSVG(out, parseActions(actions), w, h); err != nil {
		return fmt.Errorf("render: svg: %w", err)
	}
	return nil
}
