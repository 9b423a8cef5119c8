package painttest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

type action struct {
	Method string `json:"method"`
	Data   []any  `json:"data"`
}

// Actions returns a drawing of strokes strokes in the 2016 recorder's format:
// per stroke save, moveTo, pointsPerStroke lineTo, setStrokeStyle,
// setLineWidth(5), stroke, restore, each as a {"method","data"} object.
// The same seed gives the same string, so benchmarks compare like with like.
func Actions(strokes, pointsPerStroke int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	acts := make([]action, 0, strokes*(pointsPerStroke+6))
	pt := func() float64 { return float64(r.IntN(37500)) / 100 }
	for range strokes {
		acts = append(acts,
			action{"save", []any{}},
			action{"moveTo", []any{pt(), pt()}})
		for range pointsPerStroke {
			acts = append(acts, action{"lineTo", []any{pt(), pt()}})
		}
		acts = append(acts,
			action{"setStrokeStyle", []any{fmt.Sprintf("#%06x", r.IntN(1<<24))}},
			action{"setLineWidth", []any{5}},
			action{"stroke", []any{}},
			action{"restore", []any{}})
	}
	b, err := json.Marshal(acts)
	if err != nil {
		panic(err) // cannot happen: only numbers and strings
	}
	return string(b)
}
