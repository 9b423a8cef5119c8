package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestUnits reads the undo and clear cases that the clients' tests read
// too (clients/test/actions.test.js), so the server's renderer and the
// clients' replay take back and hide the same strokes: plain undo and
// clear as saved since 2016, targeted undo and ranged clear as recorded
// today. Each case lists the strokes drawn by their first point's x.
func TestUnits(t *testing.T) {
	b, err := os.ReadFile("testdata/units.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string          `json:"name"`
		Actions json.RawMessage `json:"actions"`
		Drawn   []float64       `json:"drawn"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			got := []float64{}
			for _, a := range standing(parseActions(string(tc.Actions))) {
				if x, ok := num(firstArg(a)); ok && a.method == "moveTo" {
					got = append(got, x)
				}
			}
			if !slices.Equal(got, tc.Drawn) {
				t.Errorf("got strokes %v, want %v", got, tc.Drawn)
			}
		})
	}
}

func firstArg(a action) any {
	if len(a.args) == 0 {
		return nil
	}
	return a.args[0]
}

// TestTargetedUndoPixels draws the conflict of docs/drawing.md: device A
// drew a red stroke, device B appended a blue one, A undid its stroke
// offline; after the rebase the drawing holds both strokes and A's
// targeted undo. The blue stroke is drawn and the red is not, in the PNG
// and in the SVG; a plain undo in its place took back the blue one.
func TestTargetedUndoPixels(t *testing.T) {
	const (
		red  = `{"method":"save","data":[]},{"method":"moveTo","data":[20,100]},{"method":"lineTo","data":[350,100]},{"method":"setStrokeStyle","data":["#FF0000"]},{"method":"setLineWidth","data":[12]},{"method":"stroke","data":[]},{"method":"restore","data":[]}`
		blue = `{"method":"save","data":[]},{"method":"moveTo","data":[20,300]},{"method":"lineTo","data":[350,300]},{"method":"setStrokeStyle","data":["#0000FF"]},{"method":"setLineWidth","data":[12]},{"method":"stroke","data":[]},{"method":"restore","data":[]}`
	)
	drawing := func(last string) string {
		return fmt.Sprintf(`[{"method":"space","data":[375,500]},%s,%s,%s]`, red, blue, last)
	}
	for _, tc := range []struct {
		name      string
		last      string
		red, blue bool
	}{
		{"TargetedUndoTakesBackItsStroke", `{"method":"undo","data":[0]}`, false, true},
		{"RangedClearHidesOnlyWhatItSaw", `{"method":"clear","data":[0,1]}`, false, true},
		{"PlainUndoTakesBackTheLatest", `{"method":"undo","data":[]}`, true, false},
		{"PlainClearHidesAll", `{"method":"clear","data":[]}`, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Image(drawing(tc.last), 375)
			if err != nil {
				t.Fatal(err)
			}
			at := func(y int) (r, g, b uint8) {
				o := img.PixOffset(187, y)
				return img.Pix[o], img.Pix[o+1], img.Pix[o+2]
			}
			r, g, b := at(100)
			if gotRed := r > 200 && g < 80 && b < 80; gotRed != tc.red {
				t.Errorf("red stroke drawn: got %v (%d,%d,%d), want %v", gotRed, r, g, b, tc.red)
			}
			r, g, b = at(300)
			if gotBlue := b > 200 && r < 80 && g < 80; gotBlue != tc.blue {
				t.Errorf("blue stroke drawn: got %v (%d,%d,%d), want %v", gotBlue, r, g, b, tc.blue)
			}
			var svg bytes.Buffer
			if err := SVG(&svg, drawing(tc.last), 375); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				color string
				want  bool
			}{{"#ff0000", tc.red}, {"#0000ff", tc.blue}} {
				if got := strings.Contains(svg.String(), `stroke="`+c.color+`"`); got != c.want {
					t.Errorf("SVG draws %s: got %v, want %v", c.color, got, c.want)
				}
			}
		})
	}
}
