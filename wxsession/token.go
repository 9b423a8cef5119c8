package wxsession

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// TokenSession is what a TokenStore keeps for a v2 session, under the hash
// of its token (see HashToken); the token itself is stored nowhere.
type TokenSession struct {
	// User holds the ids WeChat gave (OpenID, UnionID); v2 logins send no
	// profile, the app keeps that.
	User User `json:"user"`
	// SealedSessionKey is the session_key sealed under Config.Secret.
	SealedSessionKey string `json:"sealedSessionKey,omitempty"`
	// CreatedAt is the login time: the cap of sessions per user evicts
	// the oldest first.
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is the sliding (idle) expiry, never after Deadline.
	ExpiresAt time.Time `json:"expiresAt"`
	// Deadline is the absolute limit: CreatedAt + Config.MaxLifetime.
	Deadline time.Time `json:"deadline"`
}

// TokenStore keeps v2 sessions: token hash → TokenSession, and each
// user's set of token hashes. memstore and redisstore implement it beside
// Store; the middleware uses Config.TokenStore, or Config.Store when it
// implements TokenStore.
//
// As for Store, "not found" is found == false, errors are system faults,
// and implementations are safe for concurrent use.
type TokenStore interface {
	// CreateToken stores hash → s until s.ExpiresAt and adds hash to the
	// set of s.User.OpenID. If the user then has more than max sessions,
	// the oldest by CreatedAt (expired ones count as oldest of all) are
	// deleted and their hashes returned.
	CreateToken(ctx context.Context, hash string, s TokenSession, max int) (evicted []string, err error)

	// GetToken returns the session of hash. found is false when it was
	// never stored, was deleted, or its ExpiresAt has passed.
	GetToken(ctx context.Context, hash string) (s TokenSession, found bool, err error)

	// TouchToken moves the ExpiresAt of a live session to expiresAt. It
	// never brings back a deleted or expired session: touching one does
	// nothing and is not an error.
	TouchToken(ctx context.Context, hash string, expiresAt time.Time) error

	// DeleteToken deletes one session. Deleting an unknown hash is not an
	// error.
	DeleteToken(ctx context.Context, hash string) error

	// DeleteUser deletes every session of openID: its tokens and its v1
	// code (the Store's openId → code pointer and that code's session).
	DeleteUser(ctx context.Context, openID string) error
}

// tokenBytes is a token's entropy: 256 bits from crypto/rand.
const tokenBytes = 32

// tokenLen is a token's length: 32 bytes in base64url without padding.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// newToken returns a fresh opaque token: derived from nothing.
func newToken() string {
	b := make([]byte, tokenBytes)
	rand.Read(b) // never fails (crypto/rand's contract since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the key a TokenStore keeps a token under: hex
// SHA-256 of the token. A copy of the store holds these, and a hash
// cannot be sent back as a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// validToken reports whether t could be a token this library made:
// tokenLen characters of the base64url alphabet.
func validToken(t string) bool {
	if len(t) != tokenLen {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// bearer is what parseAuthorization found in a request.
type bearer int

const (
	bearerNone      bearer = iota // no Authorization header (or an empty one)
	bearerToken                   // Bearer with a token of valid form
	bearerUnknown                 // Bearer with something that is no token of ours
	bearerAmbiguous               // sent twice, another scheme, or Bearer without a token
)

// parseAuthorization reads the Authorization header: the scheme is
// case-insensitive, spaces around the token are ignored. Two headers, any
// scheme but Bearer, or Bearer alone are ambiguous: nothing is silently
// picked or skipped.
func parseAuthorization(h http.Header) (token string, kind bearer) {
	v, ok := header(h, "Authorization")
	if !ok {
		return "", bearerAmbiguous
	}
	v = strings.Trim(v, " \t")
	if v == "" {
		return "", bearerNone
	}
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", bearerAmbiguous
	}
	rest = strings.Trim(rest, " \t")
	if rest == "" {
		return "", bearerAmbiguous
	}
	if !validToken(rest) {
		return "", bearerUnknown
	}
	return rest, bearerToken
}
