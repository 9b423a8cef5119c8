package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const page = `<!doctype html><meta name="yibi-route-base" content="/applet"><p>hi`

// serve routes fsys through a ServeMux, as the server's route table does.
func serve(t *testing.T, fsys fstest.MapFS, base string) http.Handler {
	t.Helper()
	routes, err := Routes(fsys, base)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.Handle("GET "+rt.Pattern, rt.Handler)
	}
	return mux
}

func TestRoutes(t *testing.T) {
	h := serve(t, fstest.MapFS{
		"index.html":     {Data: []byte(page)},
		"lib/sdk.mjs":    {Data: []byte("export const a = 1")},
		"app.js":         {Data: []byte("1")},
		"sub/index.html": {Data: []byte("<p>sub")},
	}, "/applet")
	tests := []struct {
		name, path, wantCT string
		status             int
	}{
		{"IndexAtRoot", "/", "text/html; charset=utf-8", 200},
		{"IndexByName", "/index.html", "text/html; charset=utf-8", 200},
		{"SubdirIndex", "/sub/", "text/html; charset=utf-8", 200},
		{"MJSIsJavaScript", "/lib/sdk.mjs", "text/javascript; charset=utf-8", 200},
		{"JSIsJavaScript", "/app.js", "text/javascript; charset=utf-8", 200},
		{"UnknownNotRouted", "/nope", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.status || (tt.wantCT != "" && w.Header().Get("Content-Type") != tt.wantCT) {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("Content-Type"), tt.status, tt.wantCT)
			}
			if tt.status == 200 && (w.Header().Get("Cache-Control") != "no-cache" || w.Header().Get("ETag") == "") {
				t.Errorf("got Cache-Control %q ETag %q, want no-cache and an ETag", w.Header().Get("Cache-Control"), w.Header().Get("ETag"))
			}
		})
	}
	t.Run("IfNoneMatchIs304", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/app.js", nil))
		r := httptest.NewRequest("GET", "/app.js", nil)
		r.Header.Set("If-None-Match", w.Header().Get("ETag"))
		w2 := httptest.NewRecorder()
		h.ServeHTTP(w2, r)
		if w.Header().Get("ETag") == "" || w2.Code != 304 {
			t.Errorf("got %d, want 304 with an ETag", w2.Code)
		}
	})
}

func TestRouteBase(t *testing.T) {
	tests := []struct {
		name, base, want string
		sameETag         bool
	}{
		{"SameBaseAsIs", "/applet", `content="/applet"`, true},
		{"OtherBase", "/yibi/v1", `content="/yibi/v1"`, false},
		{"NoPrefixIsRelative", "", `content="."`, false},
		{"Escaped", `/a"b`, `content="/a&#34;b"`, false},
	}
	etag := func(h http.Handler) (string, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		return w.Body.String(), w.Header().Get("ETag")
	}
	_, original := etag(serve(t, fstest.MapFS{"index.html": {Data: []byte(page)}}, "/applet"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, tag := etag(serve(t, fstest.MapFS{"index.html": {Data: []byte(page)}}, tt.base))
			if !strings.Contains(body, `name="yibi-route-base" `+tt.want) || strings.Contains(body, "<p>hi") == false {
				t.Errorf("got %q, want the page with %s", body, tt.want)
			}
			if (tag == original) != tt.sameETag {
				t.Errorf("got ETag %s (original %s), want same = %v: the ETag is the served bytes' hash", tag, original, tt.sameETag)
			}
		})
	}
}
