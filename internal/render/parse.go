package render

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// action is one {"method","data"} entry of a drawing. args is data as a
// list: a non-array data is one argument, as the JS reader's toArgs does.
type action struct {
	method string
	data   any
	args   []any
}

// parseActions reads a drawing. Entries that are not objects with a string
// method are dropped; a value that is not a JSON array is an empty drawing.
func parseActions(s string) []action {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil
	}
	out := make([]action, 0, len(raw))
	for _, r := range raw {
		var a struct {
			Method any `json:"method"`
			Data   any `json:"data"`
		}
		if json.Unmarshal(r, &a) != nil {
			continue
		}
		m, ok := a.Method.(string)
		if !ok {
			continue
		}
		out = append(out, action{method: m, data: a.Data, args: toArgs(a.Data)})
	}
	return out
}

func toArgs(data any) []any {
	switch d := data.(type) {
	case nil:
		return nil
	case []any:
		return d
	default:
		return []any{d}
	}
}

// standing applies the drawing's undo and clear (docs/drawing.md, "Units,
// undo and clear") and returns the actions still to draw, in order: what
// the clients' visible (clients/miniprogram/lib/actions.js) returns.
//
// Every unit gets the next index in the drawing's unit order, taken back
// or not. An undo with no data takes back the latest unit still standing;
// one with a target takes back that unit if it stands before it. A
// standing clear hides every unit before it, or with data only the units
// in its [from, to) ranges. Cost is linear in the drawing: the plain
// undos' stack holds each unit once, and clears' ranges are summed in a
// difference array.
func standing(list []action) []action {
	type unit struct {
		from, to int // list[from:to]
		clear    bool
		up       bool // not taken back
	}
	var units []unit
	var stack []int // units not yet popped by a plain undo; some may be down
	for i := 0; i < len(list); {
		switch list[i].method {
		case "space":
			// A marker, not a unit: no undo takes it back.
			i++
		case "undo":
			if len(list[i].args) == 0 {
				for len(stack) > 0 {
					k := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					if units[k].up {
						units[k].up = false
						break
					}
				}
			} else if k, ok := whole(list[i].args[0]); ok && k >= 0 && k < float64(len(units)) {
				units[int(k)].up = false
			}
			i++
		case "save":
			// A stroke group: save through its matching restore (or the end).
			depth, j := 0, i
			for ; j < len(list); j++ {
				switch list[j].method {
				case "save":
					depth++
				case "restore":
					depth--
				}
				if depth == 0 {
					j++
					break
				}
			}
			stack = append(stack, len(units))
			units = append(units, unit{from: i, to: min(j, len(list)), up: true})
			i = j
		default:
			stack = append(stack, len(units))
			units = append(units, unit{from: i, to: i + 1, clear: list[i].method == "clear", up: true})
			i++
		}
	}
	diff := make([]int, len(units)+1)
	cover := func(from, to float64) {
		from = max(from, 0)
		if from < to {
			diff[int(from)]++
			diff[int(to)]--
		}
	}
	for c, u := range units {
		if !u.up || !u.clear {
			continue
		}
		args := list[u.from].args
		if len(args) == 0 {
			cover(0, float64(c))
			continue
		}
		for p := 0; p+1 < len(args); p += 2 {
			from, ok1 := whole(args[p])
			to, ok2 := whole(args[p+1])
			if ok1 && ok2 {
				cover(from, min(to, float64(c)))
			}
		}
	}
	var out []action
	hidden := 0
	for k, u := range units {
		hidden += diff[k]
		if u.up && !u.clear && hidden == 0 {
			out = append(out, list[u.from:u.to]...)
		}
	}
	return out
}

// whole reads a unit index: a whole number or a numeric string of one.
func whole(v any) (float64, bool) {
	f, ok := num(v)
	if !ok || f != math.Trunc(f) {
		return 0, false
	}
	return f, true
}

// num reads a number or a numeric string the way the JS reader's num does
// (Number(s) for a non-blank string); non-finite values are not numbers.
func num(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case string:
		s := strings.TrimSpace(x)
		if s == "" || strings.ContainsRune(s, '_') {
			return 0, false
		}
		var err error
		f, err = strconv.ParseFloat(s, 64)
		if err != nil {
			// Number("0x1A") is 26: JS reads hex, octal and binary integers.
			n, ierr := strconv.ParseInt(s, 0, 64)
			if ierr != nil || len(s) < 3 || s[0] != '0' || !strings.ContainsAny(s[1:2], "xXoObB") {
				return 0, false
			}
			f = float64(n)
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// nums reads n numbers from the front of args.
func nums(args []any, n int) ([]float64, bool) {
	if len(args) < n {
		return nil, false
	}
	out := make([]float64, n)
	for i := range n {
		f, ok := num(args[i])
		if !ok {
			return nil, false
		}
		out[i] = f
	}
	return out, true
}

// truthy is JavaScript's !!v for a JSON value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	default:
		return true
	}
}
