// Package wechat talks to WeChat's server API for mini programs:
//
//   - Client.Exchange: the jscode2session code exchange of wx.login;
//   - TokenSource: the access token (stable_token by default, the legacy
//     /cgi-bin/token on request), cached in a Store that every instance of
//     an app can share, refreshed by one instance at a time, and renewed
//     once when WeChat refuses it (40001, 40014, 42001);
//   - Client.PhoneNumber, Client.CheckSession, Client.ResetSessionKey: the
//     calls that need the access token;
//   - Decrypt and Sign: the encryptedData of client-side APIs and the
//     HMAC-SHA256 signature made with a user's session_key.
//
// It depends on the standard library only. A Redis-backed Store lives
// outside it, in the application.
package wechat

import (
	"errors"
	"fmt"
)

// Session is what WeChat answers to a successful code exchange.
// SessionKey is a secret shared with WeChat: it must never reach a client or a log.
type Session struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid,omitempty"`
}

// Error is an error answer of the WeChat API: {"errcode": N, "errmsg": "…"}.
type Error struct {
	Code int    `json:"errcode"`
	Msg  string `json:"errmsg"`
}

// WeChat error codes that callers commonly test for.
const (
	CodeSystemBusy         = -1
	CodeInvalidToken       = 40001 // access_token invalid or not the latest
	CodeInvalidOpenID      = 40003
	CodeInvalidAppID       = 40013
	CodeInvalidTokenFormat = 40014
	CodeInvalidCode        = 40029
	CodeInvalidSecret      = 40125
	CodeCodeUsed           = 40163
	CodeRiskyUser          = 40226
	CodeMissingToken       = 41001
	CodeTokenExpired       = 42001
	CodeDailyQuota         = 45009
	CodeRateLimited        = 45011
	CodeInvalidSignature   = 87009 // checksession: the session_key is no longer valid
)

func (e *Error) Error() string {
	return fmt.Sprintf("wechat: errcode %d: %s", e.Code, e.Msg)
}

// TokenRejected reports whether err is WeChat refusing the access token
// (40001, 40014, 42001): a call answered so may be sent again with a fresh
// token, because WeChat did nothing else with it.
func TokenRejected(err error) bool {
	var we *Error
	if !errors.As(err, &we) {
		return false
	}
	switch we.Code {
	case CodeInvalidToken, CodeInvalidTokenFormat, CodeTokenExpired:
		return true
	}
	return false
}
