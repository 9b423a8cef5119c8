package render

import (
	"image/color"
	"math"
)

// The bounds on the work one render may do, so that no drawing, however
// hostile, renders for long or allocates without end. A drawing at the
// 1 MiB limit written by a real client stays far inside them (see
// docs/benchmarks.md); past a bound the rest of the drawing is skipped.
const (
	// MaxPathSegments bounds the segments of one path; later path
	// commands are skipped until the next beginPath.
	MaxPathSegments = 1 << 16
	// MaxSegments bounds the segments stroked or filled in one render
	// (re-stroking a long path counts it again).
	MaxSegments = 1 << 20
	// MaxAreaFactor bounds the pixels painted in one render to this many
	// times the image's area (each stroke or fill counts its box).
	MaxAreaFactor = 128
	// maxCoord bounds a device coordinate, in pixels: far enough outside
	// any image that clamping cannot change what is visible in practice,
	// small enough for the rasterizer's 26.6 fixed point.
	maxCoord = 1 << 13
	// maxMatrix bounds a transform entry so coordinates stay finite.
	maxMatrix = 1 << 20
	// maxWidth bounds a stroke's device width, in pixels.
	maxWidth = 1 << 15
	// logicalWidth is the width of the drawing's logical space.
	logicalWidth = 375
)

type pt struct{ x, y float64 }

type segKind uint8

const (
	segMove segKind = iota
	segLine
	segQuad
	segCube
	segClose
)

// seg is one path command in device pixels; p[:n] are its points, the
// last one the end point.
type seg struct {
	kind segKind
	p    [3]pt
}

// Line caps and joins, as the canvas names them.
const (
	capButt = iota
	capRound
	capSquare
)

const (
	joinMiter = iota
	joinRound
	joinBevel
)

// strokeStyle is how a path is stroked, in device pixels.
type strokeStyle struct {
	c     color.NRGBA
	width float64
	cap   int
	join  int
}

// painter is what the canvas draws onto: a raster image or an SVG.
type painter interface {
	stroke(p []seg, st strokeStyle)
	fill(p []seg, c color.NRGBA)
}

// matrix is an affine transform, as the canvas's [a b c d e f].
type matrix [6]float64

func (m matrix) apply(p pt) pt {
	return pt{m[0]*p.x + m[2]*p.y + m[4], m[1]*p.x + m[3]*p.y + m[5]}
}

func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[2]*n[1], m[1]*n[0] + m[3]*n[1],
		m[0]*n[2] + m[2]*n[3], m[1]*n[2] + m[3]*n[3],
		m[0]*n[4] + m[2]*n[5] + m[4], m[1]*n[4] + m[3]*n[5] + m[5],
	}
}

func (m matrix) det() float64 { return m[0]*m[3] - m[1]*m[2] }

func (m matrix) invert() (matrix, bool) {
	d := m.det()
	if d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
		return matrix{}, false
	}
	return matrix{
		m[3] / d, -m[1] / d, -m[2] / d, m[0] / d,
		(m[2]*m[5] - m[3]*m[4]) / d, (m[1]*m[4] - m[0]*m[5]) / d,
	}, true
}

type state struct {
	m           matrix
	strokeColor color.NRGBA
	fillColor   color.NRGBA
	lineWidth   float64
	alpha       float64
	cap, join   int
}

// canvas replays a drawing the way clients/miniprogram/lib/actions.js
// replays it onto a CanvasRenderingContext2D, drawing onto a painter.
type canvas struct {
	out        painter
	w, h       int
	st         state
	stack      []state
	depth      int // the drawing's own save nesting
	path       []seg
	start      pt // the current subpath's first point
	cur        pt // the current point, in device pixels
	hasCur     bool
	drawn      bool
	segs       int
	area, maxA float64
	spent      bool
}

func newCanvas(out painter, w, h int) *canvas {
	k := float64(w) / logicalWidth
	black := color.NRGBA{0, 0, 0, 0xff}
	return &canvas{
		out: out, w: w, h: h,
		st: state{
			m:           matrix{k, 0, 0, k, 0, 0},
			strokeColor: black, fillColor: black,
			lineWidth: 1, alpha: 1, cap: capRound, join: joinRound,
		},
		maxA: MaxAreaFactor * float64(w) * float64(h),
	}
}

// replay draws the standing actions of a drawing.
func (c *canvas) replay(list []action) {
	for _, a := range standing(list) {
		if c.spent {
			return
		}
		c.apply(a)
	}
}

