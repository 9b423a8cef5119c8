package server

import (
	"mime"
	"net/http"
	"strings"

	"github.com/yibi/yibi/internal/api"
)

// jsonErrors makes every error answer JSON. Handlers of yibi answer errors
// in an envelope already; the rest of net/http does not: the ServeMux
// answers unknown paths (404) and wrong methods (405, with Allow) in plain
// text, http.MaxBytesReader and http.Error likewise. Such an answer is
// replaced by the paint API's failure envelope with the same status and
// headers (Allow, Retry-After survive). The redirects ServeMux makes for
// unclean paths lose their little HTML body.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&errorWriter{ResponseWriter: w}, r)
	})
}

type errorWriter struct {
	http.ResponseWriter
	wroteHeader bool
	discard     bool // the handler's body is replaced or dropped
}

func (w *errorWriter) WriteHeader(code int) {
	if w.wroteHeader {
		w.ResponseWriter.WriteHeader(code) // let net/http report the superfluous call
		return
	}
	w.wroteHeader = true
	h := w.Header()
	switch {
	case code >= 400 && !isJSON(h.Get("Content-Type")):
		w.discard = true
		h.Del("Content-Length")
		api.Fail(w.ResponseWriter, code, reasonFor(code))
		return
	case code >= 300 && code < 400 && h.Get("Location") != "" && strings.HasPrefix(h.Get("Content-Type"), "text/html"):
		w.discard = true
		h.Del("Content-Type")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap keeps http.NewResponseController working through the wrapper.
func (w *errorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// reasonFor is the envelope reason of an error status that no yibi handler
// chose the reason of.
func reasonFor(code int) string {
	switch {
	case code == http.StatusNotFound:
		return api.ReasonNotFound
	case code == http.StatusMethodNotAllowed:
		return api.ReasonMethodInvalid
	case code == http.StatusRequestEntityTooLarge:
		return api.ReasonTooLarge
	case code >= 500:
		return api.ReasonInternal
	}
	return strings.ToLower(http.StatusText(code))
}
