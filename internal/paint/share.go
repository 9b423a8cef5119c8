package paint

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"
)

// ErrNotShared: no share link with that token (never made, unshared, or
// made for a paint that was deleted since).
var ErrNotShared = errors.New("paint: not shared")

// Share is a paint's public link: a token and the paint it shows.
type Share struct {
	Token  string
	OpenID string
	ID     string
	// PaintCreated is the CreatedAt (milliseconds) of the paint when it
	// was shared. A paint deleted and made again under the same id has
	// another CreatedAt, so the old link does not show the new paint.
	PaintCreated time.Time
}

// Of reports whether s is the link of p (p as it is now).
func (s Share) Of(p Paint) bool {
	return s.OpenID == p.OpenID && s.ID == p.ID && s.PaintCreated.UnixMilli() == p.CreatedAt.UnixMilli()
}

// ShareTokenBytes is the size of a share token's random part: 144 bits
// of crypto/rand, 24 characters of base64url. Knowing links (a user's
// own, every id) tells nothing about another link.
const ShareTokenBytes = 18

// NewShareToken returns a fresh share token.
func NewShareToken() string {
	b := make([]byte, ShareTokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// ShareStore keeps share links. At most one link exists per paint
// (OpenID, ID); the store is the only truth about links, so a link
// unshared on one yibi is gone on every other at once.
//
// Tokens are stored as they are, not hashed: sharing again must answer
// the same link, so the store must be able to give the token back, and a
// token grants read access to one picture its owner chose to publish,
// less than what anyone who can read the database already has.
type ShareStore interface {
	// Share returns the link of the user's paint id, created at
	// paintCreated. If the paint already has a link made for that
	// creation, that link is returned unchanged (sharing is idempotent);
	// otherwise a link with token (a NewShareToken) is stored and
	// returned, replacing a link of an earlier paint under the same id.
	// Share does not check that the paint exists: the caller read it.
	Share(ctx context.Context, openID, id string, paintCreated time.Time, token string) (Share, error)

	// Unshare removes the link of the user's paint id, if any. Removing
	// a link that does not exist is not an error.
	Unshare(ctx context.Context, openID, id string) error

	// Shared returns the link with token, or ErrNotShared. The caller
	// checks that the paint still exists and is the one shared
	// (Share.Of).
	Shared(ctx context.Context, token string) (Share, error)
}
