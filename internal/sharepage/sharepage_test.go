package sharepage

import "testing"

func TestLanguage(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   string
	}{
		{"", "zh-CN"},
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"},
		{"en-US,en;q=0.9", "en"},
		{"EN", "en"},
		{"en-GB;q=0.8, zh-TW", "zh-CN"},       // the highest q wins, not the first
		{"fr-FR,en;q=0.9", "zh-CN"},           // English second: Chinese by default
		{"de;q=0.5, en;q=0.5", "zh-CN"},       // equals: the first
		{"en;q=0, zh;q=0.1", "zh-CN"},         // q=0 is "not this one"
		{"en;q=abc, fr;q=0.2", "zh-CN"},       // an unreadable q is ignored
		{" en-US ; q=0.7 , ja ; q=0.6", "en"}, // spaces
		{"*, en;q=0.9", "zh-CN"},              // any language: the default
		{",,;;q=", "zh-CN"},                   // junk
		{"english", "zh-CN"},                  // not the tag en
	} {
		if got := language(tt.header).Lang; got != tt.want {
			t.Errorf("Accept-Language %q: got %v, want %v", tt.header, got, tt.want)
		}
	}
}
