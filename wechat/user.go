package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// ErrSessionKeyStale wraps WeChat's answer 87009 to CheckSession and
// ResetSessionKey: the session_key given is no longer the user's (a newer
// wx.login replaced it, or it was reset). The user must log in again.
var ErrSessionKeyStale = errors.New("wechat: session_key no longer valid")

// PhoneNumber is the phone_info of getuserphonenumber.
type PhoneNumber struct {
	// PhoneNumber carries the country code for numbers outside mainland
	// China ("+1 202…"), PurePhoneNumber never does.
	PhoneNumber     string `json:"phoneNumber"`
	PurePhoneNumber string `json:"purePhoneNumber"`
	// CountryCode is "86" for China; WeChat documents a string and has
	// been seen sending a number, so both are read.
	CountryCode string `json:"countryCode"`
}

// UnmarshalJSON reads countryCode as a string or a number.
func (p *PhoneNumber) UnmarshalJSON(b []byte) error {
	var raw struct {
		PhoneNumber     string          `json:"phoneNumber"`
		PurePhoneNumber string          `json:"purePhoneNumber"`
		CountryCode     json.RawMessage `json:"countryCode"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	p.PhoneNumber, p.PurePhoneNumber, p.CountryCode = raw.PhoneNumber, raw.PurePhoneNumber, ""
	if len(raw.CountryCode) > 0 && string(raw.CountryCode) != "null" {
		var s string
		if json.Unmarshal(raw.CountryCode, &s) != nil {
			var n json.Number
			if err := json.Unmarshal(raw.CountryCode, &n); err != nil {
				return fmt.Errorf("countryCode: %w", err)
			}
			s = n.String()
		}
		p.CountryCode = s
	}
	return nil
}

// PhoneNumber exchanges a getPhoneNumber code for the user's number
// (POST /wxa/business/getuserphonenumber). openID, when not empty, is
// sent along so that WeChat checks the code belongs to that user. WeChat
// charges for every successful exchange: the caller should store the
// answer and never send the same code twice. A refusal is a *Error (40029:
// invalid or used code); a failure to get an answer wraps ErrUnavailable
// and may or may not have been paid, so it is not retried here. A refused
// access token is renewed and the call sent once more (WeChat charges
// nothing for a refused token).
func (c *Client) PhoneNumber(ctx context.Context, code, openID string) (PhoneNumber, error) {
	if c.Tokens == nil {
		return PhoneNumber{}, ErrNoTokens
	}
	in := map[string]string{"code": code}
	if openID != "" {
		in["openid"] = openID
	}
	var out struct {
		PhoneInfo *PhoneNumber `json:"phone_info"`
	}
	const path = "/wxa/business/getuserphonenumber"
	err := c.Tokens.Do(ctx, func(ctx context.Context, token string) error {
		return c.call(ctx, http.MethodPost, path, url.Values{"access_token": {token}}, in, &out)
	})
	if err != nil {
		return PhoneNumber{}, err
	}
	if out.PhoneInfo == nil || out.PhoneInfo.PurePhoneNumber == "" {
		return PhoneNumber{}, fmt.Errorf("%w: %w: POST %s: answer without phone_info", ErrUnavailable, ErrBadAnswer, c.endpoint(path))
	}
	return *out.PhoneInfo, nil
}

// CheckSession asks WeChat whether sessionKey is still openID's current
// session_key (GET /wxa/checksession, signed with Sign(sessionKey, "")).
// nil means yes; ErrSessionKeyStale (wrapping the *Error 87009) means no.
func (c *Client) CheckSession(ctx context.Context, openID, sessionKey string) error {
	var out struct{}
	return c.userCall(ctx, "/wxa/checksession", openID, sessionKey, &out)
}

// ResetSessionKey makes WeChat replace openID's session_key, given the
// current one (GET /wxa/resetusersessionkey), and returns the new one.
// The old key stops working at once. ErrSessionKeyStale means sessionKey
// was not current.
func (c *Client) ResetSessionKey(ctx context.Context, openID, sessionKey string) (Session, error) {
	var out Session
	const path = "/wxa/resetusersessionkey"
	if err := c.userCall(ctx, path, openID, sessionKey, &out); err != nil {
		return Session{}, err
	}
	if out.SessionKey == "" {
		return Session{}, fmt.Errorf("%w: %w: GET %s: answer without session_key", ErrUnavailable, ErrBadAnswer, c.endpoint(path))
	}
	if out.OpenID == "" {
		out.OpenID = openID
	}
	return out, nil
}

// userCall is a GET signed with the user's session_key.
func (c *Client) userCall(ctx context.Context, path, openID, sessionKey string, out any) error {
	if c.Tokens == nil {
		return ErrNoTokens
	}
	q := url.Values{"openid": {openID}, "signature": {Sign(sessionKey, "")}, "sig_method": {"hmac_sha256"}}
	err := c.Tokens.Do(ctx, func(ctx context.Context, token string) error {
		q.Set("access_token", token)
		return c.call(ctx, http.MethodGet, path, q, nil, out)
	})
	var we *Error
	if errors.As(err, &we) && we.Code == CodeInvalidSignature {
		return fmt.Errorf("%w: %w", ErrSessionKeyStale, err)
	}
	return err
}
