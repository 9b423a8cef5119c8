package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/yibi/yibi/wxsession"
)

// Session envelope names the client SDK reacts to, from the session
// library (a client of the protocol speaks its words).
const (
	reasonSessionExpired = wxsession.ReasonSessionExpired
	reasonExchangeFailed = wxsession.ReasonExchangeFailed
	envelopeMagic        = wxsession.EnvelopeKey
	// maxRetries is the 2016 client's bound on re-logins for one request.
	maxRetries = 3
	// maxAnswerBytes bounds an answer body; a list of a thousand big
	// drawings fits.
	maxAnswerBytes = 64 << 20
)

// simClient is what the load generator needs from the WeChat simulator:
// wx.login and wx.getUserInfo. *wechatsim.Remote satisfies it.
type simClient interface {
	Login(ctx context.Context, user string) (code string, err error)
	UserInfo(ctx context.Context, user string) (rawData, signature string, err error)
}

// outcome is the result of one operation, after any re-logins.
type outcome struct {
	ok bool
	// kind classifies a failure for the report ("" when ok); example is
	// one full message of that kind.
	kind, example string
	// answered is false when no answer arrived (transport error, timeout,
	// cancel): the server may or may not have done the work.
	answered bool
	// canceled marks a failure caused by the run being interrupted, which
	// is not counted as an error.
	canceled bool
	// throttled marks a 429 or 503 answer whose back-off the end of the
	// run cut short: the server asked for less load and got it, which is
	// not an error either.
	throttled bool
	// data is the success envelope's data (the list for list).
	data json.RawMessage
}

// do sends one operation for u the way the 2016 client SDK does: log in
// first if u has no session (all three headers on that request), only
// X-WX-Code afterwards, and on ERR_SESSION_EXPIRED or
// ERR_SESSION_KEY_EXCHANGE_FAILED forget the code, log in again and
// resend, at most maxRetries times.
//
// A 429 or 503 answer is the server asking for less load: do waits as
// backOff says and resends, at most maxBackoffs times per operation.
func (r *runner) do(ctx context.Context, u *user, op, method, path string, body []byte) outcome {
	backoffs := 0
	for attempt := 0; ; attempt++ {
		login := u.code == ""
		var rawData, signature string
		if login {
			start := time.Now()
			code, raw, sig, err := r.simLogin(ctx, u.name)
			r.stats.record(OpSim, time.Since(start))
			if err != nil {
				return r.failure(ctx, err, "sim")
			}
			u.code, rawData, signature = code, raw, sig
		}
		req, cancel, err := r.newRequest(ctx, method, path, body)
		if err != nil {
			return outcome{kind: "bad request", example: err.Error()}
		}
		req.Header.Set("X-WX-Code", u.code)
		if login {
			req.Header.Set("X-WX-RawData", wxsession.EncodeRawData(rawData))
			req.Header.Set("X-WX-Signature", signature)
		}
		start := time.Now()
		status, header, answer, err := r.send(req)
		d := time.Since(start)
		cancel()
		r.stats.record(op, d)
		if login {
			r.stats.record(OpLogin, d)
		}
		if err != nil {
			if login {
				// The server may not have stored the session: log in
				// again next time rather than guess.
				u.code = ""
			}
			return r.failure(ctx, err, "")
		}
		out := classify(status, answer)
		if out.ok {
			return out
		}
		if throttled(status) && backoffs < maxBackoffs {
			r.stats.throttle(out.kind)
			if login {
				// The server refused before the exchange (429) or may
				// have exchanged the code (503): a fresh login next
				// time is right either way.
				u.code = ""
			}
			if !r.backOff(ctx, backoffs, header.Get("Retry-After"), u.rng.Int64N) {
				out.throttled, out.canceled = true, ctx.Err() != nil
				return out
			}
			backoffs++
			attempt--
			continue
		}
		if reason, isEnv := sessionReason(answer); isEnv && (reason == reasonSessionExpired || reason == reasonExchangeFailed) {
			u.code = ""
			if attempt < maxRetries {
				r.stats.relogin(reason)
				continue
			}
		}
		return out
	}
}

// simLogin does wx.login then wx.getUserInfo against the simulator.
func (r *runner) simLogin(ctx context.Context, name string) (code, rawData, signature string, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	code, err = r.sim.Login(ctx, name)
	if err != nil {
		return "", "", "", fmt.Errorf("sim login: %w", err)
	}
	rawData, signature, err = r.sim.UserInfo(ctx, name)
	if err != nil {
		return "", "", "", fmt.Errorf("sim userinfo: %w", err)
	}
	return code, rawData, signature, nil
}

func (r *runner) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if body != nil {
		// wx.request's default content type.
		req.Header.Set("Content-Type", "application/json")
	}
	return req, cancel, nil
}

// send does the request and reads the whole answer, so that the timeout
// covers the body too and the connection goes back to the pool.
func (r *runner) send(req *http.Request) (int, http.Header, []byte, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

// failure turns a transport or simulator error into an outcome.
func (r *runner) failure(ctx context.Context, err error, prefix string) outcome {
	out := outcome{example: err.Error()}
	if ctx.Err() != nil {
		out.kind, out.canceled = "canceled", true
		return out
	}
	out.kind = transportKind(err)
	if prefix != "" {
		out.kind = prefix + " " + out.kind
	}
	return out
}

// transportKind names a transport failure by its cause, never by its
// message, so that the report's kinds stay few.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "transport: connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "transport: " + op.Op
	}
	return "error"
}

// classify reads an answer: the paint API's success envelope is ok;
// anything else gets a kind made of the status and the envelope's reason.
func classify(status int, answer []byte) outcome {
	out := outcome{answered: true}
	var env struct {
		Code  *int            `json:"code"`
		Data  json.RawMessage `json:"data"`
		Error struct {
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if err := json.Unmarshal(answer, &env); err != nil {
		out.kind = fmt.Sprintf("HTTP %d, not JSON", status)
		out.example = snippet(answer)
		return out
	}
	if reason, ok := sessionReason(answer); ok {
		if reason == "" {
			reason = "no reason"
		}
		out.kind = fmt.Sprintf("HTTP %d, session %s", status, reason)
		out.example = snippet(answer)
		return out
	}
	switch {
	case env.Code != nil && *env.Code == 0 && status >= 200 && status < 300:
		out.ok, out.data = true, env.Data
	case env.Code != nil && *env.Code == 0:
		out.kind = fmt.Sprintf("HTTP %d with a success body", status)
	case env.Code != nil:
		out.kind = fmt.Sprintf("HTTP %d, fail %q", status, shorten(env.Error.Reason, 80))
	default:
		out.kind = fmt.Sprintf("HTTP %d, no envelope", status)
	}
	if !out.ok {
		out.example = snippet(answer)
	}
	return out
}

// sessionReason reports whether answer is the session layer's error
// envelope, and its reason.
func sessionReason(answer []byte) (string, bool) {
	if !bytes.Contains(answer, []byte(envelopeMagic)) {
		return "", false
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(answer, &env) != nil {
		return "", false
	}
	if _, ok := env[envelopeMagic]; !ok {
		return "", false
	}
	var reason string
	_ = json.Unmarshal(env["reason"], &reason)
	return reason, true
}

func snippet(b []byte) string { return shorten(strings.TrimSpace(string(b)), 200) }

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