func (c *canvas) apply(a action) {
	args := a.args
	switch a.method {
	case "save":
		c.stack = append(c.stack, c.st)
		c.depth++
	case "restore":
		if c.depth > 0 {
			c.st = c.stack[len(c.stack)-1]
			c.stack = c.stack[:len(c.stack)-1]
			c.depth--
		}
	case "beginPath":
		c.beginPath()
		c.drawn = false
	case "stroke":
		c.stroke(c.path)
		c.drawn = true
	case "fill":
		c.fill(c.path, c.st.fillColor, c.st.alpha)
		c.drawn = true
	case "strokePath", "fillPath":
		items, ok := a.data.([]any)
		if !ok {
			return
		}
		c.beginPath()
		for _, it := range items {
			obj, ok := it.(map[string]any)
			if !ok {
				continue
			}
			m, ok := obj["method"].(string)
			if !ok || !isPathMethod(m) {
				continue
			}
			c.pathCommand(m, toArgs(obj["data"]))
		}
		if a.method == "strokePath" {
			c.stroke(c.path)
		} else {
			c.fill(c.path, c.st.fillColor, c.st.alpha)
		}
		c.drawn = true
	case "setStrokeStyle", "setFillStyle":
		col, ok := readColor(a.data, 0)
		if !ok {
			return
		}
		if a.method == "setStrokeStyle" {
			c.st.strokeColor = col
		} else {
			c.st.fillColor = col
		}
	case "setLineWidth":
		if v, ok := nums(args, 1); ok && v[0] > 0 && v[0] <= 1000 {
			c.st.lineWidth = v[0]
		}
	case "setGlobalAlpha":
		if v, ok := nums(args, 1); ok {
			al := v[0]
			if al > 1 {
				al /= 255
			}
			c.st.alpha = clamp(al, 0, 1)
		}
	case "setLineCap":
		if len(args) > 0 {
			switch args[0] {
			case "butt":
				c.st.cap = capButt
			case "round":
				c.st.cap = capRound
			case "square":
				c.st.cap = capSquare
			}
		}
	case "setLineJoin":
		if len(args) > 0 {
			switch args[0] {
			case "miter":
				c.st.join = joinMiter
			case "round":
				c.st.join = joinRound
			case "bevel":
				c.st.join = joinBevel
			}
		}
	case "scale", "translate":
		v, ok := nums(args, 2)
		if !ok {
			return
		}
		if a.method == "scale" {
			c.transform(matrix{v[0], 0, 0, v[1], 0, 0})
		} else {
			c.transform(matrix{1, 0, 0, 1, v[0], v[1]})
		}
	case "rotate":
		if v, ok := nums(args, 1); ok {
			s, co := math.Sincos(v[0])
			c.transform(matrix{co, s, -s, co, 0, 0})
		}
	case "clearRect", "fillRect", "strokeRect":
		v, ok := nums(args, 4)
		if !ok {
			return
		}
		r := c.rectPath(v[0], v[1], v[2], v[3])
		switch a.method {
		case "clearRect":
			// The canvas clears to transparent over a white page: white.
			c.fill(r, color.NRGBA{0xff, 0xff, 0xff, 0xff}, 1)
		case "fillRect":
			c.fill(r, c.st.fillColor, c.st.alpha)
		default:
			c.stroke(r)
		}
	default:
		if isPathMethod(a.method) {
			if c.drawn {
				// The 2016 recorder wrote no beginPath between strokes.
				c.beginPath()
				c.drawn = false
			}
			c.pathCommand(a.method, args)
		}
		// Anything else (space, undo, clear, setShadowColor, unknown) draws nothing.
	}
}

func isPathMethod(m string) bool {
	switch m {
	case "moveTo", "lineTo", "quadraticCurveTo", "bezierCurveTo", "arc", "arcTo", "rect", "closePath":
		return true
	}
	return false
}

// transform multiplies the current transform by t, unless that would make
// coordinates blow up; a canvas would keep going, but nothing it drew
// then would be visible anyway.
func (c *canvas) transform(t matrix) {
	n := c.st.m.mul(t)
	for _, v := range n {
		if math.IsNaN(v) || math.Abs(v) > maxMatrix {
			return
		}
	}
	c.st.m = n
}

func (c *canvas) beginPath() {
	c.path = c.path[:0]
	c.hasCur = false
}

func clampCoord(v float64) float64 { return clamp(v, -maxCoord, maxCoord) }

// dev maps a user-space point to device pixels.
func (c *canvas) dev(x, y float64) pt {
	p := c.st.m.apply(pt{x, y})
	return pt{clampCoord(p.x), clampCoord(p.y)}
}

