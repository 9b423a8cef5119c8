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
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// Writes go to one committer goroutine, which runs the writes that
	// arrive together in one transaction (group.go).
	writes   chan *writeReq
	stop     chan struct{}
	stopped  chan struct{}
	maxGroup int
	stopOnce sync.Once
	groups   atomic.Int64 // transactions committed, for tests
	// The list statements, prepared once on the read pool (database/sql
	// prepares them again on each reader connection they run on, once):
	// compiling the SQL on every call took about a third of List's time.
	listFirst, listAfter *sql.Stmt
	// The same without the actions column (paint.Page.NoActions).
	listFirstMeta, listAfterMeta *sql.Stmt
	shares                       sharesTable // share.go
	// The write statements (writeQueries), prepared once on the writer
	// connection: compiling their SQL on every write took about a seventh
	// of a save's CPU (docs/benchmarks.md).
	prepared map[string]*sql.Stmt
}

// The list queries read one batch of a user's paints in the order of the
// index paints_newest (open_id, created_at DESC, id DESC), so SQLite
// neither sorts nor reads paints past the batch.
// The Meta queries leave out the actions: every column they name is in
// paints_newest (migration 0003), so SQLite reads that index alone and no
// row, and a list of ids and revisions costs the same whatever the
// drawings' sizes (16 paints of 1 MiB: 35 µs, against 11 ms when the rows
// were read for rev and updated_at, which follow the actions in a row).
const (
	listColumns     = `SELECT id, actions, rev, created_at, updated_at FROM paints `
	listMetaColumns = `SELECT id, rev, created_at, updated_at FROM paints `
	listFirstWhere  = `WHERE open_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`
	listAfterWhere  = `WHERE open_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
		ORDER BY created_at DESC, id DESC LIMIT ?`
	listFirstQuery     = listColumns + listFirstWhere
	listAfterQuery     = listColumns + listAfterWhere
	listFirstMetaQuery = listMetaColumns + listFirstWhere
	listAfterMetaQuery = listMetaColumns + listAfterWhere
)

