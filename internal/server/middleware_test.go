package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRecoverPanicsAnswersJSON500(t *testing.T) {
	h := recoverPanics(slog.New(slog.NewTextHandler(io.Discard, nil)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"internal error"`) {
		t.Errorf("got %d %s, want 500 internal error envelope", w.Code, w.Body)
	}
}

func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	h := logRequests(slog.New(slog.NewTextHandler(&logs, nil)), nil, http.NotFoundHandler())
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"SaneIDKept", "abc-123", true},
		{"InsaneIDReplaced", "bad id\nx", false},
		{"MissingIDGenerated", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x", nil)
			if tt.in != "" {
				r.Header.Set("X-Request-Id", tt.in)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-Id")
			if (got == tt.in) != tt.keep || got == "" {
				t.Errorf("got %q, want kept=%v", got, tt.keep)
			}
		})
	}
	if !strings.Contains(logs.String(), "status=404") {
		t.Errorf("got log %q, want status=404", logs.String())
	}
}

// At the default level a quick success is not logged, anything an
// operator should look at is.
func TestRequestLogLevel(t *testing.T) {
	tests := []struct {
		name   string
		status int
		delay  time.Duration
		logged bool
	}{
		{"QuickSuccessQuiet", http.StatusOK, 0, false},
		{"RedirectQuiet", http.StatusNotModified, 0, false},
		{"ClientErrorLogged", http.StatusNotFound, 0, true},
		{"RateLimitedLogged", http.StatusTooManyRequests, 0, true},
		{"ServerErrorLogged", http.StatusServiceUnavailable, 0, true},
		{"SlowSuccessLogged", http.StatusOK, slowRequest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := logRequests(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})), nil,
				http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					time.Sleep(tt.delay)
					w.WriteHeader(tt.status)
				}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
			if got := strings.Contains(logs.String(), "msg=request"); got != tt.logged {
				t.Errorf("got logged %v, want %v: %q", got, tt.logged, logs.String())
			}
		})
	}
}
