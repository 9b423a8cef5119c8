package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// The statements of the write path. Each is prepared once, at Open, on
// the single writer connection (prepareWrites) and run inside the group's
// transaction through wtx.
const (
	qSavepoint   = `SAVEPOINT write`
	qRollbackTo  = `ROLLBACK TO write`
	qRelease     = `RELEASE write`
	qRead        = `SELECT rev, size FROM paints WHERE open_id = ? AND id = ?`
	qReadActions = `SELECT rev, size, actions FROM paints WHERE open_id = ? AND id = ?`
	qUserTotals  = `SELECT COUNT(*), COALESCE(SUM(size), 0) FROM paints WHERE open_id = ?`
	qInsert      = `INSERT INTO paints (open_id, id, actions, size, rev, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)`
	qUpdate      = `UPDATE paints SET actions = ?, size = ?, rev = rev + 1, updated_at = ? WHERE open_id = ? AND id = ?`
	qUpdateAtRev = `UPDATE paints SET actions = ?, size = ?, rev = rev + 1, updated_at = ? WHERE open_id = ? AND id = ? AND rev = ?`
	qDelete      = `DELETE FROM paints WHERE open_id = ? AND id = ?`
)

var writeQueries = []string{qSavepoint, qRollbackTo, qRelease, qRead, qReadActions, qUserTotals, qInsert, qUpdate, qUpdateAtRev, qDelete}

// prepareWrites prepares writeQueries on the writer pool. It must run
// before the first group: the pool's one connection is busy while a
// transaction is open, so nothing can be prepared from inside one.
func (s *Store) prepareWrites(ctx context.Context) error {
	s.prepared = make(map[string]*sql.Stmt, len(writeQueries))
	for _, q := range writeQueries {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		s.prepared[q] = st
	}
	return nil
}

// wtx is a write transaction that runs the statements prepared at Open
// as such: database/sql's Tx.StmtContext reuses a statement already
// prepared on the transaction's connection instead of compiling it again.
// Any other SQL runs as given.
type wtx struct {
	*sql.Tx
	prepared map[string]*sql.Stmt
}

// ExecContext is sql.Tx's, through the prepared statement if query is one.
func (t wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.prepared[query]; st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryRowContext is sql.Tx's, through the prepared statement if query is
// one.
func (t wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.prepared[query]; st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
