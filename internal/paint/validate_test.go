package paint

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	const uuid = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
	tests := []struct {
		name   string
		p      Paint
		max    int
		reason string // "" = valid
	}{
		{"Valid", Paint{ID: uuid, Actions: `[{"method":"save","data":[]}]`}, 0, ""},
		{"ValidEmptyArray", Paint{ID: "a_b-c", Actions: ` [ ] `}, 0, ""},
		{"ValidAtLimit", Paint{ID: "x", Actions: "[" + strings.Repeat(" ", 8) + "]"}, 10, ""},
		{"ValidIDMaxLength", Paint{ID: strings.Repeat("a", MaxIDLength), Actions: "[]"}, 0, ""},
		{"ErrMissingID", Paint{Actions: "[]"}, 0, ReasonMissing},
		{"ErrMissingActions", Paint{ID: uuid}, 0, ReasonMissing},
		{"ErrIDTooLong", Paint{ID: strings.Repeat("a", MaxIDLength+1), Actions: "[]"}, 0, ReasonBadID},
		{"ErrIDSlash", Paint{ID: "../etc", Actions: "[]"}, 0, ReasonBadID},
		{"ErrIDSpace", Paint{ID: "a b", Actions: "[]"}, 0, ReasonBadID},
		{"ErrIDUnicode", Paint{ID: "画", Actions: "[]"}, 0, ReasonBadID},
		{"ErrActionsObject", Paint{ID: "a", Actions: `{"a":1}`}, 0, ReasonActionsNotArray},
		{"ErrActionsString", Paint{ID: "a", Actions: `"[]"`}, 0, ReasonActionsNotArray},
		{"ErrActionsBroken", Paint{ID: "a", Actions: `[{"method":`}, 0, ReasonActionsNotArray},
		{"ErrActionsTrailing", Paint{ID: "a", Actions: `[] []`}, 0, ReasonActionsNotArray},
		{"ErrActionsWhitespaceOnly", Paint{ID: "a", Actions: `   `}, 0, ReasonActionsNotArray},
		{"ErrActionsTooLarge", Paint{ID: "a", Actions: "[" + strings.Repeat(" ", 9) + "]"}, 10, ReasonActionsTooLarge},
		{"ErrActionsNotUTF8", Paint{ID: "a", Actions: "[\"\xff\"]"}, 0, ReasonActionsNotUTF8},
		{"ErrActionsTooLargeDefault", Paint{ID: "a", Actions: "[" + strings.Repeat(" ", DefaultMaxActionsBytes) + "]"}, 0, ReasonActionsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.p, tt.max)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want *InvalidError", err)
			}
			if inv.Reason != tt.reason {
				t.Errorf("got reason %q, want %q", inv.Reason, tt.reason)
			}
		})
	}
}

// TestConcatNotArray: stored text another program wrote that is not an
// array is refused, never joined into something that is not JSON, and
// never a panic (an empty string once indexed out of range).
func TestConcatNotArray(t *testing.T) {
	for _, stored := range []string{"", " ", "[", "]", "abc", `"[1]"`, "{}", "[1", "1]"} {
		got, err := Concat(stored, "[2]")
		if !errors.Is(err, ErrNotArray) {
			t.Errorf("Concat(%q, [2]) = %q, %v; want ErrNotArray", stored, got, err)
		}
	}
}

func TestConcat(t *testing.T) {
	tests := []struct{ stored, added, want string }{
		{"[1,2]", "[3]", "[1,2,3]"},
		{"[]", "[3]", "[3]"},
		{"[1]", "[]", "[1]"},
		{" [ 1 ,\n 2 ] ", " [ 3 , 4 ]\n", "[ 1 ,\n 2,3 , 4 ]\n"},
		{" []", "[2]", "[2]"},
		{"\n[ ]\t", "[2]", "[2]"},
		{" [1]", "[]", " [1]"},
		{"[ ]", " [ {\"a\":[1]} ]", "[{\"a\":[1]} ]"},
		{`["]"]`, `["["]`, `["]","["]`},
	}
	for _, tt := range tests {
		got, err := Concat(tt.stored, tt.added)
		if err != nil || got != tt.want {
			t.Errorf("Concat(%q, %q): got %q, %v, want %q", tt.stored, tt.added, got, err, tt.want)
		}
		if err := ValidateActions(got); err != nil {
			t.Errorf("Concat(%q, %q) = %q: got %v, want a JSON array", tt.stored, tt.added, got, err)
		}
	}
}
