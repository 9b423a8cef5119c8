// Package api serves the 一笔到底 paint API ({base}/session/paints/list, save,
// delete of 2016; get and append of Yibi) in the 2016 envelope: {"code":0,"msg":"success","data":…} or
// {"code":-1,"msg":"fail","error":{"reason":"…"}}.
package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/picture"
	"github.com/yibi/yibi/wxsession"
)

// Reasons the API sends besides paint.Validate's.
const (
	ReasonNoUser        = "openId does not exists"
	ReasonLimit         = "too many paints"
	ReasonQuota         = "storage quota exceeded"
	ReasonPaintFull     = "paint is full"
	ReasonNotArray      = "stored actions are not an array"
	ReasonConflict      = "revision conflict"
	ReasonBadRev        = "rev is invalid"
	ReasonBadLimit      = "limit is invalid"
	ReasonBadCursor     = "cursor is invalid"
	ReasonUnavailable   = "store unavailable"
	ReasonInternal      = "internal error"
	ReasonTooLarge      = "request body too large"
	ReasonBadBody       = "request body could not be read"
	ReasonBodyNotUTF8   = "request body is not valid UTF-8"
	ReasonBodyTimeout   = "request body timed out"
	ReasonContentType   = "content type must be application/json or application/x-www-form-urlencoded"
	ReasonClientClosed  = "client closed request"
	ReasonNotFound      = "not found"
	ReasonMethodInvalid = "method not allowed"
)

// DefaultMaxUserBytes is the per-user quota when Config.MaxUserBytes is 0:
// sixteen full 1 MiB drawings, or hundreds of ordinary ones. It bounds
// what one user can make the server store, and so a list's length.
const DefaultMaxUserBytes = 16 << 20

// MaxPageLimit is the largest limit a paged list accepts.
const MaxPageLimit = 100

// Config configures Handler.
type Config struct {
	Store            paint.Store
	BasePath         string                                   // e.g. /applet
	OpenID           func(ctx context.Context) (string, bool) // the session user's openId
	MaxActionsBytes  int                                      // one paint's actions; 0 = paint.DefaultMaxActionsBytes
	MaxPaintsPerUser int                                      // paints one user may keep; 0 = no bound
	// MaxUserBytes is the total size of one user's actions: 0 means
	// DefaultMaxUserBytes, a negative value no quota.
	MaxUserBytes int64
	MaxBodyBytes int64
	Logger       *slog.Logger
	Now          func() time.Time
	// StoreTimeout bounds the time one request spends at its store (all
	// of a save's round trips together); then it answers 503 store
	// unavailable, before a client gives up on its own. 0 = no bound.
	StoreTimeout time.Duration
	// Pictures, if set, serves GET …/image (image.go).
	Pictures *picture.Renderer
	// Shares, if set, serves POST …/share and …/unshare (share.go), and
	// delete ends a paint's link.
	Shares paint.ShareStore
}

