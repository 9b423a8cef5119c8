package render

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/srwiley/rasterx"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// subpath is a run of segments starting at start; dot says it has drawing
// commands but no extent (a tap), which round and square caps still show.
type subpath struct {
	start  pt
	segs   []seg // no moves, no closes
	closed bool
	dot    bool
}

// subpaths splits a path into subpaths, dropping a segment that ends where
// it starts (the rasterizer's stroker cannot orient it).
func subpaths(p []seg) []subpath {
	var out []subpath
	var cur *subpath
	var last pt
	drawing := false
	finish := func() {
		if cur != nil {
			if len(cur.segs) == 0 && drawing {
				cur.dot = true
			}
			if len(cur.segs) > 0 || cur.dot {
				out = append(out, *cur)
			}
		}
		cur, drawing = nil, false
	}
	for _, s := range p {
		switch s.kind {
		case segMove:
			finish()
			cur, last = &subpath{start: s.p[0]}, s.p[0]
		case segClose:
			if cur != nil {
				cur.closed = true
				start := cur.start
				finish()
				cur, last = &subpath{start: start}, start
			}
		default:
			if cur == nil {
				continue
			}
			drawing = true
			n := pointsOf(s.kind)
			end := s.p[n-1]
			same := end == last
			for _, q := range s.p[:n-1] {
				same = same && q == last
			}
			if same {
				continue
			}
			cur.segs = append(cur.segs, s)
			last = end
		}
	}
	finish()
	return out
}

func fx(p pt) fixed.Point26_6 {
	return fixed.Point26_6{X: fixed.Int26_6(math.Round(p.x * 64)), Y: fixed.Int26_6(math.Round(p.y * 64))}
}

func addSubpath(a rasterx.Adder, sp subpath) {
	a.Start(fx(sp.start))
	for _, s := range sp.segs {
		switch s.kind {
		case segLine:
			a.Line(fx(s.p[0]))
		case segQuad:
			a.QuadBezier(fx(s.p[0]), fx(s.p[1]))
		case segCube:
			a.CubeBezier(fx(s.p[0]), fx(s.p[1]), fx(s.p[2]))
		}
	}
	a.Stop(sp.closed)
}

// rasterPainter draws onto an RGBA image with rasterx's stroker and
// golang.org/x/image/vector's rasterizer.
type rasterPainter struct {
	scan    *boxScanner
	stroker *rasterx.Stroker
	filler  *rasterx.Filler
}

func newRasterPainter(img *image.RGBA) *rasterPainter {
	b := img.Bounds()
	s := &boxScanner{dst: img}
	return &rasterPainter{
		scan:    s,
		stroker: rasterx.NewStroker(b.Dx(), b.Dy(), s),
		filler:  rasterx.NewFiller(b.Dx(), b.Dy(), s),
	}
}

func (r *rasterPainter) stroke(p []seg, st strokeStyle) {
	w := fixed.Int26_6(math.Round(st.width * 64))
	if w < 1 {
		w = 1
	}
	capFn, gap, join := rasterx.RoundCap, rasterx.RoundGap, rasterx.Round
	switch st.cap {
	case capButt:
		capFn = rasterx.ButtCap
	case capSquare:
		capFn = rasterx.SquareCap
	}
	switch st.join {
	case joinMiter:
		gap, join = rasterx.FlatGap, rasterx.Miter
	case joinBevel:
		gap, join = rasterx.FlatGap, rasterx.Bevel
	}
	// The canvas's default miter limit is 10.
	r.stroker.SetStroke(w, 10<<6, capFn, nil, gap, join)
	r.scan.SetColor(st.c)
	r.stroker.Clear()
	for _, sp := range subpaths(p) {
		if sp.dot {
			r.dot(sp.start, st)
			continue
		}
		addSubpath(r.stroker, sp)
	}
	r.stroker.Draw()
	r.stroker.Clear()
}

