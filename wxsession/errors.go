package wxsession

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
)

// Reasons of the session error envelope (the "reason" field). The 2016
// client retries a login on ReasonSessionExpired and ReasonExchangeFailed
// and fails the call on anything else, including an absent reason.
const (
	// ReasonSessionExpired: X-WX-Code is not (or no longer) a live session.
	ReasonSessionExpired = "ERR_SESSION_EXPIRED"
	// ReasonExchangeFailed: WeChat refused the code, or could not be asked.
	ReasonExchangeFailed = "ERR_SESSION_KEY_EXCHANGE_FAILED"
	// ReasonUntrustedRawData: X-WX-Signature does not match rawData.
	ReasonUntrustedRawData = "ERR_UNTRUSTED_RAW_DATA"
	// ReasonBadRequest (v2, 400): a malformed request, such as two
	// Authorization headers, another scheme than Bearer, or a bearer
	// token with v1 headers. v1 answers malformed input with no reason.
	ReasonBadRequest = "ERR_BAD_REQUEST"
	// ReasonRateLimited (v2, 429): too many requests; the app's rate
	// limit answers it with WriteError.
	ReasonRateLimited = "ERR_RATE_LIMITED"
	// ReasonSessionKeyStale (v2, 401): WeChat no longer accepts the
	// session's session_key (or it was sealed under another
	// Config.Secret); the client calls wx.login, logs in and resends.
	ReasonSessionKeyStale = "ERR_SESSION_KEY_STALE"
)

// Results passed to Config.OnLogin besides the reasons above. They are
// labels for metrics and logs only; clients never see them.
const (
	// ResultOK: the login succeeded.
	ResultOK = "ok"
	// ResultBadRequest: X-WX-RawData or X-WX-Code was malformed or too large.
	ResultBadRequest = "ERR_BAD_REQUEST"
	// ResultStoreUnavailable: the session store failed.
	ResultStoreUnavailable = "ERR_SESSION_STORE_UNAVAILABLE"
	// ResultClientClosed: the client went away while the store was asked.
	ResultClientClosed = "ERR_CLIENT_CLOSED"
)

// StatusClientClosed is the status recorded for a request whose client
// went away before its answer (nginx's 499); no client reads it.
const StatusClientClosed = 499

// Sentinel errors returned by this package and its stores. The middleware
// answers clients with envelopes, never with these texts.
var (
	// ErrStoreUnavailable is wrapped by stores for system faults (the
	// server is down, a timeout). The middleware answers such errors, and
	// any other store error, with 503.
	ErrStoreUnavailable = errors.New("wxsession: session store unavailable")
	// ErrConfig is wrapped by New for an unusable Config, and by the
	// methods that need a Config field that is not set.
	ErrConfig = errors.New("wxsession: invalid config")
	// ErrNoSession is returned by Decrypt for a request without a session.
	ErrNoSession = errors.New("wxsession: no session")
	// ErrSessionKeyStale is returned by Decrypt when the session's
	// session_key is no longer WeChat's (SessionKeyChecker said so) or no
	// longer opens (Config.Secret changed): answer it with 401
	// ReasonSessionKeyStale.
	ErrSessionKeyStale = errors.New("wxsession: session key stale")
)

// Errors the middleware logs (never returns): why it refused a request.
var (
	errExchange    = errors.New("wxsession: code exchange failed")
	errUntrusted   = errors.New("wxsession: untrusted rawData")
	errBadRawData  = errors.New("wxsession: malformed rawData")
	errBadCode     = errors.New("wxsession: malformed code")
	errAmbiguous   = errors.New("wxsession: session header sent more than once")
	errStoreFailed = errors.New("wxsession: store")
	errKeyStale    = errors.New("wxsession: kept session key does not open")
)

// EnvelopeKey is the key that marks a JSON answer as the session layer's:
// the envelope holds it with the value 1. Clients (and tests) look for it;
// answers are written by WriteError alone.
const EnvelopeKey = "F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"

// WriteError answers with the session error envelope, the one writer of
// it (the middleware's refusals and other layers that answer for the
// session layer, such as a login rate limit, all use it):
//
//	{"F2C224D4-2BCE-4C64-AF9F-A6D872000D1A":1,"reason":"…","error":{"name":"Error","message":"…"}}
//
// with the given HTTP status. An empty reason is left out of the object, as
// the 2016 server did for malformed input. message reaches the client: it
// must not hold internal error text.
func WriteError(w http.ResponseWriter, status int, reason, message string) {
	writeError(w, status, reason, message, "")
}

// writeError is WriteError with the optional "detail" field.
func writeError(w http.ResponseWriter, status int, reason, message, detail string) {
	var b bytes.Buffer
	b.Grow(160)
	b.WriteString(`{"` + EnvelopeKey + `":1`)
	if reason != "" {
		b.WriteString(`,"reason":`)
		writeString(&b, reason)
	}
	b.WriteString(`,"error":{"name":"Error","message":`)
	writeString(&b, message)
	if detail != "" {
		b.WriteString(`,"detail":`)
		writeString(&b, detail)
	}
	b.WriteString("}}\n")
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	// Session answers depend on per-user headers: never cache them.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
