package mongo

import (
	"context"
	"fmt"
	"time"

	"github.com/yibi/yibi/internal/keylock"
	"github.com/yibi/yibi/internal/paint"
)

// WriteTimeout bounds one write (a Save with all its round trips, or a
// Delete) once it has its paint's turn, whether or not the request that
// asked for it still waits.
const WriteTimeout = 30 * time.Second

// A write that a request gives up on (its deadline passes, its client goes
// away) may still be executed by the server afterwards: the command is on
// the wire, and FerretDB v1.24 runs every command it has read even when
// the client has gone, ignoring maxTimeMS for update and delete
// (handler/common/update_params.go, delete_params.go: `maxTimeMS,ignored`).
// If the client's next save of that paint overtook it, the late write would
// replace an acknowledged save with an older drawing, or bring back a
// deleted paint (seen under `yibi loadgen` at 200 users: lost 5).
//
// So writes to one paint go to the server one at a time, in the order they
// arrive: a write waits for its paint's turn (as long as its request may
// wait), then runs to its end on a context of its own, which the request
// cannot cancel; a request that stops waiting gets ErrUnavailable while its
// write finishes, and the next write of that paint goes after it. Within
// one yibi process no write to a paint can overtake an earlier one.
// Between processes (yibi scaled out) only the revision claims (see Save)
// order writes: a late Append whose base revision has moved on fails with
// a conflict, but a late Save names no revision, so it claims the next one
// and can replace a later, acknowledged save made through another
// process; a Delete takes no claim and is not ordered either; and a write
// held past claimStale can land after the writer that skipped its claim.

// inOrder runs write for the paint key in its turn (see above) and
// returns its result, or ErrUnavailable when ctx ends first.
func inOrder[T any](ctx context.Context, locks *keylock.Locks, op, key string, write func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	unlock, err := locks.Lock(ctx, key)
	if err != nil {
		return zero, fmt.Errorf("mongo: %s: waiting for the paint's earlier write: %w: %w", op, paint.ErrUnavailable, err)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer unlock()
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), WriteTimeout)
		defer cancel()
		v, err := write(wctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, fmt.Errorf("mongo: %s: %w: %w (the write goes on)", op, paint.ErrUnavailable, ctx.Err())
	}
}
