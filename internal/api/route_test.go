package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAllowed: a path known for other methods is a 405 also when a
// catch-all pattern would take the request; a routed request or an
// unknown path is not.
func TestAllowed(t *testing.T) {
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("GET /a/me", nop)
	mux.Handle("POST /a/login", nop)
	mux.Handle("/a/", nop) // a catch-all handing the rest on
	bare := http.NewServeMux()
	bare.Handle("GET /x", nop)
	tests := []struct {
		name   string
		mux    *http.ServeMux
		method string
		path   string
		want   string
	}{
		{"Routed", mux, "GET", "/a/me", ""},
		{"HeadOfGet", mux, "HEAD", "/a/me", ""},
		{"CatchAllOnly", mux, "GET", "/a/other", ""},
		{"WrongMethodBehindCatchAll", mux, "POST", "/a/me", "GET, HEAD"},
		{"MadeUpMethodBehindCatchAll", mux, "BREW", "/a/login", "POST"},
		{"Unknown", bare, "GET", "/y", ""},
		{"WrongMethod", bare, "DELETE", "/x", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if got := strings.Join(Allowed(tt.mux, r), ", "); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
