package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/profile"
)

// ProfileStore is the profile.Store on a Store's database file: the
// tables users, phone_codes and avatars beside the paints.
type ProfileStore struct{ s *Store }

var _ profile.Store = (*ProfileStore)(nil)

// profileSchema creates the profile tables. They are created here, not by
// a numbered migration, so that they can be added to any database without
// bumping its schema version (which the paint store owns).
const profileSchema = `
CREATE TABLE IF NOT EXISTS users (
	open_id           TEXT PRIMARY KEY,
	nick_name         TEXT NOT NULL DEFAULT '',
	avatar            TEXT NOT NULL DEFAULT '',
	phone_number      TEXT NOT NULL DEFAULT '',
	pure_phone_number TEXT NOT NULL DEFAULT '',
	country_code      TEXT NOT NULL DEFAULT '',
	phone_code_hash   TEXT NOT NULL DEFAULT '',
	updated_at        INTEGER NOT NULL -- unix milliseconds
);
-- One row per getPhoneNumber code ever exchanged: hex SHA-256 of the code,
-- its user and the number it gave.
CREATE TABLE IF NOT EXISTS phone_codes (
	code_hash         TEXT PRIMARY KEY,
	open_id           TEXT NOT NULL,
	phone_number      TEXT NOT NULL,
	pure_phone_number TEXT NOT NULL,
	country_code      TEXT NOT NULL,
	created_at        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS avatars (
	name         TEXT PRIMARY KEY,
	content_type TEXT NOT NULL,
	data         BLOB NOT NULL,
	created_at   INTEGER NOT NULL
);`

// NewProfileStore makes the profile tables in s's database if needed and
// returns the profile.Store on them. It shares s's connections: closing s
// closes it.
func NewProfileStore(ctx context.Context, s *Store) (*ProfileStore, error) {
	if _, err := s.w.ExecContext(ctx, profileSchema); err != nil {
		return nil, profileErr("create profile tables", err)
	}
	return &ProfileStore{s: s}, nil
}

