package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Canvas size of the 2016 draw page on a 375-point-wide phone.
const (
	canvasW = 375
	canvasH = 500
)

// palette holds the colours of the 2016 app's colour bar.
var palette = []string{"#000000", "#FF0000", "#FF9900", "#FFFF00", "#00FF00", "#00FFFF", "#0000FF", "#9900FF"}

// Drawing is a drawing in progress, recorded the way the 2016 draw page
// recorded it: per stroke save, moveTo, a run of lineTo, setStrokeStyle,
// setLineWidth(5), stroke, restore, each a {"method","data"} object. The
// page saved the whole array after every stroke, and so does the load
// generator: Actions grows with each AddStrokes.
type Drawing struct {
	// ID is the client-made UUID the drawing is saved under.
	ID      string
	strokes int
	// body holds the comma-joined actions without the enclosing brackets,
	// so growing the drawing appends instead of re-encoding it.
	body []byte
	rng  *rand.Rand
}

// NewDrawing starts an empty drawing with a random UUID from rng.
func NewDrawing(rng *rand.Rand) *Drawing {
	return &Drawing{ID: uuid(rng), rng: rng}
}

// uuid formats 16 random bytes as a version 4 UUID.
func uuid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Strokes returns the number of strokes drawn so far.
func (d *Drawing) Strokes() int { return d.strokes }

// AddStrokes draws n strokes of points points each (a moveTo and then
// points-1 lineTo; at least one lineTo), a finger's random walk over the
// canvas.
func (d *Drawing) AddStrokes(n, points int) {
	if points < 2 {
		points = 2
	}
	for range n {
		x, y := d.rng.IntN(canvasW), d.rng.IntN(canvasH)
		d.sep()
		d.body = append(d.body, `{"method":"save"},{"method":"moveTo","data":[`...)
		d.body = appendPoint(d.body, x, y)
		d.body = append(d.body, "]}"...)
		for range points - 1 {
			x = clamp(x+d.rng.IntN(41)-20, 0, canvasW)
			y = clamp(y+d.rng.IntN(41)-20, 0, canvasH)
			d.body = append(d.body, `,{"method":"lineTo","data":[`...)
			d.body = appendPoint(d.body, x, y)
			d.body = append(d.body, "]}"...)
		}
		d.body = append(d.body, `,{"method":"setStrokeStyle","data":["`...)
		d.body = append(d.body, palette[d.rng.IntN(len(palette))]...)
		d.body = append(d.body, `"]},{"method":"setLineWidth","data":[5]},{"method":"stroke"},{"method":"restore"}`...)
		d.strokes++
	}
}

func (d *Drawing) sep() {
	if len(d.body) > 0 {
		d.body = append(d.body, ',')
	}
}

func appendPoint(b []byte, x, y int) []byte {
	b = strconv.AppendInt(b, int64(x), 10)
	b = append(b, ',')
	return strconv.AppendInt(b, int64(y), 10)
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// Actions returns the whole drawing as the JSON array string the 2016
// client sent in the actions field.
func (d *Drawing) Actions() string {
	return "[" + string(d.body) + "]"
}
