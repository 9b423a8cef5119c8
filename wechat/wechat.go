// Package wechat talks to WeChat's server API for mini programs: the
// jscode2session code exchange and the decryption of encryptedData.
//
// It depends on the standard library only.
package wechat

import (
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
	CodeSystemBusy    = -1
	CodeInvalidCode   = 40029
	CodeCodeUsed      = 40163
	CodeRateLimited   = 45011
	CodeRiskyUser     = 40226
	CodeInvalidAppID  = 40013
	CodeInvalidSecret = 40125
)

func (e *Error) Error() string {
	return fmt.Sprintf("wechat: errcode %d: %s", e.Code, e.Msg)
}
