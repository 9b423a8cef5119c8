package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/metrics"
)

func TestRecoverPanicsAnswersJSON500(t *testing.T) {
	h := recoverPanics(slog.New(slog.NewTextHandler(io.Discard, nil)), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"internal error"`) {
		t.Errorf("got %d %s, want 500 internal error envelope", w.Code, w.Body)
	}
}

// trackedLogs runs h behind track with a JSON logger made the way New
// makes it, and returns the log lines.
func trackedLogs(t *testing.T, h func(logger *slog.Logger) http.Handler, r *http.Request) (*httptest.ResponseRecorder, []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	logger := withRequestIDs(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	w := httptest.NewRecorder()
	track(logger, metrics.New(), writeLimits{}, h(logger)).ServeHTTP(w, r)
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return w, lines
}

func TestRequestID(t *testing.T) {
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
			w, lines := trackedLogs(t, func(logger *slog.Logger) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					logger.WarnContext(r.Context(), "a handler's own line")
					api.Fail(w, 404, api.ReasonNotFound)
				})
			}, r)
			got := w.Header().Get("X-Request-Id")
			if (got == tt.in) != tt.keep || got == "" {
				t.Errorf("got %q, want kept=%v", got, tt.keep)
			}
			// Every line of the request carries its id, not only the access line.
			if len(lines) != 2 {
				t.Fatalf("got %d log lines, want 2: %v", len(lines), lines)
			}
			for _, l := range lines {
				if l["request_id"] != got {
					t.Errorf("log line %v: got request_id %v, want %q", l, l["request_id"], got)
				}
			}
			if access := lines[1]; access["status"] != float64(404) || access["duration"] == nil || !strings.HasSuffix(access["duration"].(string), "s") {
				t.Errorf("access line: got %v, want status 404 and a duration with a unit", access)
			}
		})
	}
}

// TestResponseWriterRecords: status and bytes reach the record; a handler
// that writes nothing is a 200; a superfluous WriteHeader does not count.
func TestResponseWriterRecords(t *testing.T) {
	tests := []struct {
		name       string
		h          http.HandlerFunc
		status     int
		bytes      float64
		controller bool
	}{
		{"WriteOnly", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }, 200, 5, false},
		{"Nothing", func(w http.ResponseWriter, r *http.Request) {}, 200, 0, false},
		{"FirstStatusCounts", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(201)
			w.WriteHeader(500)
			io.WriteString(w, "ab")
		}, 201, 2, false},
		{"ControllerReachesRecorder", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "x")
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush through the wrapper: %v", err)
			}
		}, 200, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, lines := trackedLogs(t, func(*slog.Logger) http.Handler { return tt.h }, httptest.NewRequest("GET", "/", nil))
			access := lines[len(lines)-1]
			if access["status"] != float64(tt.status) || access["bytes"] != tt.bytes {
				t.Errorf("got status %v bytes %v, want %d %v", access["status"], access["bytes"], tt.status, tt.bytes)
			}
			if tt.controller && !w.Flushed {
				t.Errorf("got no flush, want the recorder flushed")
			}
		})
	}
}

func TestRouted(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("POST /things/save", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("DELETE /things/save", func(w http.ResponseWriter, r *http.Request) {})
	tests := []struct {
		name, method, path string
		status             int
		reason, allow      string
		route              string
	}{
		{"Matched", "GET", "/healthz", 200, "", "", "GET /healthz"},
		{"HeadOfGet", "HEAD", "/healthz", 200, "", "", "GET /healthz"},
		{"UnknownPath", "GET", "/nope", 404, api.ReasonNotFound, "", ""},
		{"MadeUpMethodUnknownPath", "BREW", "/nope", 404, api.ReasonNotFound, "", ""},
		{"WrongMethod", "POST", "/healthz", 405, api.ReasonMethodInvalid, "GET, HEAD", ""},
		{"WrongMethodTwoAllowed", "GET", "/things/save", 405, api.ReasonMethodInvalid, "POST, DELETE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &request{}
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r = r.WithContext(contextWith(r, rec))
			w := httptest.NewRecorder()
			routed(mux).ServeHTTP(w, r)
			if w.Code != tt.status || w.Header().Get("Allow") != tt.allow || rec.route != tt.route {
				t.Errorf("got %d Allow %q route %q, want %d %q %q", w.Code, w.Header().Get("Allow"), rec.route, tt.status, tt.allow, tt.route)
			}
			if tt.reason != "" && (!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || !strings.Contains(w.Body.String(), `"reason":"`+tt.reason+`"`)) {
				t.Errorf("got %q %s, want the paint envelope with %q", w.Header().Get("Content-Type"), w.Body, tt.reason)
			}
		})
	}
}

func TestRequestIDHandlerWithAttrsKeepsID(t *testing.T) {
	var buf bytes.Buffer
	logger := withRequestIDs(withRequestIDs(slog.New(slog.NewTextHandler(&buf, nil)))).With("k", "v")
	r := httptest.NewRequest("GET", "/", nil)
	logger.InfoContext(contextWith(r, &request{id: "rid-1"}), "x")
	if got := buf.String(); strings.Count(got, "request_id=rid-1") != 1 || !strings.Contains(got, "k=v") {
		t.Errorf("got %q, want k=v and request_id=rid-1 once", got)
	}
}

// contextWith is r's context with rec as its request record, as track makes it.
func contextWith(r *http.Request, rec *request) context.Context {
	return context.WithValue(r.Context(), requestKey{}, rec)
}

// A quick success is logged at DEBUG (not shown at the default level),
// anything an operator should look at at INFO.
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
			_, lines := trackedLogs(t, func(*slog.Logger) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					time.Sleep(tt.delay)
					w.WriteHeader(tt.status)
				})
			}, httptest.NewRequest("GET", "/x", nil))
			want := "DEBUG"
			if tt.logged {
				want = "INFO"
			}
			if len(lines) != 1 || lines[0]["level"] != want {
				t.Errorf("got %v, want one access line at %s", lines, want)
			}
		})
	}
}
