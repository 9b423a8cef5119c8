package loadgen

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

type action struct {
	Method string            `json:"method"`
	Data   []json.RawMessage `json:"data"`
}

func TestDrawingFormat(t *testing.T) {
	d := NewDrawing(rand.New(rand.NewPCG(7, 7)))
	if got := d.Actions(); got != "[]" {
		t.Fatalf("empty drawing: got %s, want []", got)
	}
	d.AddStrokes(2, 4)
	var acts []action
	raw := d.Actions()
	if err := json.Unmarshal([]byte(raw), &acts); err != nil {
		t.Fatalf("actions are not a JSON array of actions: %v\n%s", err, raw)
	}
	// Per stroke: save, moveTo, 3 lineTo, setStrokeStyle, setLineWidth, stroke, restore.
	stroke := []string{"save", "moveTo", "lineTo", "lineTo", "lineTo", "setStrokeStyle", "setLineWidth", "stroke", "restore"}
	want := append(append([]string{}, stroke...), stroke...)
	if len(acts) != len(want) {
		t.Fatalf("got %d actions, want %d: %s", len(acts), len(want), raw)
	}
	color := regexp.MustCompile(`^"#[0-9A-F]{6}"$`)
	for i, a := range acts {
		if a.Method != want[i] {
			t.Errorf("action %d: got method %q, want %q", i, a.Method, want[i])
		}
		switch a.Method {
		case "moveTo", "lineTo":
			var x, y int
			if len(a.Data) != 2 || json.Unmarshal(a.Data[0], &x) != nil || json.Unmarshal(a.Data[1], &y) != nil {
				t.Errorf("action %d: got data %s, want [x,y]", i, a.Data)
			} else if x < 0 || x > canvasW || y < 0 || y > canvasH {
				t.Errorf("action %d: got point (%d,%d), want it on the %dx%d canvas", i, x, y, canvasW, canvasH)
			}
		case "setStrokeStyle":
			if len(a.Data) != 1 || !color.Match(a.Data[0]) {
				t.Errorf("action %d: got data %s, want [\"#RRGGBB\"]", i, a.Data)
			}
		case "setLineWidth":
			if len(a.Data) != 1 || string(a.Data[0]) != "5" {
				t.Errorf("action %d: got data %s, want [5]", i, a.Data)
			}
		default:
			if a.Data != nil {
				t.Errorf("action %d: got data %s, want none", i, a.Data)
			}
		}
	}
	if got := d.Strokes(); got != 2 {
		t.Errorf("strokes: got %d, want 2", got)
	}
}

func TestDrawingGrowsByWholeArray(t *testing.T) {
	d := NewDrawing(rand.New(rand.NewPCG(1, 1)))
	d.AddStrokes(1, 5)
	first := d.Actions()
	d.AddStrokes(1, 5)
	second := d.Actions()
	// The second save carries the first stroke unchanged, then the new one.
	prefix := strings.TrimSuffix(first, "]")
	if !strings.HasPrefix(second, prefix+",") || !strings.HasSuffix(second, "]") {
		t.Errorf("got %s, want it to start with %s", second, prefix)
	}
	if !json.Valid([]byte(second)) {
		t.Errorf("got invalid JSON %s", second)
	}
}

func TestDrawingIDIsUUID(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewDrawing(rng).ID
		if !re.MatchString(id) {
			t.Fatalf("got id %q, want a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("got id %q twice, want unique ids", id)
		}
		seen[id] = true
	}
}

func TestDrawingSameSeedSameActions(t *testing.T) {
	a := NewDrawing(rand.New(rand.NewPCG(9, 9)))
	b := NewDrawing(rand.New(rand.NewPCG(9, 9)))
	a.AddStrokes(3, 10)
	b.AddStrokes(3, 10)
	if a.ID != b.ID || a.Actions() != b.Actions() {
		t.Errorf("got different drawings from one seed, want equal")
	}
}
