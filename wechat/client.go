package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is WeChat's API server.
const DefaultBaseURL = "https://api.weixin.qq.com"

// ErrUnavailable wraps every failure to get an answer from WeChat: the
// network, a timeout, or an answer that is not WeChat's JSON. Such an
// exchange may be retried with the same code; a *Error may not.
var ErrUnavailable = errors.New("wechat: unavailable")

// ErrBadAnswer is wrapped, together with ErrUnavailable, by answers that
// arrived but are not what WeChat answers (not JSON, fields missing), so
// that a caller can tell "WeChat answered garbage" (a 502) from "WeChat did
// not answer" (a 503).
var ErrBadAnswer = errors.New("wechat: malformed answer")

// ErrNoTokens is returned by the calls that need an access token when the
// Client has no TokenSource.
var ErrNoTokens = errors.New("wechat: client has no token source")

// maxAnswerBytes bounds an answer body: WeChat's are under 1 KiB.
const maxAnswerBytes = 64 << 10

// Client calls WeChat's server API for one mini program. The zero value is
// not usable: AppID and Secret are required.
//
// The app secret and the access token travel in query strings (WeChat's
// design), so Client never puts a request URL's query in an error.
type Client struct {
	AppID  string
	Secret string
	// BaseURL is the API server; default DefaultBaseURL. Point it at the
	// WeChat simulator to run without WeChat.
	BaseURL string
	// HTTPClient sends the requests; default a client with a 10 s timeout.
	// Callers bound each call further with their context.
	HTTPClient *http.Client
	// Tokens gives the access token to PhoneNumber, CheckSession and
	// ResetSessionKey; without it they fail with ErrNoTokens. Exchange
	// needs none. See NewTokenSource.
	Tokens *TokenSource
}

var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second}

// Exchange trades a login code from wx.login for the user's openid and
// session_key (jscode2session). A refusal by WeChat is a *Error; a failure
// to get WeChat's answer wraps ErrUnavailable. A code can be exchanged once.
func (c *Client) Exchange(ctx context.Context, code string) (Session, error) {
	q := url.Values{"appid": {c.AppID}, "secret": {c.Secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	var s Session
	if err := c.call(ctx, http.MethodGet, "/sns/jscode2session", q, nil, &s); err != nil {
		return Session{}, err
	}
	if s.OpenID == "" || s.SessionKey == "" {
		return Session{}, fmt.Errorf("%w: %w: GET %s: answer without openid or session_key", ErrUnavailable, ErrBadAnswer, c.endpoint("/sns/jscode2session"))
	}
	return s, nil
}

func (c *Client) endpoint(path string) string {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return base + path
}

// call sends one request to WeChat and decodes its JSON answer into out.
// An answer with a non-zero errcode is a *Error; everything that keeps an
// answer from arriving wraps ErrUnavailable. Errors name the endpoint but
// never its query, which carries the secret or the access token.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	endpoint := c.endpoint(path)
	u := endpoint
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("wechat: %s %s: %w", method, endpoint, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("wechat: %s: bad base URL %q", path, c.BaseURL)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, secrets included: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: %s %s: %w", ErrUnavailable, method, endpoint, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("%w: %s %s: reading answer: %w", ErrUnavailable, method, endpoint, err)
	}
	var we Error
	if err := json.Unmarshal(b, &we); err != nil {
		return fmt.Errorf("%w: %w: %s %s: HTTP %d, not a WeChat answer", ErrUnavailable, ErrBadAnswer, method, endpoint, resp.StatusCode)
	}
	if we.Code != 0 {
		return &we
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %w: %s %s: HTTP %d: %v", ErrUnavailable, ErrBadAnswer, method, endpoint, resp.StatusCode, err)
	}
	return nil
}
