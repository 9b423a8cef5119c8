package wxsession

import (
	"context"
	"time"
)

// Session is what a store keeps under a login code.
//
// SessionKey is WeChat's session_key for this login. It stays on the server:
// User's JSON never includes it, and it is never logged.
type Session struct {
	User       User      `json:"user"`
	SessionKey string    `json:"sessionKey,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// Store keeps sessions: login code → Session, and openId → login code.
//
// Implementations must be safe for concurrent use. "Not found" is reported
// by found == false, never by an error; errors are for system faults only
// (a store that is down, a value that does not decode).
type Store interface {
	// Get returns the session stored under code. found is false when the
	// code was never stored, has expired, or was revoked by a later login.
	Get(ctx context.Context, code string) (s Session, found bool, err error)

	// Login stores code → s and s.User.OpenID → code, both expiring after
	// ttl, and deletes the code the same openId had before, if any. The
	// whole operation is atomic: no reader ever sees two live codes for one
	// openId, or an openId mapped to a code that is gone.
	Login(ctx context.Context, code string, s Session, ttl time.Duration) error

	// Delete removes code, and the openId mapping if it still points to code.
	// Deleting a code that does not exist is not an error.
	Delete(ctx context.Context, code string) error
}
