// Package server wires yibi: configuration, stores, the session layer, the
// paint API, the browser app and the WeChat simulator, behind one handler.
package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/yibi/yibi/internal/api"
)

// requestIDOK accepts an incoming X-Request-Id only when it is short and
// plain, so it is safe to log and echo.
var requestIDOK = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap keeps http.NewResponseController working through the wrapper.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs method, path, status, duration and request id, at the
// level requestLevel picks; never headers, which carry session codes.
// openID, when set, names the user.
func logRequests(logger *slog.Logger, openID func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDOK.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", d, "request_id", id}
		if openID != nil {
			if u := openID(r); u != "" {
				attrs = append(attrs, "openId", u)
			}
		}
		logger.Log(r.Context(), requestLevel(sw.status, d), "request", attrs...)
	})
}

// slowRequest is the duration from which a successful request is logged
// at INFO.
const slowRequest = time.Second

// requestLevel is the level of a request's log line: DEBUG for a quick
// success (2xx, 3xx), INFO for a client or server error or a slow
// request. At the default level the log then shows what an operator acts
// on, and a load test or a busy day does not fill the disk with
// successes; YIBI_LOG_LEVEL=debug shows every request.
func requestLevel(status int, d time.Duration) slog.Level {
	if status < 400 && d < slowRequest {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// recoverPanics turns a panic into a logged 500 envelope instead of a
// dropped connection.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", v)
				api.Fail(w, http.StatusInternalServerError, api.ReasonInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