func (c *canvas) add(s seg) {
	if len(c.path) >= MaxPathSegments {
		return
	}
	c.path = append(c.path, s)
}

func (c *canvas) moveDev(p pt) {
	c.add(seg{kind: segMove, p: [3]pt{p}})
	c.start, c.cur, c.hasCur = p, p, true
}

// ensure starts a subpath at p when there is none, as the canvas does.
func (c *canvas) ensure(p pt) {
	if !c.hasCur {
		c.moveDev(p)
	}
}

func (c *canvas) lineDev(p pt) {
	c.ensure(p)
	c.add(seg{kind: segLine, p: [3]pt{p}})
	c.cur = p
}

func (c *canvas) cubeDev(b, d, e pt) {
	c.ensure(b)
	c.add(seg{kind: segCube, p: [3]pt{b, d, e}})
	c.cur = e
}

func (c *canvas) pathCommand(m string, args []any) {
	switch m {
	case "closePath":
		if c.hasCur {
			// The next command continues from the subpath's start; the
			// painters start a subpath there when no moveTo follows.
			c.add(seg{kind: segClose})
			c.cur = c.start
		}
	case "moveTo":
		if v, ok := nums(args, 2); ok {
			c.moveDev(c.dev(v[0], v[1]))
		}
	case "lineTo":
		if v, ok := nums(args, 2); ok {
			c.lineDev(c.dev(v[0], v[1]))
		}
	case "quadraticCurveTo":
		if v, ok := nums(args, 4); ok {
			b := c.dev(v[0], v[1])
			c.ensure(b)
			e := c.dev(v[2], v[3])
			c.add(seg{kind: segQuad, p: [3]pt{b, e}})
			c.cur = e
		}
	case "bezierCurveTo":
		if v, ok := nums(args, 6); ok {
			c.cubeDev(c.dev(v[0], v[1]), c.dev(v[2], v[3]), c.dev(v[4], v[5]))
		}
	case "arc":
		if v, ok := nums(args, 5); ok && v[2] >= 0 {
			acw := len(args) > 5 && truthy(args[5])
			c.arc(v[0], v[1], v[2], v[3], v[4], acw)
		}
	case "arcTo":
		if v, ok := nums(args, 5); ok && v[4] >= 0 {
			c.arcTo(v[0], v[1], v[2], v[3], v[4])
		}
	case "rect":
		if v, ok := nums(args, 4); ok {
			r := c.rectPath(v[0], v[1], v[2], v[3])
			for _, s := range r {
				c.add(s)
			}
			c.moveDev(c.dev(v[0], v[1]))
		}
	}
}

func (c *canvas) rectPath(x, y, w, h float64) []seg {
	return []seg{
		{kind: segMove, p: [3]pt{c.dev(x, y)}},
		{kind: segLine, p: [3]pt{c.dev(x+w, y)}},
		{kind: segLine, p: [3]pt{c.dev(x+w, y+h)}},
		{kind: segLine, p: [3]pt{c.dev(x, y+h)}},
		{kind: segClose},
	}
}

// arc adds the canvas arc(x, y, r, a0, a1, anticlockwise): a line from the
// current point to the arc's start, then the arc as cubic Béziers of at
// most a quarter turn each. The end angle is adjusted as Chromium does.
func (c *canvas) arc(x, y, r, a0, a1 float64, acw bool) {
	const tau = 2 * math.Pi
	switch {
	case !acw && a1-a0 >= tau:
		a1 = a0 + tau
	case acw && a0-a1 >= tau:
		a1 = a0 - tau
	case !acw && a0 > a1:
		a1 = a0 + (tau - math.Mod(a0-a1, tau))
	case acw && a0 < a1:
		a1 = a0 - (tau - math.Mod(a1-a0, tau))
	}
	sweep := a1 - a0
	if math.IsNaN(sweep) || math.IsInf(sweep, 0) {
		return
	}
	s0, c0 := math.Sincos(a0)
	c.lineDev(c.dev(x+r*c0, y+r*s0))
	n := int(math.Ceil(math.Abs(sweep) / (math.Pi / 2)))
	if n == 0 {
		return
	}
	step := sweep / float64(n)
	k := 4.0 / 3 * math.Tan(step/4)
	for i := range n {
		t0 := a0 + step*float64(i)
		t1 := t0 + step
		sa, ca := math.Sincos(t0)
		sb, cb := math.Sincos(t1)
		c.cubeDev(
			c.dev(x+r*(ca-k*sa), y+r*(sa+k*ca)),
			c.dev(x+r*(cb+k*sb), y+r*(sb-k*cb)),
			c.dev(x+r*cb, y+r*sb),
		)
	}
}

