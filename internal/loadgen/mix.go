package loadgen

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Operations a simulated user performs, as named in -mix and in reports.
const (
	OpList   = "list"
	OpSave   = "save"
	OpDelete = "delete"
	// OpLogin names the requests that carried a login (all three headers);
	// they are also counted under their own operation.
	OpLogin = "login"
	// OpSim names the calls to the WeChat simulator (wx.login and
	// wx.getUserInfo) that precede a login.
	OpSim = "sim"
)

// maxWeight keeps the sum of weights far from overflowing.
const maxWeight = 1_000_000

// ErrMix reports a -mix value that could not be parsed.
var ErrMix = errors.New("loadgen: bad mix")

// Mix is the relative weight of each operation a user picks from. Weights
// need not add up to 100.
type Mix struct {
	List, Save, Delete int
}

// DefaultMix is what a person with the 2016 app roughly does: mostly
// drawing, looking at the gallery now and then, rarely deleting.
var DefaultMix = Mix{List: 30, Save: 60, Delete: 10}

// ParseMix parses "list=30,save=60,delete=10". Operations left out weigh
// 0; at least one weight must be positive. Errors wrap ErrMix.
func ParseMix(s string) (Mix, error) {
	var m Mix
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Mix{}, fmt.Errorf("%w: %q is not op=weight", ErrMix, part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 || w > maxWeight {
			return Mix{}, fmt.Errorf("%w: weight of %q must be a whole number from 0 to 1000000", ErrMix, name)
		}
		if seen[name] {
			return Mix{}, fmt.Errorf("%w: %q given twice", ErrMix, name)
		}
		seen[name] = true
		switch name {
		case OpList:
			m.List = w
		case OpSave:
			m.Save = w
		case OpDelete:
			m.Delete = w
		default:
			return Mix{}, fmt.Errorf("%w: unknown operation %q (want list, save, delete)", ErrMix, name)
		}
	}
	if m.total() <= 0 {
		return Mix{}, fmt.Errorf("%w: no operation has a positive weight", ErrMix)
	}
	return m, nil
}

// String formats m the way ParseMix reads it.
func (m Mix) String() string {
	return fmt.Sprintf("list=%d,save=%d,delete=%d", m.List, m.Save, m.Delete)
}

func (m Mix) total() int { return m.List + m.Save + m.Delete }

// pick maps n in [0, total) to an operation.
func (m Mix) pick(n int) string {
	switch {
	case n < m.List:
		return OpList
	case n < m.List+m.Save:
		return OpSave
	default:
		return OpDelete
	}
}