// List reads in batches of at most listBatchRows paints, ending a batch
// early once it holds listBatchBytes of actions. Between batches it holds
// no connection, so fn (which writes to a client, maybe a slow one) never
// keeps a reader from other requests, and a list's memory is about
// listBatchBytes plus one paint, whatever the user's total.
const (
	listBatchRows  = 64
	listBatchBytes = 1 << 20
)

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
	s := &Store{w: w, writes: make(chan *writeReq), stop: make(chan struct{}), stopped: make(chan struct{}), maxGroup: benchMaxGroup()}
	go s.commitLoop()
	// Migrate before opening readers, so they never see an old schema, and
	// so the file exists in WAL mode before a reader opens it.
	if err := s.migrate(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	if err := s.prepareWrites(context.Background()); err != nil {
		s.Close()
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
	for _, q := range []struct {
		st    **sql.Stmt
		query string
	}{
		{&s.listFirst, listFirstQuery}, {&s.listAfter, listAfterQuery},
		{&s.listFirstMeta, listFirstMetaQuery}, {&s.listAfterMeta, listAfterMetaQuery},
	} {
		if *q.st, err = r.PrepareContext(context.Background(), q.query); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: prepare list: %w", err)
		}
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
func (s *Store) List(ctx context.Context, openID string, page paint.Page, fn func(paint.Paint) error) error {
	after, left := page.After, page.Limit
	for {
		n := listBatchRows
		if page.Limit > 0 {
			n = min(n, left)
		}
		batch, full, err := s.listBatch(ctx, openID, after, n, page.NoActions)
		if err != nil {
			return err
		}
		for _, p := range batch {
			if err := fn(p); err != nil {
				return err
			}
		}
		left -= len(batch)
		if !full || len(batch) == 0 || page.Limit > 0 && left == 0 {
			return nil
		}
		c := paint.CursorOf(batch[len(batch)-1])
		after = &c
	}
}

// listBatch reads up to n paints after the cursor (from the newest if
// nil), stopping once they hold listBatchBytes of actions; without their
// actions if noActions. full reports that more may follow.
func (s *Store) listBatch(ctx context.Context, openID string, after *paint.Cursor, n int, noActions bool) (ps []paint.Paint, full bool, err error) {
	first, next := s.listFirst, s.listAfter
	if noActions {
		first, next = s.listFirstMeta, s.listAfterMeta
	}
	var rows *sql.Rows
	if after == nil {
		rows, err = first.QueryContext(ctx, openID, n)
	} else {
		ms := after.CreatedAt.UnixMilli()
		rows, err = next.QueryContext(ctx, openID, ms, ms, after.ID, n)
	}
	if err != nil {
		return nil, false, wrap("list", err)
	}
	defer rows.Close()
	size := 0
	for rows.Next() {
		p := paint.Paint{OpenID: openID}
		var created, updated int64
		if noActions {
			err = rows.Scan(&p.ID, &p.Rev, &created, &updated)
		} else {
			err = rows.Scan(&p.ID, &p.Actions, &p.Rev, &created, &updated)
		}
		if err != nil {
			return nil, false, wrap("list", err)
		}
		p.CreatedAt, p.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
		ps = append(ps, p)
		if size += len(p.Actions); size >= listBatchBytes {
			return ps, true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, wrap("list", err)
	}
	return ps, len(ps) == n, nil
}

// Get implements paint.Store.
func (s *Store) Get(ctx context.Context, openID, id string) (paint.Paint, error) {
	p := paint.Paint{OpenID: openID, ID: id}
	var created, updated int64
	err := s.r.QueryRowContext(ctx, `SELECT actions, rev, created_at, updated_at FROM paints WHERE open_id = ? AND id = ?`,
		openID, id).Scan(&p.Actions, &p.Rev, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return paint.Paint{}, paint.ErrNotFound
	}
	if err != nil {
		return paint.Paint{}, wrap("get", err)
	}
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
	return p, nil
}

// current is what a write reads of the paint it writes.
type current struct {
	found   bool
	rev     int64
	size    int64
	actions string // read only when asked for
}

// Save implements paint.Store. The read, the limit checks and the write
// run in one immediate transaction on the single writer connection (with
// the writes grouped with it, see group.go), so the limits are exact even
// under concurrent saves.
func (s *Store) Save(ctx context.Context, p paint.Paint, lim paint.Limits) (created bool, err error) {
	err = s.write(ctx, "save", func(ctx context.Context, tx wtx) error {
		cur, err := read(ctx, tx, p.OpenID, p.ID, false)
		if err != nil {
			return err
		}
		if err := checkLimits(ctx, tx, p.OpenID, cur, int64(len(p.Actions)), lim); err != nil {
			return err
		}
		if cur.found {
			_, err = tx.ExecContext(ctx, qUpdate,
				p.Actions, len(p.Actions), p.UpdatedAt.UnixMilli(), p.OpenID, p.ID)
			return err
		}
		created = true
		return insert(ctx, tx, p)
	})
	return created, err
}

// Append implements paint.Store. The revision check and the write run in
// one immediate transaction, and the UPDATE is conditional on the
// revision read, so it holds against any other writer of the file.
func (s *Store) Append(ctx context.Context, openID, id string, rev int64, actions string, now time.Time, lim paint.Limits) (newRev int64, err error) {
	err = s.write(ctx, "append", func(ctx context.Context, tx wtx) error {
		cur, err := read(ctx, tx, openID, id, true)
		if err != nil {
			return err
		}
		if !cur.found && rev == 0 {
			if err := checkLimits(ctx, tx, openID, cur, int64(len(actions)), lim); err != nil {
				return err
			}
			newRev = 1
			return insert(ctx, tx, paint.Paint{OpenID: openID, ID: id, Actions: actions, CreatedAt: now, UpdatedAt: now})
		}
		if cur.rev != rev {
			return &paint.ConflictError{Rev: cur.rev}
		}
		joined, err := paint.Concat(cur.actions, actions)
		if err != nil {
			return err
		}
		if lim.ActionsBytes > 0 && len(joined) > lim.ActionsBytes {
			return paint.ErrTooLarge
		}
		if err := checkLimits(ctx, tx, openID, cur, int64(len(joined)), lim); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, qUpdateAtRev,
			joined, len(joined), now.UnixMilli(), openID, id, rev)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			// Cannot happen inside the immediate transaction; kept so the
			// contract does not rest on the locking alone.
			return &paint.ConflictError{Rev: cur.rev}
		}
		newRev = rev + 1
		return nil
	})
	return newRev, err
}

func read(ctx context.Context, tx wtx, openID, id string, withActions bool) (current, error) {
	var cur current
	var err error
	if withActions {
		err = tx.QueryRowContext(ctx, qReadActions, openID, id).
			Scan(&cur.rev, &cur.size, &cur.actions)
	} else {
		err = tx.QueryRowContext(ctx, qRead, openID, id).
			Scan(&cur.rev, &cur.size)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return cur, nil
	}
	cur.found = err == nil
	return cur, err
}

// checkLimits checks that writing size bytes to the paint cur describes
// keeps the user within lim. A write that does not grow the user's bytes
// always passes, so a user over a lowered quota can still shrink.
func checkLimits(ctx context.Context, tx wtx, openID string, cur current, size int64, lim paint.Limits) error {
	if lim.Paints <= 0 && lim.UserBytes <= 0 {
		return nil
	}
	var count, total int64
	if err := tx.QueryRowContext(ctx, qUserTotals, openID).Scan(&count, &total); err != nil {
		return err
	}
	if !cur.found && lim.Paints > 0 && count >= int64(lim.Paints) {
		return paint.ErrLimit
	}
	if lim.UserBytes > 0 && size > cur.size && total-cur.size+size > lim.UserBytes {
		return paint.ErrQuota
	}
	return nil
}

func insert(ctx context.Context, tx wtx, p paint.Paint) error {
	_, err := tx.ExecContext(ctx, qInsert,
		p.OpenID, p.ID, p.Actions, len(p.Actions), p.CreatedAt.UnixMilli(), p.UpdatedAt.UnixMilli())
	return err
}

// Delete implements paint.Store.
func (s *Store) Delete(ctx context.Context, openID, id string) error {
	return s.write(ctx, "delete", func(ctx context.Context, tx wtx) error {
		res, err := tx.ExecContext(ctx, qDelete, openID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return paint.ErrNotFound
		}
		return nil
	})
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
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.stopped // the group being written is committed first
	var errs []error
	for _, st := range s.prepared {
		errs = append(errs, st.Close())
	}
	for _, st := range []*sql.Stmt{s.listFirst, s.listAfter, s.listFirstMeta, s.listAfterMeta} {
		if st != nil {
			errs = append(errs, st.Close())
		}
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

// BenchMaxGroupEnv names the environment variable that sets the most
// writes committed in one transaction, for benchmarks only
// (cmd/yibibench compares group commit with one transaction per save in
// the same binary; 1 = no grouping). Unset, empty or not a number in
// 1..MaxGroup: MaxGroup. Not a setting: nothing but a benchmark has a
// reason to turn group commit off.
const BenchMaxGroupEnv = "YIBI_BENCH_SQLITE_MAX_GROUP"

func benchMaxGroup() int {
	if n, err := strconv.Atoi(os.Getenv(BenchMaxGroupEnv)); err == nil && n >= 1 && n <= MaxGroup {
		return n
	}
	return MaxGroup
}
