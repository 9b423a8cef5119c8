package wechat

import (
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

// maxAnswerBytes bounds an answer body: WeChat's are under 200 bytes.
const maxAnswerBytes = 64 << 10

// Client calls WeChat's server API for one mini program. The zero value is
// not usable: AppID and Secret are required.
//
// The app secret travels in the query string of jscode2session (WeChat's
// design), so Client never puts the request URL in an error or a log.
type Client struct {
	AppID  string
	Secret string
	// BaseURL is the API server; default DefaultBaseURL. Point it at the
	// WeChat simulator to run without WeChat.
	BaseURL string
	// HTTPClient sends the requests; default a client with a 10 s timeout.
	// Callers bound each exchange further with their context.
	HTTPClient *http.Client
}

var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second}

// Exchange trades a login code from wx.login for the user's openid and
// session_key (jscode2session). A refusal by WeChat is a *Error; a failure
// to get WeChat's answer wraps ErrUnavailable. A code can be exchanged once.
func (c *Client) Exchange(ctx context.Context, code string) (Session, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	endpoint := base + "/sns/jscode2session"
	q := url.Values{"appid": {c.AppID}, "secret": {c.Secret}, "js_code": {code}, "grant_type": {"authorization_code"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return Session{}, fmt.Errorf("wechat: jscode2session: bad base URL %q", base)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// A *url.Error quotes the URL, secret included: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Session{}, fmt.Errorf("%w: GET %s: %w", ErrUnavailable, endpoint, err)
	}
	defer resp.Body.Close()
	var body struct {
		Session
		Error
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return Session{}, fmt.Errorf("%w: GET %s: reading answer: %w", ErrUnavailable, endpoint, err)
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return Session{}, fmt.Errorf("%w: GET %s: HTTP %d, not a WeChat answer", ErrUnavailable, endpoint, resp.StatusCode)
	}
	if body.Error.Code != 0 {
		return Session{}, &body.Error
	}
	if body.OpenID == "" || body.SessionKey == "" {
		return Session{}, fmt.Errorf("%w: GET %s: HTTP %d, answer without openid or session_key", ErrUnavailable, endpoint, resp.StatusCode)
	}
	return body.Session, nil
}
