package wxsession

import (
	"context"
	"time"
)

// Session is what a store keeps under a login code.
//
// SessionKey is WeChat's session_key for this login, sealed by the
// middleware (see Config.Secret; sessions stored before sealing hold it in
// clear and still work). It stays on the server: User's JSON never
// includes it, and it is never logged.
type Session struct {
	User       User      `json:"user"`
	SessionKey string    `json:"sessionKey,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// CodeExchange is what WeChat answered when a login code was exchanged
// (jscode2session): the user's ids and the session_key. Stores keep it for
// the code's own short life (see Store.SaveExchange) because WeChat
// exchanges a code only once. SessionKey stays on the server, as in Session.
//
// The middleware stores SessionKey sealed (see Config.Secret), and
// SealedToken when the code logged in by v2: that login's token, sealed
// under a key derived from Config.Secret and the code, so that the same
// code retried gets the same token while a copy of the store alone cannot
// recover it.
type CodeExchange struct {
	OpenID      string `json:"openId"`
	UnionID     string `json:"unionId,omitempty"`
	SessionKey  string `json:"sessionKey"`
	SealedToken string `json:"sealedToken,omitempty"`
}

// CodeLifetime is how long WeChat accepts a login code (about five
// minutes): the middleware keeps a code's exchange that long, after which
// nobody can present the code to WeChat anyway.
const CodeLifetime = 5 * time.Minute

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
	// Deleting a code that does not exist is not an error. Logout of a v1
	// session calls it.
	Delete(ctx context.Context, code string) error

	// SaveExchange keeps x, WeChat's answer for code, for ttl
	// (CodeLifetime). It is independent of the sessions: Login and Delete
	// leave it alone. WeChat exchanges a code once, so a login whose
	// signature fails must not spend the code for the genuine login that
	// follows; the middleware keeps the answer here, where every instance
	// sharing the store finds it, and still checks each login's signature
	// against x.SessionKey before it creates a session.
	SaveExchange(ctx context.Context, code string, x CodeExchange, ttl time.Duration) error

	// GetExchange returns what SaveExchange kept for code. found is false
	// when nothing was kept or it has expired.
	GetExchange(ctx context.Context, code string) (x CodeExchange, found bool, err error)
}