// profileErr is wrap with profile.ErrUnavailable for the faults that wrap
// marks paint.ErrUnavailable.
func profileErr(op string, err error) error {
	err = wrap(op, err)
	if errors.Is(err, paint.ErrUnavailable) {
		return fmt.Errorf("%w: %w", profile.ErrUnavailable, err)
	}
	return err
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// Get implements profile.Store.
func (p *ProfileStore) Get(ctx context.Context, openID string) (profile.Profile, bool, error) {
	return p.get(ctx, p.s.r, openID)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (p *ProfileStore) get(ctx context.Context, q queryer, openID string) (profile.Profile, bool, error) {
	pr := profile.Profile{OpenID: openID}
	ph := &pr.Phone
	err := q.QueryRowContext(ctx, `SELECT nick_name, avatar, phone_number, pure_phone_number, country_code, phone_code_hash
		FROM users WHERE open_id = ?`, openID).
		Scan(&pr.NickName, &pr.Avatar, &ph.PhoneNumber, &ph.PurePhoneNumber, &ph.CountryCode, &ph.CodeHash)
	if errors.Is(err, sql.ErrNoRows) {
		return profile.Profile{}, false, nil
	}
	if err != nil {
		return profile.Profile{}, false, profileErr("get profile", err)
	}
	return pr, true, nil
}

// Update implements profile.Store: one upsert, so concurrent updates of
// different fields both survive.
func (p *ProfileStore) Update(ctx context.Context, openID string, u profile.Update) (profile.Profile, error) {
	tx, err := p.s.w.BeginTx(ctx, nil)
	if err != nil {
		return profile.Profile{}, profileErr("update profile", err)
	}
	defer tx.Rollback()
	// COALESCE keeps a column when its parameter is NULL (a nil field).
	_, err = tx.ExecContext(ctx, `INSERT INTO users (open_id, nick_name, avatar, updated_at)
		VALUES (?1, COALESCE(?2, ''), COALESCE(?3, ''), ?4)
		ON CONFLICT (open_id) DO UPDATE SET
			nick_name = COALESCE(?2, nick_name), avatar = COALESCE(?3, avatar), updated_at = ?4`,
		openID, u.NickName, u.Avatar, nowMillis())
	if err != nil {
		return profile.Profile{}, profileErr("update profile", err)
	}
	pr, _, err := p.get(ctx, tx, openID)
	if err != nil {
		return profile.Profile{}, err
	}
	if err := tx.Commit(); err != nil {
		return profile.Profile{}, profileErr("update profile", err)
	}
	return pr, nil
}

// SavePhone implements profile.Store in one transaction: the code's row
// (kept when it is already this user's) and the user's phone columns.
func (p *ProfileStore) SavePhone(ctx context.Context, openID string, ph profile.Phone) error {
	tx, err := p.s.w.BeginTx(ctx, nil)
	if err != nil {
		return profileErr("save phone", err)
	}
	defer tx.Rollback()
	now := nowMillis()
	var owner string
	err = tx.QueryRowContext(ctx, `INSERT INTO phone_codes (code_hash, open_id, phone_number, pure_phone_number, country_code, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (code_hash) DO UPDATE SET code_hash = code_hash
		RETURNING open_id`,
		ph.CodeHash, openID, ph.PhoneNumber, ph.PurePhoneNumber, ph.CountryCode, now).Scan(&owner)
	if err != nil {
		return profileErr("save phone", err)
	}
	if owner != openID {
		return profile.ErrCodeTaken
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO users (open_id, phone_number, pure_phone_number, country_code, phone_code_hash, updated_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6)
		ON CONFLICT (open_id) DO UPDATE SET phone_number = ?2, pure_phone_number = ?3,
			country_code = ?4, phone_code_hash = ?5, updated_at = ?6`,
		openID, ph.PhoneNumber, ph.PurePhoneNumber, ph.CountryCode, ph.CodeHash, now)
	if err != nil {
		return profileErr("save phone", err)
	}
	if err := tx.Commit(); err != nil {
		return profileErr("save phone", err)
	}
	return nil
}

// PhoneByCode implements profile.Store.
func (p *ProfileStore) PhoneByCode(ctx context.Context, codeHash string) (string, profile.Phone, bool, error) {
	ph := profile.Phone{CodeHash: codeHash}
	var owner string
	err := p.s.r.QueryRowContext(ctx, `SELECT open_id, phone_number, pure_phone_number, country_code
		FROM phone_codes WHERE code_hash = ?`, codeHash).Scan(&owner, &ph.PhoneNumber, &ph.PurePhoneNumber, &ph.CountryCode)
	if errors.Is(err, sql.ErrNoRows) {
		return "", profile.Phone{}, false, nil
	}
	if err != nil {
		return "", profile.Phone{}, false, profileErr("phone by code", err)
	}
	return owner, ph, true, nil
}

// PutAvatar implements profile.Store.
func (p *ProfileStore) PutAvatar(ctx context.Context, a profile.Avatar) error {
	_, err := p.s.w.ExecContext(ctx, `INSERT INTO avatars (name, content_type, data, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, a.Name, a.ContentType, a.Data, nowMillis())
	if err != nil {
		return profileErr("put avatar", err)
	}
	return nil
}

// Avatar implements profile.Store.
func (p *ProfileStore) Avatar(ctx context.Context, name string) (profile.Avatar, bool, error) {
	a := profile.Avatar{Name: name}
	err := p.s.r.QueryRowContext(ctx, `SELECT content_type, data FROM avatars WHERE name = ?`, name).Scan(&a.ContentType, &a.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return profile.Avatar{}, false, nil
	}
	if err != nil {
		return profile.Avatar{}, false, profileErr("get avatar", err)
	}
	return a, true, nil
}
