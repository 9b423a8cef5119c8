package web

import (
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	h, err := Handler(fstest.MapFS{
		"index.html":  {Data: []byte("<!doctype html><p>hi")},
		"lib/sdk.mjs": {Data: []byte("export const a = 1")},
		"app.js":      {Data: []byte("1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, wantCT string
		status             int
	}{
		{"IndexAtRoot", "/", "text/html; charset=utf-8", 200},
		{"MJSIsJavaScript", "/lib/sdk.mjs", "text/javascript; charset=utf-8", 200},
		{"JSIsJavaScript", "/app.js", "text/javascript; charset=utf-8", 200},
		{"NotFound", "/nope", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.status || (tt.wantCT != "" && w.Header().Get("Content-Type") != tt.wantCT) {
				t.Errorf("got %d %q, want %d %q", w.Code, w.Header().Get("Content-Type"), tt.status, tt.wantCT)
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
