package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/yibi/yibi/internal/api"
	"github.com/yibi/yibi/internal/metrics"
)

// request is the one record of a request's life in the server, as chi's
// route context is: made by track, the outermost middleware, and filled
// in on the way by the router (route), the session layer (user) and the
// response writer (status, bytes). Handlers further in replace the
// *http.Request (the session layer adds the user to its context), so what
// they learn comes back through this pointer in the context, the only one.
//
// One goroutine serves a request, so the fields need no lock; id is set
// before the record is shared and never changes, so loggers on other
// goroutines may read it.
type request struct {
	id     string
	route  string // the route table's pattern, "" when nothing matched
	user   string // the session user's openId, "" without one
	status int
	bytes  int64
}

type requestKey struct{}

// requestFrom returns the record of the request ctx belongs to, or nil.
func requestFrom(ctx context.Context) *request {
	rec, _ := ctx.Value(requestKey{}).(*request)
	return rec
}

// requestIDOK accepts an incoming X-Request-Id only when it is short and
// plain, so it is safe to log and echo.
var requestIDOK = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// writeLimits bound how long writing one answer may take: grace for an
// answer of no bytes, plus one second per rate bytes of it.
type writeLimits struct {
	grace time.Duration
	rate  int
}

// track makes each request's record and its response writer, runs next,
// then writes the access log line (at requestLevel) and the request
// metrics from the record. The request id is the client's X-Request-Id when it is plain,
// else a new one; it is sent back as X-Request-Id, and every log line
// written with the request's context carries it (see requestIDHandler).
func track(logger *slog.Logger, met *metrics.Metrics, lim writeLimits, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &request{id: r.Header.Get("X-Request-Id")}
		if !requestIDOK.MatchString(rec.id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			rec.id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", rec.id)
		rw := newResponseWriter(w, rec, lim)
		ctx := context.WithValue(r.Context(), requestKey{}, rec)
		next.ServeHTTP(rw, r.WithContext(ctx))
		if rec.status == 0 { // the handler wrote nothing: net/http answers 200
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		met.ObserveRequest(r.Method, rec.route, rec.status, d)
		// Never headers: they carry session codes.
		attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.String("duration", d.Round(time.Microsecond).String())}
		if rec.user != "" {
			attrs = append(attrs, slog.String("openId", rec.user))
		}
		logger.LogAttrs(ctx, requestLevel(rec.status, d), "request", attrs...)
	})
}

// slowRequest is the duration from which a successful request is logged
// at INFO.
const slowRequest = time.Second

// requestLevel is the level of a request's access line: DEBUG for a
// quick success (2xx, 3xx), INFO for a client or server error or a slow
// request. At the default level the log then shows what an operator acts
// on, and a load test or a busy day does not fill the disk with
// successes; YIBI_LOG_LEVEL=debug shows every request.
func requestLevel(status int, d time.Duration) slog.Level {
	if status < 400 && d < slowRequest {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// responseWriter is the server's one wrapper of http.ResponseWriter: it
// records the status and the bytes written into the request's record, and
// gives the answer a write deadline sized to it, so that a client that
// reads slowly or not at all cannot hold its connection forever (the
// server has no WriteTimeout, which would cut large answers to slow
// phones as well). Unwrap keeps http.NewResponseController working.
type responseWriter struct {
	http.ResponseWriter
	rec      *request
	rc       *http.ResponseController
	lim      writeLimits
	started  time.Time // when the answer began to be written; zero before
	deadline time.Time // the write deadline last set
}

func newResponseWriter(w http.ResponseWriter, rec *request, lim writeLimits) *responseWriter {
	rw := &responseWriter{ResponseWriter: w, rec: rec, rc: http.NewResponseController(w), lim: lim}
	// A keep-alive connection keeps the deadline of its previous answer;
	// this answer's own is set when it starts to be written.
	_ = rw.rc.SetWriteDeadline(time.Time{})
	return rw
}

// WriteHeader records the first final status (1xx answers are not final).
func (w *responseWriter) WriteHeader(code int) {
	if w.rec.status == 0 && code >= 200 {
		w.rec.status = code
		w.extendDeadline()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.rec.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.rec.bytes += int64(len(b))
	w.extendDeadline()
	n, err := w.ResponseWriter.Write(b)
	w.rec.bytes -= int64(len(b) - n)
	return n, err
}

// Unwrap lets http.NewResponseController reach the connection's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// extendDeadline sets the write deadline to the time since the answer
// started that its bytes so far are allowed: grace, plus one second per
// rate bytes (also covering what net/http still flushes after the handler
// returns). A writer that cannot set deadlines (a test recorder) is left
// without one.
func (w *responseWriter) extendDeadline() {
	if w.lim.rate <= 0 {
		return
	}
	if w.started.IsZero() {
		w.started = time.Now()
	}
	allowed := w.lim.grace + time.Duration(float64(w.rec.bytes)/float64(w.lim.rate)*float64(time.Second))
	d := w.started.Add(allowed)
	if d.Sub(w.deadline) < 10*time.Millisecond {
		return // not worth a system call
	}
	if err := w.rc.SetWriteDeadline(d); err == nil {
		w.deadline = d
	}
}

// requestIDHandler adds the request id to every record logged with a
// request's context, so that all the lines of one request (the access
// line, the session layer's, the paint API's) can be found by its id.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if rec := requestFrom(ctx); rec != nil {
		r.AddAttrs(slog.String("request_id", rec.id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// withRequestIDs returns logger with requestIDHandler in front of its
// handler (once: wrapping twice would log the id twice).
func withRequestIDs(logger *slog.Logger) *slog.Logger {
	if _, ok := logger.Handler().(requestIDHandler); ok {
		return logger
	}
	return slog.New(requestIDHandler{logger.Handler()})
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

// noteUser tells the request's record who the session user is, for the
// access log; it runs inside the session layer, which knows.
func noteUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok := openIDFromContext(r.Context()); ok {
			if rec := requestFrom(r.Context()); rec != nil {
				rec.user = id
			}
		}
		next.ServeHTTP(w, r)
	})
}
