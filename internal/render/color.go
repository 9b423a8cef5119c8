package render

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/colornames"
)

// readColor reads a colour argument as the JS reader's color() does: a CSS
// string, ["normal", [r,g,b,a]], [r,g,b,a], or an array holding one of
// those. It returns a non-premultiplied colour, or false when the value is
// not a colour a canvas would accept (the canvas then keeps its style).
func readColor(v any, depth int) (color.NRGBA, bool) {
	if depth > 3 || v == nil {
		return color.NRGBA{}, false
	}
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if s == "" || len(s) > 64 {
			return color.NRGBA{}, false
		}
		return parseCSSColor(s)
	case []any:
		if len(x) > 0 && x[0] == "normal" {
			if len(x) < 2 {
				return color.NRGBA{}, false
			}
			if l, ok := x[1].([]any); ok {
				return rgbaList(l)
			}
			return readColor(x[1], depth+1)
		}
		if len(x) >= 3 {
			if _, ok := num(x[0]); ok {
				return rgbaList(x)
			}
		}
		if len(x) == 0 {
			return color.NRGBA{}, false
		}
		return readColor(x[0], depth+1)
	}
	return color.NRGBA{}, false
}

// rgbaList reads [r, g, b, a?]: alpha above 1 is the recorder's 0..255
// scale, 0..1 is CSS's. Rounding follows the JS reader (alpha to 1/1000).
func rgbaList(l []any) (color.NRGBA, bool) {
	c, ok := nums(l, 3)
	if !ok {
		return color.NRGBA{}, false
	}
	a := 1.0
	if len(l) > 3 {
		if f, ok := num(l[3]); ok {
			a = f
		}
	}
	if a > 1 {
		a /= 255
	}
	a = math.Round(clamp(a, 0, 1)*1000) / 1000
	return color.NRGBA{byte8(c[0]), byte8(c[1]), byte8(c[2]), unit8(a)}, true
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// byte8 rounds a 0..255 channel as JS Math.round does (half up).
func byte8(v float64) uint8 { return uint8(math.Floor(clamp(v, 0, 255) + 0.5)) }

// unit8 turns 0..1 into 0..255 the way Skia does for an alpha.
func unit8(a float64) uint8 { return uint8(math.Floor(clamp(a, 0, 1)*255 + 0.5)) }

// parseCSSColor reads the CSS colour forms a canvas accepts: #rgb, #rgba,
// #rrggbb, #rrggbbaa, rgb()/rgba(), hsl()/hsla(), named colours and
// transparent.
func parseCSSColor(s string) (color.NRGBA, bool) {
	s = strings.ToLower(s)
	if strings.HasPrefix(s, "#") {
		return hexColor(s[1:])
	}
	if open := strings.IndexByte(s, '('); open > 0 && strings.HasSuffix(s, ")") {
		fn := strings.TrimSpace(s[:open])
		body := s[open+1 : len(s)-1]
		switch fn {
		case "rgb", "rgba":
			return rgbFunc(body)
		case "hsl", "hsla":
			return hslFunc(body)
		}
		return color.NRGBA{}, false
	}
	switch s {
	case "transparent":
		return color.NRGBA{}, true
	case "rebeccapurple":
		return color.NRGBA{0x66, 0x33, 0x99, 0xff}, true
	}
	if c, ok := colornames.Map[s]; ok {
		return color.NRGBA{c.R, c.G, c.B, 0xff}, true
	}
	return color.NRGBA{}, false
}

func hexColor(h string) (color.NRGBA, bool) {
	for _, r := range h {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return color.NRGBA{}, false
		}
	}
	d := func(i int) uint8 { v, _ := strconv.ParseUint(h[i:i+1], 16, 8); return uint8(v) }
	dd := func(i int) uint8 { v, _ := strconv.ParseUint(h[i:i+2], 16, 8); return uint8(v) }
	switch len(h) {
	case 3, 4:
		c := color.NRGBA{d(0) * 17, d(1) * 17, d(2) * 17, 0xff}
		if len(h) == 4 {
			c.A = d(3) * 17
		}
		return c, true
	case 6, 8:
		c := color.NRGBA{dd(0), dd(2), dd(4), 0xff}
		if len(h) == 8 {
			c.A = dd(6)
		}
		return c, true
	}
	return color.NRGBA{}, false
}

// funcArgs splits "a, b, c" or "a b c / d" into its parts.
func funcArgs(body string) []string {
	body = strings.ReplaceAll(body, "/", " ")
	body = strings.ReplaceAll(body, ",", " ")
	return strings.Fields(body)
}

// cssNumber reads a CSS number or percentage; pct is the value of 100%.
func cssNumber(s string, pct float64) (float64, bool) {
	scale := 1.0
	if strings.HasSuffix(s, "%") {
		s, scale = s[:len(s)-1], pct/100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f * scale, true
}

func alphaArg(parts []string) (float64, bool) {
	if len(parts) < 4 {
		return 1, true
	}
	return cssNumber(parts[3], 1)
}

func rgbFunc(body string) (color.NRGBA, bool) {
	p := funcArgs(body)
	if len(p) != 3 && len(p) != 4 {
		return color.NRGBA{}, false
	}
	var c [3]float64
	for i := range 3 {
		v, ok := cssNumber(p[i], 255)
		if !ok {
			return color.NRGBA{}, false
		}
		c[i] = v
	}
	a, ok := alphaArg(p)
	if !ok {
		return color.NRGBA{}, false
	}
	return color.NRGBA{byte8(c[0]), byte8(c[1]), byte8(c[2]), unit8(a)}, true
}

func hslFunc(body string) (color.NRGBA, bool) {
	p := funcArgs(body)
	if len(p) != 3 && len(p) != 4 {
		return color.NRGBA{}, false
	}
	h, err := strconv.ParseFloat(strings.TrimSuffix(p[0], "deg"), 64)
	s, ok1 := cssNumber(p[1], 1)
	l, ok2 := cssNumber(p[2], 1)
	a, ok3 := alphaArg(p)
	if err != nil || !ok1 || !ok2 || !ok3 || math.IsNaN(h) || math.IsInf(h, 0) {
		return color.NRGBA{}, false
	}
	h = math.Mod(math.Mod(h, 360)+360, 360) / 360
	s, l = clamp(s, 0, 1), clamp(l, 0, 1)
	var m2 float64
	if l <= 0.5 {
		m2 = l * (s + 1)
	} else {
		m2 = l + s - l*s
	}
	m1 := l*2 - m2
	hue := func(t float64) float64 {
		if t < 0 {
			t++
		}
		if t > 1 {
			t--
		}
		switch {
		case t*6 < 1:
			return m1 + (m2-m1)*t*6
		case t*2 < 1:
			return m2
		case t*3 < 2:
			return m1 + (m2-m1)*(2.0/3-t)*6
		}
		return m1
	}
	return color.NRGBA{byte8(hue(h+1.0/3) * 255), byte8(hue(h) * 255), byte8(hue(h-1.0/3) * 255), unit8(a)}, true
}
