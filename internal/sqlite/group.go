package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/yibi/yibi/internal/paint"
)

// Group commit. With synchronous=FULL each transaction's commit waits
// for the disk (fsync of the WAL), and with one writer connection those
// waits, not the CPU, set the pace of saves. So every write (Save,
// Append, Delete) goes to one committer goroutine, which takes the write
// and every other write already waiting (up to MaxGroup), and runs them
// in one BEGIN IMMEDIATE transaction, each inside its own SAVEPOINT:
//
//   - a write that fails (a conflict, a limit, an SQL error) is rolled
//     back to its savepoint and fails alone; the others go on;
//   - every write of the group is acknowledged after the group's COMMIT
//     has returned, that is once it is durable, never before;
//   - if the transaction itself breaks (a savepoint cannot be rolled
//     back), it is rolled back whole, the write that broke it fails, and
//     the others run again in a new transaction (nothing of theirs was
//     committed, and each reads the paint afresh).
//
// The group's statements run on a context of the committer, not of the
// requests: SQLite answers an interrupted UPDATE inside a transaction by
// rolling the whole transaction back, which would fail the group for
// one client that went away. A request that stops waiting (its deadline,
// its client) gets ErrUnavailable at once; its write, if already taken
// into a group, still commits (docs/api.md says a 503 save may take
// effect), and one whose request ended before its group began is
// dropped.

// MaxGroup is the most writes committed in one transaction.
const MaxGroup = 64

type writeReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx wtx) error
	done chan error // buffered: the committer never waits for a reader
}

// write runs fn in the next group and returns its result; the store's
// own answers (limits, conflicts, not found) pass unwrapped.
func (s *Store) write(ctx context.Context, op string, fn func(ctx context.Context, tx wtx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return wrap(op, ctx.Err())
	case <-s.stop:
		return wrap(op, errClosed)
	}
	select {
	case err := <-req.done:
		if err == nil {
			return nil
		}
		var conflict *paint.ConflictError
		if errors.As(err, &conflict) || errors.Is(err, paint.ErrLimit) || errors.Is(err, paint.ErrQuota) ||
			errors.Is(err, paint.ErrTooLarge) || errors.Is(err, paint.ErrNotFound) {
			return err
		}
		return wrap(op, err)
	case <-ctx.Done():
		return fmt.Errorf("sqlite: %s: %w: %w (the write may still commit)", op, paint.ErrUnavailable, ctx.Err())
	}
}

var errClosed = errors.New("sql: database is closed")

// commitLoop is the committer: it takes a write, then all that wait.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.stop:
			return
		}
		group := []*writeReq{first}
	more:
		for len(group) < s.maxGroup {
			select {
			case r := <-s.writes:
				group = append(group, r)
			default:
				break more
			}
		}
		s.commitGroup(group)
	}
}

// commitGroup writes group in one transaction; see above.
func (s *Store) commitGroup(group []*writeReq) {
	ctx := context.Background()
	pending := group[:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // its request has stopped waiting: never written
			continue
		}
		pending = append(pending, r)
	}
	for len(pending) > 0 {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			for _, r := range pending {
				r.done <- err
			}
			return
		}
		results := make([]error, len(pending))
		broken := -1
		for i, r := range pending {
			if results[i] = savepoint(ctx, wtx{tx, s.prepared}, r.fn); errors.Is(results[i], errBroken) {
				broken = i
				break
			}
		}
		if broken >= 0 {
			tx.Rollback()
			pending[broken].done <- results[broken]
			pending = append(pending[:broken], pending[broken+1:]...)
			continue
		}
		err = tx.Commit()
		s.groups.Add(1)
		for i, r := range pending {
			if err != nil {
				r.done <- err
			} else {
				r.done <- results[i]
			}
		}
		return
	}
}

// errBroken marks a transaction that a failed write left unusable.
var errBroken = errors.New("sqlite: transaction broken")

// savepoint runs fn inside a savepoint of tx, rolled back if fn fails.
// It returns fn's error, or one wrapping errBroken if the savepoint
// itself failed.
func savepoint(ctx context.Context, tx wtx, fn func(ctx context.Context, tx wtx) error) error {
	if _, err := tx.ExecContext(ctx, qSavepoint); err != nil {
		return fmt.Errorf("%w: %w", errBroken, err)
	}
	ferr := fn(ctx, tx)
	if ferr != nil {
		if _, err := tx.ExecContext(ctx, qRollbackTo); err != nil {
			return fmt.Errorf("%w: %w: %w", errBroken, ferr, err)
		}
	}
	if _, err := tx.ExecContext(ctx, qRelease); err != nil {
		return fmt.Errorf("%w: %w", errBroken, err)
	}
	return ferr
}
