// Package profile is the v2 user profile of protocol-v2.md: the nickname a
// user typed in <input type="nickname">, the avatar chosen with
// <button open-type="chooseAvatar"> (stored re-encoded, by content hash) and
// the phone number bound with <button open-type="getPhoneNumber">.
//
// The Store interface is implemented on the paint store's databases
// (internal/sqlite, internal/mongo) and checked by one conformance suite,
// profiletest. The HTTP routes live in internal/account.
package profile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of this package and its stores.
var (
	// ErrUnavailable is wrapped by stores for system faults (a down
	// server, a timeout, a closed database): the request may succeed later.
	ErrUnavailable = errors.New("profile: store unavailable")
	// ErrNickName is wrapped by ValidNickName's refusals.
	ErrNickName = errors.New("profile: invalid nickName")
	// ErrCodeTaken is returned by Store.SavePhone when the phone code was
	// stored for another user before: a code answers one user only.
	ErrCodeTaken = errors.New("profile: phone code belongs to another user")
)

// MaxNickNameRunes is the longest nickName, in characters (protocol-v2.md).
const MaxNickNameRunes = 32

// Profile is one user's v2 profile. The zero Profile (with OpenID set) is
// a user who has saved nothing yet.
type Profile struct {
	OpenID   string
	NickName string
	// Avatar is the stored avatar's name ("<hash>.png" or "<hash>.jpg"),
	// empty when the user has none.
	Avatar string
	// Phone is the bound number; its zero value means none.
	Phone Phone
}

// HasPhone reports whether the user bound a phone number.
func (p Profile) HasPhone() bool { return p.Phone.PurePhoneNumber != "" }

// Phone is a number as WeChat's getuserphonenumber gives it, with the hash
// of the getPhoneNumber code it came from (CodeHash), so that a retried
// code is answered from the store instead of a second paid call.
type Phone struct {
	PhoneNumber     string
	PurePhoneNumber string
	CountryCode     string
	CodeHash        string
}

// Update is a change to a profile: nil fields are kept as they are.
type Update struct {
	NickName *string
	Avatar   *string
}

// Avatar is a stored avatar image.
type Avatar struct {
	// Name is "<hash>.<png|jpg>", hash being CodeHash-like hex of the
	// image bytes (see AvatarName).
	Name        string
	ContentType string
	Data        []byte
}

// Store keeps profiles, phone codes and avatars. Implementations are safe
// for concurrent use. Not found is a false found, never an error; errors
// are system faults and wrap ErrUnavailable when a retry may succeed.
type Store interface {
	// Get returns openID's profile; found is false when the user never
	// saved anything.
	Get(ctx context.Context, openID string) (p Profile, found bool, err error)
	// Update applies u to openID's profile, creating it if needed, and
	// returns the profile as stored.
	Update(ctx context.Context, openID string, u Update) (Profile, error)
	// SavePhone binds ph to openID and records ph.CodeHash as openID's,
	// atomically. A code hash recorded for another user before gives
	// ErrCodeTaken and changes nothing; the same user saving it again
	// succeeds (and rebinds that number).
	SavePhone(ctx context.Context, openID string, ph Phone) error
	// PhoneByCode returns the user a phone code was stored for and the
	// number it gave.
	PhoneByCode(ctx context.Context, codeHash string) (openID string, ph Phone, found bool, err error)
	// PutAvatar stores a. Storing the same name again is a no-op: the
	// name is the content's hash.
	PutAvatar(ctx context.Context, a Avatar) error
	// Avatar returns the avatar stored under name.
	Avatar(ctx context.Context, name string) (a Avatar, found bool, err error)
}

// ValidNickName checks a nickName: 1 to 32 characters of valid UTF-8 with
// no control characters. It is stored exactly as sent (no trimming or
// normalisation), so what the user typed is what others see.
func ValidNickName(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrNickName)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not UTF-8", ErrNickName)
	}
	if n := utf8.RuneCountInString(s); n > MaxNickNameRunes {
		return fmt.Errorf("%w: %d characters, at most %d", ErrNickName, n, MaxNickNameRunes)
	}
	for _, r := range s {
		// unicode.IsControl is C0, DEL and C1; the format characters
		// that reorder text (U+202E and friends) are refused too, since a
		// name is shown beside others'.
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return fmt.Errorf("%w: control character %U", ErrNickName, r)
		}
	}
	return nil
}

// CodeHash is the stored form of a getPhoneNumber code: hex SHA-256. The
// code itself is a one-time secret and is never stored.
func CodeHash(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// AvatarName is the name of an avatar with the given encoded bytes and
// extension ("png" or "jpg"): 128 bits of their SHA-256 in hex, so the
// name changes exactly when the content does and can be cached forever.
func AvatarName(data []byte, ext string) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16]) + "." + ext
}

// ValidAvatarName reports whether name has AvatarName's shape, so a
// request path can be checked before any store is asked.
func ValidAvatarName(name string) bool {
	hash, ext, ok := cutLast(name, '.')
	if !ok || (ext != "png" && ext != "jpg") || len(hash) != 32 {
		return false
	}
	for i := 0; i < len(hash); i++ {
		c := hash[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// ContentType is the media type of an avatar name's extension.
func ContentType(name string) string {
	if _, ext, _ := cutLast(name, '.'); ext == "jpg" {
		return "image/jpeg"
	}
	return "image/png"
}
