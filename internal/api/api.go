// Package api serves the 一笔到底 paint API ({base}/session/paints/list, save,
// delete) in the 2016 envelope: {"code":0,"msg":"success","data":…} or
// {"code":-1,"msg":"fail","error":{"reason":"…"}}.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// Reasons the API sends besides paint.Validate's.
const (
	ReasonNoUser        = "openId does not exists"
	ReasonLimit         = "too many paints"
	ReasonUnavailable   = "store unavailable"
	ReasonInternal      = "internal error"
	ReasonTooLarge      = "request body too large"
	ReasonBadBody       = "request body could not be read"
	ReasonContentType   = "content type must be application/json or application/x-www-form-urlencoded"
	ReasonNotFound      = "not found"
	ReasonMethodInvalid = "method not allowed"
)

// Config configures Handler.
type Config struct {
	Store            paint.Store
	BasePath         string                                   // e.g. /applet
	OpenID           func(ctx context.Context) (string, bool) // the session user's openId
	MaxActionsBytes  int
	MaxPaintsPerUser int
	MaxBodyBytes     int64
	Logger           *slog.Logger
	Now              func() time.Time
	// StoreTimeout bounds the time one request spends at its store (all
	// of a save's round trips together); then it answers 503 store
	// unavailable, before a client gives up on its own. 0 = no bound.
	StoreTimeout time.Duration
}

