package loadgen

import (
	"errors"
	"testing"
)

func TestParseMix(t *testing.T) {
	tests := []struct {
		name, in string
		want     Mix
	}{
		{"AllThree", "list=30,save=60,delete=10", Mix{30, 60, 10}},
		{"SpacesAndCase", " List = 1 , SAVE=2 ", Mix{1, 2, 0}},
		{"LeftOutIsZero", "save=1", Mix{0, 1, 0}},
		{"AnyOrder", "delete=5,list=5", Mix{5, 0, 5}},
		{"TrailingComma", "save=3,", Mix{0, 3, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMix(tt.in)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			again, err := ParseMix(got.String())
			if err != nil || again != got {
				t.Errorf("round trip: got %+v, %v, want %+v", again, err, got)
			}
		})
	}
}

func TestParseMixErrors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"ErrEmpty", ""},
		{"ErrAllZero", "list=0,save=0"},
		{"ErrUnknownOp", "list=1,login=2"},
		{"ErrNoEquals", "list"},
		{"ErrNegative", "save=-1"},
		{"ErrNotNumber", "save=x"},
		{"ErrFraction", "save=1.5"},
		{"ErrTooLarge", "save=1000001"},
		{"ErrTwice", "save=1,save=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMix(tt.in)
			if !errors.Is(err, ErrMix) {
				t.Errorf("got %v, want ErrMix", err)
			}
		})
	}
}

func TestMixPick(t *testing.T) {
	m := Mix{List: 2, Save: 3, Delete: 1}
	var got []string
	for n := range m.total() {
		got = append(got, m.pick(n))
	}
	want := []string{"list", "list", "save", "save", "save", "delete"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
