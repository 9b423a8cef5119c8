package clients

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestWebHoldsWhatTheBrowserLoads follows every reference the page and
// the ES modules make (src, href, import … from) and opens it in Web, so a
// file the browser would ask for cannot be missing from the binary.
func TestWebHoldsWhatTheBrowserLoads(t *testing.T) {
	ref := regexp.MustCompile(`(?:src|href)="([^"#:]+)"|from '(\.{1,2}/[^']+)'|import '(\.{1,2}/[^']+)'`)
	seen := map[string]bool{}
	queue := []string{"index.html"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		b, err := fs.ReadFile(Web, name)
		if err != nil {
			t.Errorf("ReadFile(%q): got %v, want nil", name, err)
			continue
		}
		if !strings.HasSuffix(name, ".html") && !strings.HasSuffix(name, ".js") {
			continue
		}
		dir := name[:strings.LastIndex(name, "/")+1]
		for _, m := range ref.FindAllStringSubmatch(string(b), -1) {
			target := m[1] + m[2] + m[3]
			queue = append(queue, cleanJoin(dir, target))
		}
	}
	for _, want := range []string{"index.html", "favicon.ico", "web/app.js", "web/style.css", "web/manifest.json",
		"miniprogram/lib/wxsession.js", "miniprogram/lib/actions.js", "miniprogram/lib/drawing.js", "miniprogram/lib/outbox.js", "miniprogram/lib/sync.js", "web/simplatform.js", "web/text.js", "web/pictures.js"} {
		if !seen[want] {
			t.Errorf("the page never loads %q: got %v", want, keys(seen))
		}
	}
}

// cleanJoin resolves a relative reference against dir ("" or "a/b/").
func cleanJoin(dir, ref string) string {
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	if dir == "" {
		parts = nil
	}
	for _, p := range strings.Split(ref, "/") {
		switch p {
		case ".", "":
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
		default:
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestWebLeavesOut(t *testing.T) {
	tests := []struct {
		name, path string
		want       error
	}{
		{"ErrNotExistForMiniProgramPages", "miniprogram/pages/draw/draw.js", fs.ErrNotExist},
		{"ErrNotExistForTypeDeclarations", "miniprogram/lib/wxsession.d.ts", fs.ErrNotExist},
		{"ErrNotExistForTests", "test/yibi.js", fs.ErrNotExist},
		{"ErrNotExistForPackageJSON", "package.json", fs.ErrNotExist},
		{"ErrNotExistForDotDot", "../go.mod", fs.ErrNotExist},
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

func TestWebIsAValidFS(t *testing.T) {
	if err := fstest.TestFS(Web, "index.html", "favicon.ico", "web/app.js", "web/style.css",
		"miniprogram/lib/wxsession.js", "miniprogram/lib/actions.js", "miniprogram/lib/drawing.js"); err != nil {
		t.Errorf("got %v, want nil", err)
	}
}