type item struct {
	ID        string    `json:"id"`
	Actions   string    `json:"actions"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// Handler returns the routed paint API.
func Handler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &api{cfg}
	mux := http.NewServeMux()
	p := cfg.BasePath + "/session/paints/"
	mux.HandleFunc("GET "+p+"list", a.list)
	mux.HandleFunc("POST "+p+"save", a.save)
	mux.HandleFunc("POST "+p+"delete", a.del)
	return mux
}

type api struct{ cfg Config }

// storeCtx is the context of a request's store calls: the request's,
// bounded by StoreTimeout.
func (a *api) storeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	if a.cfg.StoreTimeout <= 0 {
		return r.Context(), func() {}
	}
	return context.WithTimeout(r.Context(), a.cfg.StoreTimeout)
}

var errNoUser = errors.New("api: no session user")
var errContentType = errors.New("api: unsupported content type")

func (a *api) user(r *http.Request) (string, error) {
	if a.cfg.OpenID == nil {
		return "", errNoUser
	}
	id, ok := a.cfg.OpenID(r.Context())
	if !ok || id == "" {
		return "", errNoUser
	}
	return id, nil
}

func (a *api) list(w http.ResponseWriter, r *http.Request) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ctx, cancel := a.storeCtx(r)
	ps, err := a.cfg.Store.List(ctx, uid)
	cancel()
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// v1 list items are exactly {id, actions}; the times are an opt-in
	// addition (?timestamps=1), so that no v1 answer changes.
	stamps := wantTimestamps(r)
	if !stamps {
		writeList(w, ps)
		return
	}
	out := make([]item, 0, len(ps))
	for _, p := range ps {
		it := item{ID: p.ID, Actions: p.Actions}
		if stamps {
			it.CreatedAt, it.UpdatedAt = p.CreatedAt, p.UpdatedAt
		}
		out = append(out, it)
	}
	OK(w, out)
}

// wantTimestamps reports whether a list asked for createdAt/updatedAt.
func wantTimestamps(r *http.Request) bool {
	switch r.URL.Query().Get("timestamps") {
	case "1", "true":
		return true
	}
	return false
}

func (a *api) body(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "":
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		out := map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out, nil
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return map[string]string{"id": r.PostForm.Get("id"), "actions": r.PostForm.Get("actions")}, nil
	}
	return nil, errContentType
}

func (a *api) save(w http.ResponseWriter, r *http.Request) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, err := a.body(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := a.cfg.Now()
	p := paint.Paint{OpenID: uid, ID: b["id"], Actions: b["actions"], CreatedAt: now, UpdatedAt: now}
	if err := paint.Validate(p, a.cfg.MaxActionsBytes); err != nil {
		a.fail(w, r, err)
		return
	}
	ctx, cancel := a.storeCtx(r)
	defer cancel()
	if _, err := a.cfg.Store.Save(ctx, p, a.cfg.MaxPaintsPerUser); err != nil {
		a.fail(w, r, err)
		return
	}
	OK(w, struct{}{})
}

// del keeps the 2016 behaviour: deleting a paint that does not exist (or is
// someone else's) still answers success, since 2016 used remove() blindly.
func (a *api) del(w http.ResponseWriter, r *http.Request) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	b, err := a.body(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if b["id"] == "" {
		a.fail(w, r, &paint.InvalidError{Reason: paint.ReasonMissing})
		return
	}
	ctx, cancel := a.storeCtx(r)
	defer cancel()
	if err := a.cfg.Store.Delete(ctx, uid, b["id"]); err != nil && !errors.Is(err, paint.ErrNotFound) {
		a.fail(w, r, err)
		return
	}
	OK(w, struct{}{})
}

// okEnvelope and failEnvelope are the two envelopes. Their fields are in
// the order encoding/json writes a map's keys (sorted), which is how the
// envelopes were first encoded: the bytes stay the same, without the cost
// of building and sorting a map on every answer.
type okEnvelope struct {
	Code int    `json:"code"`
	Data any    `json:"data"`
	Msg  string `json:"msg"`
}

type failEnvelope struct {
	Code  int         `json:"code"`
	Error failureBody `json:"error"`
	Msg   string      `json:"msg"`
}

type failureBody struct {
	Reason string `json:"reason"`
}

// OK writes the success envelope.
func OK(w http.ResponseWriter, data any) {
	write(w, http.StatusOK, &okEnvelope{Code: 0, Data: data, Msg: "success"})
}

// Fail writes the failure envelope with status and reason.
func Fail(w http.ResponseWriter, status int, reason string) {
	write(w, status, &failEnvelope{Code: -1, Error: failureBody{Reason: reason}, Msg: "fail"})
}

// buffers holds encoding buffers between answers. Buffers that grew past
// maxPooledBuffer (a list of big drawings) are dropped, not kept.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 256 << 10

// write encodes v whole before writing, so the answer goes out with a
// Content-Length rather than chunked, and an encoding failure can still
// be answered properly.
func write(w http.ResponseWriter, status int, v any) {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			buffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		// Only a data value that cannot be encoded gets here; no handler
		// of this package makes one.
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(buf).Encode(&failEnvelope{Code: -1, Error: failureBody{Reason: ReasonInternal}, Msg: "fail"})
	}
	writeJSON(w, status, buf.Bytes())
}

// writeJSON writes an encoded answer with its headers.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// listBuffers holds writeList's buffers between answers.
var listBuffers = sync.Pool{New: func() any { return new([]byte) }}

// writeList writes the success envelope of a v1 list (items {id, actions})
// encoded by hand: the bytes OK(w, items) writes, without reflection and
// with a faster escape of the actions strings (appendJSONString), which
// were most of the encoding's time.
func writeList(w http.ResponseWriter, ps []paint.Paint) {
	bp := listBuffers.Get().(*[]byte)
	b := append((*bp)[:0], `{"code":0,"data":[`...)
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, p.ID)
		b = append(b, `,"actions":`...)
		b = appendJSONString(b, p.Actions)
		b = append(b, '}')
	}
	b = append(b, "],\"msg\":\"success\"}\n"...)
	writeJSON(w, http.StatusOK, b)
	if cap(b) <= maxPooledBuffer {
		*bp = b
		listBuffers.Put(bp)
	}
}

// plainJSON[c] is true for the bytes that encoding/json writes as they are
// in a string (with HTML escaping, its default): printable ASCII but
// '"', '\\', '<', '>' and '&', and DEL.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string, exactly as encoding/json
// encodes it. It handles printable ASCII itself, the whole of a drawing's
// actions, at about twice encoding/json's speed (no small copies); from
// the first other byte on it hands the rest of s to encoding/json, whose
// escaping of a byte or rune never depends on what precedes it.
func appendJSONString(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s)+len(s)/4+2)
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case plainJSON[c]:
			dst = append(dst, c)
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		default:
			rest, _ := json.Marshal(s[i:]) // a string always encodes
			dst = append(dst, rest[1:len(rest)-1]...)
			return append(dst, '"')
		}
	}
	return append(dst, '"')
}

// fail is the one place mapping errors to status and reason; internal
// detail is logged, never sent.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var inv *paint.InvalidError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, errNoUser):
		Fail(w, http.StatusUnauthorized, ReasonNoUser)
	case errors.As(err, &inv):
		Fail(w, http.StatusBadRequest, inv.Reason)
	case errors.As(err, &tooBig):
		Fail(w, http.StatusRequestEntityTooLarge, ReasonTooLarge)
	case errors.Is(err, errContentType):
		Fail(w, http.StatusUnsupportedMediaType, ReasonContentType)
	case errors.Is(err, paint.ErrLimit):
		Fail(w, http.StatusConflict, ReasonLimit)
	case errors.Is(err, paint.ErrUnavailable):
		a.cfg.Logger.WarnContext(r.Context(), "paint store unavailable", "err", err)
		Fail(w, http.StatusServiceUnavailable, ReasonUnavailable)
	case isBodyError(err):
		Fail(w, http.StatusBadRequest, ReasonBadBody)
	default:
		a.cfg.Logger.ErrorContext(r.Context(), "paint api", "path", r.URL.Path, "err", err)
		Fail(w, http.StatusInternalServerError, ReasonInternal)
	}
}

// isBodyError: malformed or truncated bodies are the client's fault, so
// they answer 400, not 500.
func isBodyError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