// arcTo adds the canvas arcTo(x1, y1, x2, y2, r).
func (c *canvas) arcTo(x1, y1, x2, y2, r float64) {
	if !c.hasCur {
		c.moveDev(c.dev(x1, y1))
		return
	}
	inv, ok := c.st.m.invert()
	if !ok {
		return
	}
	p0 := inv.apply(c.cur)
	dx0, dy0 := p0.x-x1, p0.y-y1
	dx2, dy2 := x2-x1, y2-y1
	l0, l2 := math.Hypot(dx0, dy0), math.Hypot(dx2, dy2)
	cross := dx0*dy2 - dy0*dx2
	if r == 0 || l0 == 0 || l2 == 0 || math.Abs(cross) < 1e-9*l0*l2 {
		c.lineDev(c.dev(x1, y1))
		return
	}
	// The tangent points are at distance r/tan(θ/2) from (x1, y1) along
	// each leg, θ the angle between the legs.
	cosT := (dx0*dx2 + dy0*dy2) / (l0 * l2)
	theta := math.Acos(clamp(cosT, -1, 1))
	d := r / math.Tan(theta/2)
	t0 := pt{x1 + dx0/l0*d, y1 + dy0/l0*d}
	t2 := pt{x1 + dx2/l2*d, y1 + dy2/l2*d}
	// The centre is along the bisector at distance r/sin(θ/2).
	bx, by := dx0/l0+dx2/l2, dy0/l0+dy2/l2
	bl := math.Hypot(bx, by)
	h := r / math.Sin(theta/2)
	cx, cy := x1+bx/bl*h, y1+by/bl*h
	a0 := math.Atan2(t0.y-cy, t0.x-cx)
	a1 := math.Atan2(t2.y-cy, t2.x-cx)
	// The arc runs the short way between the tangent points.
	sweep := math.Mod(a1-a0+4*math.Pi, 2*math.Pi)
	c.arc(cx, cy, r, a0, a1, sweep > math.Pi)
}

// budget counts the work of drawing p with extra pixels of half-width and
// says whether it may be drawn.
func (c *canvas) budget(p []seg, pad float64) bool {
	if c.spent {
		return false
	}
	c.segs += len(p)
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range p {
		n := pointsOf(s.kind)
		for _, q := range s.p[:n] {
			minX, minY = math.Min(minX, q.x), math.Min(minY, q.y)
			maxX, maxY = math.Max(maxX, q.x), math.Max(maxY, q.y)
		}
		if n > 1 {
			// A curve is flattened into lines, more the larger it is.
			c.segs += int(math.Sqrt(math.Abs(s.p[n-1].x-s.p[0].x) + math.Abs(s.p[n-1].y-s.p[0].y)))
		}
	}
	w := clamp(maxX+pad, 0, float64(c.w)) - clamp(minX-pad, 0, float64(c.w))
	h := clamp(maxY+pad, 0, float64(c.h)) - clamp(minY-pad, 0, float64(c.h))
	if w > 0 && h > 0 {
		c.area += (w + 1) * (h + 1)
	}
	if c.segs > MaxSegments || c.area > c.maxA {
		c.spent = true
		return false
	}
	return w > 0 && h > 0
}

func pointsOf(k segKind) int {
	switch k {
	case segMove, segLine:
		return 1
	case segQuad:
		return 2
	case segCube:
		return 3
	}
	return 0
}

func withAlpha(col color.NRGBA, alpha float64) color.NRGBA {
	col.A = uint8(math.Floor(float64(col.A)*alpha + 0.5))
	return col
}

func (c *canvas) stroke(p []seg) {
	d := math.Abs(c.st.m.det())
	w := c.st.lineWidth * math.Sqrt(d)
	if len(p) == 0 || d == 0 || math.IsNaN(w) {
		return
	}
	w = math.Min(w, maxWidth)
	col := withAlpha(c.st.strokeColor, c.st.alpha)
	if col.A == 0 || !c.budget(p, w) {
		return
	}
	c.out.stroke(p, strokeStyle{c: col, width: w, cap: c.st.cap, join: c.st.join})
}

func (c *canvas) fill(p []seg, col color.NRGBA, alpha float64) {
	col = withAlpha(col, alpha)
	if len(p) == 0 || col.A == 0 || !c.budget(p, 1) {
		return
	}
	c.out.fill(p, col)
}
