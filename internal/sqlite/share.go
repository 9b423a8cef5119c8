package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

var _ paint.ShareStore = (*Store)(nil)

// sharesSchema is the share links' table. It is created on first use
// with IF NOT EXISTS rather than as a numbered migration, so it needs no
// place in the migration sequence. One row per link: the token is the
// primary key (the public page's lookup) and (open_id, id) is unique (one
// link per paint, what makes Share idempotent).
const sharesSchema = `CREATE TABLE IF NOT EXISTS paint_shares (
	token         TEXT    NOT NULL PRIMARY KEY,
	open_id       TEXT    NOT NULL,
	id            TEXT    NOT NULL,
	paint_created INTEGER NOT NULL, -- the paint's created_at, unix milliseconds
	created_at    INTEGER NOT NULL, -- unix milliseconds
	UNIQUE (open_id, id)
)`

// sharesTable creates the table once per Store; a failure is retried on
// the next call.
type sharesTable struct {
	mu   sync.Mutex
	done bool
}

func (s *Store) ensureShares(ctx context.Context) error {
	st := &s.shares
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return nil
	}
	if err := s.write(ctx, "create shares", func(ctx context.Context, tx wtx) error {
		_, err := tx.ExecContext(ctx, sharesSchema)
		return err
	}); err != nil {
		return err
	}
	st.done = true
	return nil
}

// Share implements paint.ShareStore. The read and the write are one
// transaction on the single writer, so two concurrent shares of a paint
// make one link.
func (s *Store) Share(ctx context.Context, openID, id string, paintCreated time.Time, token string) (paint.Share, error) {
	if err := s.ensureShares(ctx); err != nil {
		return paint.Share{}, err
	}
	sh := paint.Share{OpenID: openID, ID: id}
	err := s.write(ctx, "share", func(ctx context.Context, tx wtx) error {
		var have string
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT token, paint_created FROM paint_shares WHERE open_id = ? AND id = ?`,
			openID, id).Scan(&have, &created)
		switch {
		case err == nil && created == paintCreated.UnixMilli():
			sh.Token, sh.PaintCreated = have, time.UnixMilli(created)
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM paint_shares WHERE open_id = ? AND id = ?`, openID, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO paint_shares (token, open_id, id, paint_created, created_at) VALUES (?, ?, ?, ?, ?)`,
			token, openID, id, paintCreated.UnixMilli(), time.Now().UnixMilli()); err != nil {
			return err
		}
		sh.Token, sh.PaintCreated = token, time.UnixMilli(paintCreated.UnixMilli())
		return nil
	})
	if err != nil {
		return paint.Share{}, err
	}
	return sh, nil
}

// Unshare implements paint.ShareStore.
func (s *Store) Unshare(ctx context.Context, openID, id string) error {
	if err := s.ensureShares(ctx); err != nil {
		return err
	}
	return s.write(ctx, "unshare", func(ctx context.Context, tx wtx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM paint_shares WHERE open_id = ? AND id = ?`, openID, id)
		return err
	})
}

// Shared implements paint.ShareStore.
func (s *Store) Shared(ctx context.Context, token string) (paint.Share, error) {
	if err := s.ensureShares(ctx); err != nil {
		return paint.Share{}, err
	}
	sh := paint.Share{Token: token}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT open_id, id, paint_created FROM paint_shares WHERE token = ?`, token).
		Scan(&sh.OpenID, &sh.ID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return paint.Share{}, paint.ErrNotShared
	}
	if err != nil {
		return paint.Share{}, wrap("shared", err)
	}
	sh.PaintCreated = time.UnixMilli(created)
	return sh, nil
}
