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

// standing applies the drawing's undo and clear (docs/drawing.md, "Units
// and undo") and returns the actions still to draw, in order.
func standing(list []action) []action {
	type unit struct{ from, to int } // list[from:to]
	var units []unit
	for i := 0; i < len(list); {
		switch list[i].method {
		case "undo":
			if len(units) > 0 {
				units = units[:len(units)-1]
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
			units = append(units, unit{i, j})
			i = j
		default:
			units = append(units, unit{i, i + 1})
			i++
		}
	}
	start := 0
	for k := len(units) - 1; k >= 0; k-- {
		if list[units[k].from].method == "clear" {
			start = k + 1
			break
		}
	}
	var out []action
	for _, u := range units[start:] {
		out = append(out, list[u.from:u.to]...)
	}
	return out
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
