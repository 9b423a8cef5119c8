// Package sqlite is the paint.Store on an embedded SQLite database (the
// pure-Go modernc.org/sqlite driver), the default when no MongoDB is
// configured.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yibi/yibi/internal/paint"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a paint.Store on one SQLite file. It is safe for concurrent use.
//
// It holds two pools on the same file: one writer connection, so writers
// queue in Go instead of failing with SQLITE_BUSY, and a few reader
// connections, which WAL mode lets run while the writer writes.
type Store struct {
	w *sql.DB
	r *sql.DB
	// list is List's query, prepared once on the read pool (database/sql
	// prepares it again on each reader connection it runs on, once):
	// compiling the SQL on every call took about a third of List's time.
	list *sql.Stmt
}

// listQuery is List's SQL. It asks for the order that the index
// paints_newest (open_id, created_at DESC, id) gives by itself; List then
// puts paints created in the same millisecond in id DESC order. Asking
// SQLite for "created_at DESC, id DESC" made it sort every result in a
// temporary B-tree, which cost about 15% of a List.
const listQuery = `SELECT id, actions, created_at, updated_at FROM paints
	WHERE open_id = ? ORDER BY created_at DESC`

var _ paint.Store = (*Store)(nil)

// readers is the size of the read pool; the machine yibi targets is small,
// and reads of one user's paints are short.
const readers = 4

// Open opens (creating the file and its directories if needed) the database
// at path and brings its schema up to date.
func Open(path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	// synchronous(FULL): Save's contract is that a nil error means durable,
	// which WAL with NORMAL does not give on power loss.
	// busy_timeout still matters: another process (a backup, the sqlite3
	// shell) may hold the lock.
	common := "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
	w, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	// Migrate before opening readers, so they never see an old schema, and
	// so the file exists in WAL mode before a reader opens it.
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s.r = r
	if err := s.Ping(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	if s.list, err = r.PrepareContext(context.Background(), listQuery); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: prepare list: %w", err)
	}
	return s, nil
}

// migrate applies the embedded migrations newer than PRAGMA user_version,
// in file name order, each in its own transaction with the version bump.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	sort.Strings(names)
	var version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if version > len(names) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this yibi (%d)", version, len(names))
	}
	for i := version; i < len(names); i++ {
		n, err := strconv.Atoi(strings.SplitN(filepath.Base(names[i]), "_", 2)[0])
		if err != nil || n != i+1 {
			return fmt.Errorf("sqlite: migration %s: want number %04d", names[i], i+1)
		}
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
		// PRAGMA takes no bind parameters; n is an int we made.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
	}
	return nil
}

// List implements paint.Store.
func (s *Store) List(ctx context.Context, openID string) ([]paint.Paint, error) {
	rows, err := s.list.QueryContext(ctx, openID)
	if err != nil {
		return nil, wrap("list", err)
	}
	defer rows.Close()
	ps := []paint.Paint{}
	for rows.Next() {
		p := paint.Paint{OpenID: openID}
		var created, updated int64
		if err := rows.Scan(&p.ID, &p.Actions, &created, &updated); err != nil {
			return nil, wrap("list", err)
		}
		p.CreatedAt, p.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list", err)
	}
	// Newest first; among paints created in the same millisecond, id DESC
	// (the order of SQLite's BINARY collation, which Go's string order is).
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].CreatedAt.Equal(ps[i].CreatedAt) {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(ps[i:j], func(a, b paint.Paint) int { return strings.Compare(b.ID, a.ID) })
		}
		i = j
	}
	return ps, nil
}

// Save implements paint.Store. The existence check, the count and the write
// run in one immediate transaction on the single writer connection, so the
// limit is exact even under concurrent saves.
func (s *Store) Save(ctx context.Context, p paint.Paint, max int) (created bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, wrap("save", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx,
		`UPDATE paints SET actions = ?, updated_at = ? WHERE open_id = ? AND id = ?`,
		p.Actions, p.UpdatedAt.UnixMilli(), p.OpenID, p.ID)
	if err != nil {
		return false, wrap("save", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, wrap("save", err)
	} else if n == 0 {
		if max > 0 {
			var count int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM paints WHERE open_id = ?`, p.OpenID).Scan(&count); err != nil {
				return false, wrap("save", err)
			}
			if count >= max {
				return false, paint.ErrLimit
			}
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO paints (open_id, id, actions, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			p.OpenID, p.ID, p.Actions, p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli()); err != nil {
			return false, wrap("save", err)
		}
		created = true
	}
	if err := tx.Commit(); err != nil {
		return false, wrap("save", err)
	}
	return created, nil
}

// Delete implements paint.Store.
func (s *Store) Delete(ctx context.Context, openID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM paints WHERE open_id = ? AND id = ?`, openID, id)
	if err != nil {
		return wrap("delete", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("delete", err)
	}
	if n == 0 {
		return paint.ErrNotFound
	}
	return nil
}

// Ping implements paint.Store: it runs a query on the read pool.
func (s *Store) Ping(ctx context.Context) error {
	db := s.r
	if db == nil {
		db = s.w
	}
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close implements paint.Store. It checkpoints the WAL (SQLite does so when
// the last connection closes) so the data sits in the main file.
func (s *Store) Close() error {
	var errs []error
	if s.list != nil {
		errs = append(errs, s.list.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// wrap marks errors a caller cannot fix by changing the request (timeouts,
// a locked or closed database) as paint.ErrUnavailable, keeping the cause.
func wrap(op string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "database is locked") ||
		strings.Contains(err.Error(), "sql: database is closed") ||
		strings.Contains(err.Error(), "sql: statement is closed") { // List after Close
		return fmt.Errorf("sqlite: %s: %w: %w", op, paint.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