// dot adds what a canvas draws for a subpath of no length: a disc for
// round caps, a square for square caps, nothing for butt caps.
func (r *rasterPainter) dot(c pt, st strokeStyle) {
	h := st.width / 2
	switch st.cap {
	case capRound:
		rasterx.AddCircle(c.x, c.y, h, &r.stroker.Filler)
	case capSquare:
		rasterx.AddRect(c.x-h, c.y-h, c.x+h, c.y+h, 0, &r.stroker.Filler)
	}
}

func (r *rasterPainter) fill(p []seg, c color.NRGBA) {
	r.scan.SetColor(c)
	r.filler.Clear()
	for _, sp := range subpaths(p) {
		if !sp.dot {
			sp.closed = true
			addSubpath(r.filler, sp)
		}
	}
	r.filler.Draw()
	r.filler.Clear()
}

// boxScanner is a rasterx.Scanner that rasterizes only the box the path
// covers. rasterx's own ScannerGV clears and composites the whole image
// for every path, which costs a full image per stroke.
type boxScanner struct {
	dst  *image.RGBA
	src  image.Uniform
	r    vector.Rasterizer
	pts  []boxPoint
	minX fixed.Int26_6
	minY fixed.Int26_6
	maxX fixed.Int26_6
	maxY fixed.Int26_6
}

type boxPoint struct {
	move bool
	p    fixed.Point26_6
}

var _ rasterx.Scanner = (*boxScanner)(nil)

func (s *boxScanner) add(move bool, p fixed.Point26_6) {
	if len(s.pts) == 0 {
		s.minX, s.minY, s.maxX, s.maxY = p.X, p.Y, p.X, p.Y
	}
	s.minX, s.minY = min(s.minX, p.X), min(s.minY, p.Y)
	s.maxX, s.maxY = max(s.maxX, p.X), max(s.maxY, p.Y)
	s.pts = append(s.pts, boxPoint{move, p})
}

// Start starts a subpath at a.
func (s *boxScanner) Start(a fixed.Point26_6) { s.add(true, a) }

// Line adds a line to b.
func (s *boxScanner) Line(b fixed.Point26_6) { s.add(false, b) }

// Draw composites the accumulated path onto the image, non-zero winding.
func (s *boxScanner) Draw() {
	if len(s.pts) == 0 {
		return
	}
	box := image.Rect(s.minX.Floor(), s.minY.Floor(), s.maxX.Ceil()+1, s.maxY.Ceil()+1).Intersect(s.dst.Bounds())
	if box.Empty() {
		return
	}
	s.r.Reset(box.Dx(), box.Dy())
	s.r.DrawOp = draw.Over
	ox, oy := float32(box.Min.X), float32(box.Min.Y)
	// No ClosePath: rasterx emits a stroke's outline as pieces whose edges
	// close only all together, as its own scanner expects.
	for _, q := range s.pts {
		x, y := float32(q.p.X)/64-ox, float32(q.p.Y)/64-oy
		if q.move {
			s.r.MoveTo(x, y)
		} else {
			s.r.LineTo(x, y)
		}
	}
	s.r.Draw(s.dst, box, &s.src, image.Point{})
}

// GetPathExtent returns the box of the accumulated path.
func (s *boxScanner) GetPathExtent() fixed.Rectangle26_6 {
	return fixed.Rectangle26_6{Min: fixed.Point26_6{X: s.minX, Y: s.minY}, Max: fixed.Point26_6{X: s.maxX, Y: s.maxY}}
}

// SetBounds does nothing: the bounds are the image's.
func (s *boxScanner) SetBounds(int, int) {}

// SetColor sets the paint colour; anything but a color.Color is ignored.
func (s *boxScanner) SetColor(c any) {
	if col, ok := c.(color.Color); ok {
		s.src.C = col
	}
}

// SetWinding does nothing: the vector rasterizer accumulates signed area,
// which is what the stroker's outlines need.
func (s *boxScanner) SetWinding(bool) {}

// Clear drops the accumulated path.
func (s *boxScanner) Clear() { s.pts = s.pts[:0] }

// SetClip does nothing: the image's bounds clip.
func (s *boxScanner) SetClip(image.Rectangle) {}
