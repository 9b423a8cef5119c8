package render

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
)

// svgPainter writes each stroke and fill as an SVG path element, in device
// pixels, so the SVG and the PNG of a drawing have the same geometry.
type svgPainter struct {
	w   *bufio.Writer
	buf []byte
}

func (s *svgPainter) num(v float64) {
	s.buf = strconv.AppendFloat(s.buf, math.Round(v*100)/100, 'f', -1, 64)
}

func (s *svgPainter) point(p pt) {
	s.num(p.x)
	s.buf = append(s.buf, ' ')
	s.num(p.y)
}

// d writes a path's data; dots become a zero-length line, which SVG, like
// the canvas, draws as a round or square cap.
func (s *svgPainter) d(p []seg) {
	for _, sp := range subpaths(p) {
		s.buf = append(s.buf, 'M')
		s.point(sp.start)
		if sp.dot {
			s.buf = append(s.buf, "h0"...)
			continue
		}
		for _, g := range sp.segs {
			switch g.kind {
			case segLine:
				s.buf = append(s.buf, 'L')
				s.point(g.p[0])
			case segQuad:
				s.buf = append(s.buf, 'Q')
				s.point(g.p[0])
				s.buf = append(s.buf, ' ')
				s.point(g.p[1])
			case segCube:
				s.buf = append(s.buf, 'C')
				s.point(g.p[0])
				s.buf = append(s.buf, ' ')
				s.point(g.p[1])
				s.buf = append(s.buf, ' ')
				s.point(g.p[2])
			}
		}
		if sp.closed {
			s.buf = append(s.buf, 'Z')
		}
	}
}

func (s *svgPainter) paint(c color.NRGBA) {
	s.buf = fmt.Appendf(s.buf, "#%02x%02x%02x", c.R, c.G, c.B)
}

func (s *svgPainter) opacity(name string, c color.NRGBA) {
	if c.A != 0xff {
		s.buf = fmt.Appendf(s.buf, ` %s="%.3f"`, name, float64(c.A)/255)
	}
}

var svgCaps = [...]string{capButt: "butt", capRound: "round", capSquare: "square"}
var svgJoins = [...]string{joinMiter: "miter", joinRound: "round", joinBevel: "bevel"}

func (s *svgPainter) stroke(p []seg, st strokeStyle) {
	s.buf = append(s.buf[:0], `<path fill="none" stroke="`...)
	s.paint(st.c)
	s.buf = append(s.buf, `" stroke-width="`...)
	s.num(st.width)
	s.buf = fmt.Appendf(s.buf, `" stroke-linecap="%s" stroke-linejoin="%s"`, svgCaps[st.cap], svgJoins[st.join])
	s.opacity("stroke-opacity", st.c)
	s.buf = append(s.buf, ` d="`...)
	s.d(p)
	s.buf = append(s.buf, "\"/>\n"...)
	s.w.Write(s.buf) // errors surface at Flush
}

func (s *svgPainter) fill(p []seg, c color.NRGBA) {
	s.buf = append(s.buf[:0], `<path fill="`...)
	s.paint(c)
	s.buf = append(s.buf, '"')
	s.opacity("fill-opacity", c)
	s.buf = append(s.buf, ` d="`...)
	s.d(p)
	s.buf = append(s.buf, "\"/>\n"...)
	s.w.Write(s.buf)
}

// writeSVG renders actions as an SVG document of w × h pixels.
func writeSVG(out io.Writer, list []action, w, h int) error {
	bw := bufio.NewWriter(out)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", w, h, w, h)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	// The PNG is clipped to the image; so is the SVG.
	fmt.Fprintf(bw, `<clipPath id="c"><rect width="%d" height="%d"/></clipPath><g clip-path="url(#c)">`+"\n", w, h)
	newCanvas(&svgPainter{w: bw}, w, h).replay(list)
	bw.WriteString("</g></svg>\n")
	return bw.Flush()
}
