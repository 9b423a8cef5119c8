package clients

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestWebServesAppAndLib(t *testing.T) {
	tests := []struct {
		name, path, contains string
	}{
		{"IndexAtRoot", "index.html", `<script type="module" src="app.js">`},
		{"AppImportsLib", "app.js", `from './lib/wxsession.mjs'`},
		{"SDKUnderLib", "lib/wxsession.js", "F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"},
		{"SDKModuleUnderLib", "lib/wxsession.mjs", "export default"},
		{"ActionsModuleUnderLib", "lib/actions.mjs", "export default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Web.Open(tt.path)
			if err != nil {
				t.Fatalf("Open(%q): got %v, want nil", tt.path, err)
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if err != nil {
				t.Fatalf("read %q: %v", tt.path, err)
			}
			if !strings.Contains(string(b), tt.contains) {
				t.Errorf("%q: got no %q in it", tt.path, tt.contains)
			}
		})
	}
}

func TestWebRejects(t *testing.T) {
	tests := []struct {
		name, path string
		want       error
	}{
		{"ErrNotExistForMiniProgramPages", "miniprogram/pages/draw/draw.js", fs.ErrNotExist},
		{"ErrNotExistForWebPrefix", "web/index.html", fs.ErrNotExist},
		{"ErrNotExistInLib", "lib/nope.js", fs.ErrNotExist},
		{"ErrInvalidForDotDot", "../go.mod", fs.ErrInvalid},
		{"ErrInvalidForLeadingSlash", "/index.html", fs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Web.Open(tt.path)
			if err == nil {
				f.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open(%q): got %v, want %v", tt.path, err, tt.want)
			}
		})
	}
}

// TestWebIsAValidFS runs the standard library's fs.FS conformance checks,
// which also walk the root and require lib to be listed in it.
func TestWebIsAValidFS(t *testing.T) {
	if err := fstest.TestFS(Web, "index.html", "app.js", "style.css", "lib/wxsession.js", "lib/wxsession.mjs",
		"lib/actions.js", "lib/actions.mjs", "lib/simplatform.mjs"); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}
