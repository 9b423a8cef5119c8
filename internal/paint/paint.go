// Package paint holds the 一笔到底 domain: a user's drawings, their
// validation, and the Store interface that the SQLite and MongoDB packages
// implement.
package paint

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Paint is one drawing of one user. Actions is the JSON array the client
// sent (or the concatenation of the arrays appended to it), kept as the
// exact string it sent.
type Paint struct {
	OpenID  string
	ID      string
	Actions string
	// Rev is the paint's revision: 1 when created, one more on every
	// Save or Append. A client appends to the revision it has; see Append.
	Rev       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Errors a Store returns; check them with errors.Is.
var (
	// ErrNotFound: no paint with that id for that user.
	ErrNotFound = errors.New("paint: not found")
	// ErrLimit: the user already has the maximum number of paints.
	ErrLimit = errors.New("paint: too many paints")
	// ErrQuota: the write would take the user's stored bytes over
	// Limits.UserBytes.
	ErrQuota = errors.New("paint: storage quota exceeded")
	// ErrTooLarge: an append would make the paint's actions longer than
	// Limits.ActionsBytes.
	ErrTooLarge = errors.New("paint: paint too large")
	// ErrNotArray: an append found stored actions that are not a JSON
	// array (a document another program wrote); a whole save replaces them.
	ErrNotArray = errors.New("paint: stored actions are not a JSON array")
	// ErrUnavailable: the store could not be reached or did not answer in time.
	ErrUnavailable = errors.New("paint: store unavailable")
)

// ConflictError is Append's answer to a stale revision: Rev is the
// paint's current revision (0 when the paint does not exist).
type ConflictError struct {
	Rev int64
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("paint: revision conflict (current revision %d)", e.Rev)
}

// Limits bound what one user may store. A zero field means no bound.
type Limits struct {
	// Paints is the number of paints a user may keep.
	Paints int
	// UserBytes is the total size of a user's actions strings.
	UserBytes int64
	// ActionsBytes is the largest actions string of one paint, which an
	// Append may not grow past (Validate checks a Save's).
	ActionsBytes int
}

// Page selects part of a List, newest first, and what it holds of each
// paint. The zero Page is the whole list, actions included.
type Page struct {
	// Limit is the most paints to list; 0 means all.
	Limit int
	// After, if set, starts the page after this position (the Cursor of
	// the last paint of the previous page).
	After *Cursor
	// NoActions lists the paints without their actions (Paint.Actions
	// empty): a gallery that shows server-drawn pictures needs only ids,
	// revisions and times, and a store does not send the actions to yibi
	// (nor read them, where it can help it) for a list that will not use
	// them.
	NoActions bool
}

// Cursor is a position in a user's list: the CreatedAt (milliseconds)
// and ID of a paint. The list order is CreatedAt descending, then ID
// descending, so a cursor stays valid when the paint it names is deleted.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// CursorOf is the cursor just after p.
func CursorOf(p Paint) Cursor { return Cursor{CreatedAt: p.CreatedAt, ID: p.ID} }

// Store keeps paints. Every method is scoped to one openID: no call can read,
// replace or delete another user's paint.
//
// Two writes to one paint on one revision never both succeed: Append is a
// conditional update on Rev in the database, so this holds between yibi
// processes too.
type Store interface {
	// List calls fn with the user's paints of page, newest (by CreatedAt,
	// then ID) first, one at a time: a store holds at most one paint (and
	// its own small read buffer) in memory for the call, never the whole
	// list. An error from fn stops the listing and is returned. A user
	// with no paints gets no call and no error.
	List(ctx context.Context, openID string, page Page, fn func(Paint) error) error

	// Get returns the user's paint id, or ErrNotFound.
	Get(ctx context.Context, openID, id string) (Paint, error)

	// Save creates the paint (p.OpenID, p.ID) at revision 1, or replaces
	// its Actions and UpdatedAt if it exists and moves its revision on
	// (p.Rev is ignored). Creating one more paint than lim.Paints fails
	// with ErrLimit, and a write taking the user past lim.UserBytes with
	// ErrQuota. created reports whether the paint is new. When Save
	// returns nil the paint is durable.
	Save(ctx context.Context, p Paint, lim Limits) (created bool, err error)

	// Append adds the actions of the JSON array actions at the end of the
	// paint's actions (stored "[a,b]" + "[c]" = "[a,b,c]") and returns the
	// new revision. rev is the revision the caller has: 0 creates the
	// paint (p.Actions = actions); any other rev must be the paint's
	// current one. A stale rev, or rev 0 for a paint that exists, fails
	// with a *ConflictError carrying the current revision, and nothing is
	// written. Limits apply as in Save, and ErrTooLarge when the result
	// would pass lim.ActionsBytes. When Append returns nil the write is
	// durable.
	Append(ctx context.Context, openID, id string, rev int64, actions string, now time.Time, lim Limits) (newRev int64, err error)

	// Delete removes the user's paint id, or returns ErrNotFound.
	Delete(ctx context.Context, openID, id string) error

	// Ping checks that the store answers.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}
