// Package paint holds the 一笔到底 domain: a user's drawings, their
// validation, and the Store interface that the SQLite and MongoDB packages
// implement.
package paint

import (
	"context"
	"errors"
	"time"
)

// Paint is one drawing of one user. Actions is the JSON array the client
// sent, kept as the exact string it sent.
type Paint struct {
	OpenID    string
	ID        string
	Actions   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Errors a Store returns; check them with errors.Is.
var (
	// ErrNotFound: no paint with that id for that user.
	ErrNotFound = errors.New("paint: not found")
	// ErrLimit: the user already has the maximum number of paints.
	ErrLimit = errors.New("paint: too many paints")
	// ErrUnavailable: the store could not be reached or did not answer in time.
	ErrUnavailable = errors.New("paint: store unavailable")
)

// Store keeps paints. Every method is scoped to one openID: no call can read,
// replace or delete another user's paint.
type Store interface {
	// List returns the user's paints, newest (by CreatedAt) first.
	// A user with no paints gets an empty slice and no error.
	List(ctx context.Context, openID string) ([]Paint, error)

	// Save creates the paint (p.OpenID, p.ID), or replaces its Actions and
	// UpdatedAt if it exists. Creating one more paint when the user already
	// has max (max > 0) fails with ErrLimit; replacing never does.
	// created reports whether the paint is new. When Save returns nil the
	// paint is durable.
	Save(ctx context.Context, p Paint, max int) (created bool, err error)

	// Delete removes the user's paint id, or returns ErrNotFound.
	Delete(ctx context.Context, openID, id string) error

	// Ping checks that the store answers.
	Ping(ctx context.Context) error

	// Close releases the store's resources.
	Close() error
}