type item struct {
	ID        string    `json:"id"`
	Actions   string    `json:"actions"`
	Rev       int64     `json:"rev,omitzero"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
}

// bareItem is a list item without its actions (?actions=0).
type bareItem struct {
	ID        string    `json:"id"`
	Rev       int64     `json:"rev,omitzero"`
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
	if cfg.MaxActionsBytes <= 0 {
		cfg.MaxActionsBytes = paint.DefaultMaxActionsBytes
	}
	lim := paint.Limits{Paints: cfg.MaxPaintsPerUser, UserBytes: cfg.MaxUserBytes, ActionsBytes: cfg.MaxActionsBytes}
	switch {
	case cfg.MaxUserBytes == 0:
		lim.UserBytes = DefaultMaxUserBytes
	case cfg.MaxUserBytes < 0:
		lim.UserBytes = 0
	}
	a := &api{cfg: cfg, lim: lim}
	mux := http.NewServeMux()
	p := cfg.BasePath + "/session/paints/"
	mux.HandleFunc("GET "+p+"list", a.list)
	mux.HandleFunc("GET "+p+"get", a.get)
	mux.HandleFunc("POST "+p+"save", a.save)
	mux.HandleFunc("POST "+p+"append", a.append)
	mux.HandleFunc("POST "+p+"delete", a.del)
	if cfg.Pictures != nil {
		mux.HandleFunc("GET "+p+"image", a.image)
	}
	if cfg.Shares != nil {
		mux.HandleFunc("POST "+p+"share", a.share)
		mux.HandleFunc("POST "+p+"unshare", a.unshare)
	}
	return mux
}

type api struct {
	cfg Config
	lim paint.Limits
}

// storeCtx is the context of a request's store calls: the request's,
// bounded by StoreTimeout.
func (a *api) storeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	if a.cfg.StoreTimeout <= 0 {
		return r.Context(), func() {}
	}
	return context.WithTimeout(r.Context(), a.cfg.StoreTimeout)
}

var (
	errNoUser      = errors.New("api: no session user")
	errContentType = errors.New("api: unsupported content type")
	errBody        = errors.New("api: request body could not be read")
	errBodyTimeout = errors.New("api: request body timed out")
	errBodyUTF8    = errors.New("api: request body is not valid UTF-8")
)

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

// list streams the caller's paints (stream.go): the answer never sits
// whole in memory. Without limit and cursor it is the v1 answer, byte for
// byte; with them, a page and the cursor of the next one. ?actions=0
// leaves the actions out (the store does not send them), for a gallery
// of server-drawn pictures.
func (a *api) list(w http.ResponseWriter, r *http.Request) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	page, paged, err := parsePage(q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// v1 list items are exactly {id, actions}; the times and the revision
	// are an opt-in addition (?timestamps=1), so that no v1 answer changes.
	stamps := wantTimestamps(r)
	page.NoActions = !wantActions(r)
	want := page.Limit
	if paged {
		page.Limit++ // one more tells whether there is a next page
	}
	ctx, cancel := a.storeCtx(r)
	defer cancel()
	st := newStream(w, r)
	defer st.release()
	st.text(`{"code":0,"data":[`)
	n := 0
	var last paint.Paint
	err = a.cfg.Store.List(ctx, uid, page, func(p paint.Paint) error {
		if paged && n == want {
			n++
			return nil
		}
		if n > 0 {
			st.append(',')
		}
		n++
		last = p
		switch {
		case page.NoActions:
			it := bareItem{ID: p.ID}
			if stamps {
				it.Rev, it.CreatedAt, it.UpdatedAt = p.Rev, p.CreatedAt, p.UpdatedAt
			}
			b, err := json.Marshal(it)
			if err != nil {
				return err
			}
			st.append(b...)
		case stamps:
			b, err := json.Marshal(item{ID: p.ID, Actions: p.Actions, Rev: p.Rev, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt})
			if err != nil {
				return err
			}
			st.append(b...)
		default:
			st.appendItem(p)
		}
		return st.flushIfFull()
	})
	if err != nil {
		if st.started() {
			// Too late for an error answer: end the response broken, so
			// the client sees a failure, not a short list.
			a.logStoreErr(r, err)
			panic(http.ErrAbortHandler)
		}
		st.discard()
		a.fail(w, r, err)
		return
	}
	st.text(`],"msg":"success"`)
	if paged && n > want {
		st.text(`,"next":`)
		st.appendString(encodeCursor(paint.CursorOf(last)))
	}
	st.text("}\n")
	st.finish()
}

// wantTimestamps reports whether a list asked for createdAt/updatedAt.
func wantTimestamps(r *http.Request) bool {
	switch r.URL.Query().Get("timestamps") {
	case "1", "true":
		return true
	}
	return false
}

// wantActions reports whether a list is to carry the actions: unless it
// asked for ?actions=0 (or false), as every v1 list does.
func wantActions(r *http.Request) bool {
	switch r.URL.Query().Get("actions") {
	case "0", "false":
		return false
	}
	return true
}

// parsePage reads ?limit= and ?cursor=; paged reports that either was
// given.
func parsePage(q url.Values) (page paint.Page, paged bool, err error) {
	if !q.Has("limit") && !q.Has("cursor") {
		return paint.Page{}, false, nil
	}
	page.Limit = MaxPageLimit
	if s := q.Get("limit"); s != "" || q.Has("limit") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageLimit {
			return page, true, &paint.InvalidError{Reason: ReasonBadLimit}
		}
		page.Limit = n
	}
	if s := q.Get("cursor"); s != "" {
		c, err := decodeCursor(s)
		if err != nil {
			return page, true, err
		}
		page.After = &c
	}
	return page, true, nil
}

// encodeCursor makes the opaque next-page cursor: the position's
// millisecond and id, base64url.
func encodeCursor(c paint.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixMilli(), 10) + ":" + c.ID))
}

func decodeCursor(s string) (paint.Cursor, error) {
	bad := &paint.InvalidError{Reason: ReasonBadCursor}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return paint.Cursor{}, bad
	}
	msText, id, ok := strings.Cut(string(b), ":")
	ms, err := strconv.ParseInt(msText, 10, 64)
	if !ok || err != nil || paint.ValidateID(id) != nil {
		return paint.Cursor{}, bad
	}
	return paint.Cursor{CreatedAt: time.UnixMilli(ms), ID: id}, nil
}

// get answers one paint whole, with its revision and times.
func (a *api) get(w http.ResponseWriter, r *http.Request) {
	p, ok := a.ownPaint(w, r)
	if !ok {
		return
	}
	b, err := json.Marshal(&okEnvelope{Code: 0, Msg: "success",
		Data: item{ID: p.ID, Actions: p.Actions, Rev: p.Rev, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	st := newStream(w, r)
	defer st.release()
	st.append(b...)
	st.append('\n')
	st.finish()
}

// ownPaint reads the caller's paint ?id=, or answers the failure and
// returns false. Another user's id is not found: it is never read.
func (a *api) ownPaint(w http.ResponseWriter, r *http.Request) (paint.Paint, bool) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return paint.Paint{}, false
	}
	id := r.URL.Query().Get("id")
	if err := paint.ValidateID(id); err != nil {
		a.fail(w, r, err)
		return paint.Paint{}, false
	}
	ctx, cancel := a.storeCtx(r)
	p, err := a.cfg.Store.Get(ctx, uid, id)
	cancel()
	if err != nil {
		a.fail(w, r, err)
		return paint.Paint{}, false
	}
	return p, true
}

// readBody reads a save or delete body (ReadBody with the API's types and
// limit).
func (a *api) readBody(w http.ResponseWriter, r *http.Request) ([]byte, string, error) {
	return ReadBody(w, r, a.cfg.MaxBodyBytes, "application/json", "application/x-www-form-urlencoded")
}

// MediaType returns the media type of r's body: its one Content-Type
// header, holding one type. ok is false for none, two headers, or one that
// does not parse: what the body is would be ambiguous.
func MediaType(r *http.Request) (mt string, ok bool) {
	types := r.Header.Values("Content-Type")
	if len(types) != 1 {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(types[0])
	return mt, err == nil
}

// ReadBody reads a whole request body of one of types (media types), at
// most max bytes, so framing errors, a body shorter than its
// Content-Length and anything after it are seen before the request is
// served. It returns the media type. Its errors are answered by
// FailBody: a type not in types 415, a Content-Length over max 413 before
// the first read (so "Expect: 100-continue" gets 413, not "100
// Continue"), a body that stalls past the read timeout 408, one that
// cannot be read 400, a JSON body that is not UTF-8 400.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64, types ...string) ([]byte, string, error) {
	ct, ok := MediaType(r)
	if !ok || !slices.Contains(types, ct) {
		return nil, "", errContentType
	}
	if r.ContentLength > max {
		return nil, "", &http.MaxBytesError{Limit: max}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		return nil, "", BodyReadError(err)
	}
	if ct == "application/json" && (!utf8.Valid(body) || loneSurrogate(body)) {
		return nil, "", errBodyUTF8
	}
	return body, ct, nil
}

// loneSurrogate reports whether JSON text escapes half of a UTF-16
// surrogate pair (`\ud800` alone): encoding/json would turn it into
// U+FFFD unseen, and what is stored would not be what was sent.
func loneSurrogate(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if i+1 < len(b) && b[i+1] != 'u' {
			i++ // an escaped character, perhaps a backslash
			continue
		}
		r, ok := hex4(b, i+2)
		switch {
		case !ok || r < 0xd800 || r > 0xdfff:
		case r >= 0xdc00:
			return true // a low half first
		default:
			low, ok := hex4(b, i+8)
			if !ok || i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' || low < 0xdc00 || low > 0xdfff {
				return true
			}
			i += 6
		}
		i += 5
	}
	return false
}

// hex4 reads four hex digits at b[i:], as a JSON \u escape holds them.
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// BodyReadError classifies an error met reading a request body (from
// http.MaxBytesReader or the connection) for FailBody: too large, timed
// out, or unreadable.
func BodyReadError(err error) error {
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		return err
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", errBodyTimeout, err)
	}
	return fmt.Errorf("%w: %w", errBody, err)
}

// FailBody answers err if it is a body's fault (ReadBody, BodyReadError,
// or JSON that does not decode), in the paint API's envelope, logged at
// DEBUG only: these are the client's faults. It reports whether it
// answered.
func FailBody(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) bool {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		Fail(w, http.StatusRequestEntityTooLarge, ReasonTooLarge)
	case errors.Is(err, errContentType):
		Fail(w, http.StatusUnsupportedMediaType, ReasonContentType)
	case errors.Is(err, errBodyUTF8):
		Fail(w, http.StatusBadRequest, ReasonBodyNotUTF8)
	case errors.Is(err, errBodyTimeout):
		log.DebugContext(r.Context(), "request body timed out", "path", r.URL.Path, "err", err)
		Fail(w, http.StatusRequestTimeout, ReasonBodyTimeout)
	case errors.Is(err, errBody) || isBodyError(err):
		log.DebugContext(r.Context(), "request body unreadable", "path", r.URL.Path, "err", err)
		Fail(w, http.StatusBadRequest, ReasonBadBody)
	default:
		return false
	}
	return true
}

// body reads a save or delete body: the string fields of a JSON object,
// or id and actions of a form.
func (a *api) body(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	body, ct, err := a.readBody(w, r)
	if err != nil {
		return nil, err
	}
	if ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errBody, err)
		}
		return map[string]string{"id": form.Get("id"), "actions": form.Get("actions")}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
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
	if _, err := a.cfg.Store.Save(ctx, p, a.lim); err != nil {
		a.fail(w, r, err)
		return
	}
	OK(w, struct{}{})
}

// appendBody is the body of an append. Actions stays raw: it is stored
// as the client wrote it.
type appendBody struct {
	ID      string          `json:"id"`
	Rev     *int64          `json:"rev"`
	Actions json.RawMessage `json:"actions"`
}

// append adds the body's actions to a paint at the revision the client
// has; see paint.Store.Append.
func (a *api) append(w http.ResponseWriter, r *http.Request) {
	uid, err := a.user(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body, ct, err := a.readBody(w, r)
	if err == nil && ct != "application/json" {
		err = errContentType // actions is an array: JSON only
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var in appendBody
	if err := json.Unmarshal(body, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	switch {
	case in.ID == "" || len(in.Actions) == 0 || string(in.Actions) == "null":
		err = &paint.InvalidError{Reason: paint.ReasonMissing}
	case in.Rev == nil || *in.Rev < 0:
		err = &paint.InvalidError{Reason: ReasonBadRev}
	case len(in.Actions) > a.cfg.MaxActionsBytes:
		err = &paint.InvalidError{Reason: paint.ReasonActionsTooLarge}
	default:
		// Not paint.ValidateActions, which would parse the actions a
		// second time: json.Unmarshal has checked that the whole body,
		// so in.Actions, is valid JSON, and readBody that it is valid
		// UTF-8. What is left is that the value is an array.
		if err = paint.ValidateID(in.ID); err == nil && in.Actions[0] != '[' {
			err = &paint.InvalidError{Reason: paint.ReasonActionsNotArray}
		}
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ctx, cancel := a.storeCtx(r)
	defer cancel()
	rev, err := a.cfg.Store.Append(ctx, uid, in.ID, *in.Rev, string(in.Actions), a.cfg.Now(), a.lim)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	OK(w, revData{Rev: rev})
}

// revData is the data of an append's answers, success or conflict.
type revData struct {
	Rev int64 `json:"rev"`
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
	if a.cfg.Shares != nil {
		// The link is dead already (a link shows only the paint it was
		// made for, share.go); this removes its row.
		if err := a.cfg.Shares.Unshare(ctx, uid, b["id"]); err != nil {
			a.logStoreErr(r, err)
		}
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
	Data  any         `json:"data,omitempty"` // only a conflict's current revision
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
// maxPooledBuffer (a big paint) are dropped, not kept.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 256 << 10

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		buf.Reset()
		buffers.Put(buf)
	}
}

// write encodes v whole before writing, so the answer goes out with a
// Content-Length rather than chunked, and an encoding failure can still
// be answered properly.
func write(w http.ResponseWriter, status int, v any) {
	buf := buffers.Get().(*bytes.Buffer)
	defer putBuffer(buf)
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
// detail is logged, never sent. The client's own failures (a body it did
// not send whole, a request it gave up on) are logged at debug level
// only: no client can fill the log.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var inv *paint.InvalidError
	var conflict *paint.ConflictError
	switch {
	case errors.Is(err, errNoUser):
		Fail(w, http.StatusUnauthorized, ReasonNoUser)
	case clientGone(r, err):
		// No one reads this answer; the status tells the access log and
		// the metrics what happened (nginx's "client closed request").
		a.cfg.Logger.DebugContext(r.Context(), "paint api: client went away", "path", r.URL.Path, "err", err)
		Fail(w, StatusClientClosed, ReasonClientClosed)
	case errors.Is(err, picture.ErrBusy):
		w.Header().Set("Retry-After", "1")
		Fail(w, http.StatusServiceUnavailable, ReasonBusy)
	case errors.As(err, &inv):
		Fail(w, http.StatusBadRequest, inv.Reason)
	case FailBody(w, r, a.cfg.Logger, err):
		// answered
	case errors.As(err, &conflict):
		write(w, http.StatusConflict, &failEnvelope{Code: -1, Data: revData{Rev: conflict.Rev}, Error: failureBody{Reason: ReasonConflict}, Msg: "fail"})
	case errors.Is(err, paint.ErrNotFound):
		Fail(w, http.StatusNotFound, ReasonNotFound)
	case errors.Is(err, paint.ErrLimit):
		Fail(w, http.StatusConflict, ReasonLimit)
	case errors.Is(err, paint.ErrQuota):
		Fail(w, http.StatusConflict, ReasonQuota)
	case errors.Is(err, paint.ErrTooLarge):
		Fail(w, http.StatusConflict, ReasonPaintFull)
	case errors.Is(err, paint.ErrNotArray):
		Fail(w, http.StatusConflict, ReasonNotArray)
	case errors.Is(err, paint.ErrUnavailable):
		a.logStoreErr(r, err)
		Fail(w, http.StatusServiceUnavailable, ReasonUnavailable)
	default:
		a.cfg.Logger.ErrorContext(r.Context(), "paint api", "path", r.URL.Path, "err", err)
		Fail(w, http.StatusInternalServerError, ReasonInternal)
	}
}

// StatusClientClosed is the status recorded for a request whose client
// hung up before its answer (nginx's 499), as the session layer records it.
const StatusClientClosed = wxsession.StatusClientClosed

// clientGone reports whether err comes from the request's client going
// away (its context cancelled), not from the store or the server.
func clientGone(r *http.Request, err error) bool {
	return errors.Is(r.Context().Err(), context.Canceled) && errors.Is(err, context.Canceled)
}

// logStoreErr logs a store failure met while answering r: a warning,
// unless the client went away, which is its choice and no store fault.
func (a *api) logStoreErr(r *http.Request, err error) {
	if clientGone(r, err) {
		a.cfg.Logger.DebugContext(r.Context(), "paint api: client went away", "path", r.URL.Path, "err", err)
		return
	}
	a.cfg.Logger.WarnContext(r.Context(), "paint store unavailable", "err", err)
}

// isBodyError: a body that is not the JSON asked for is the client's
// fault, so it answers 400, not 500. (Read errors are errBody.)
func isBodyError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te)
}
