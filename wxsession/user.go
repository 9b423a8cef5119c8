package wxsession

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"unicode/utf8"
)

// User is the logged-in user of a request: the rawData object that
// wx.getUserInfo() gave the client, plus the openId (and unionId) that
// WeChat's code exchange answered.
//
// Its JSON form is the rawData object with "openId" (and "unionId" when
// known) added, which is what the 2016 server stored and handed to
// business code. The well-known rawData fields are typed; every other
// field, and any well-known field whose JSON type is not the expected one,
// is kept verbatim in Extra, so encoding a decoded User gives back every
// field of the original object.
type User struct {
	// OpenID identifies the user within this app. It always comes from
	// WeChat's code exchange (or is the pseudo openId of IgnoreSignature),
	// never from the client.
	OpenID string
	// UnionID identifies the user across the apps of one WeChat open
	// platform account; empty when WeChat gave none.
	UnionID string

	NickName  string
	AvatarURL string
	// Gender is 0 (unknown), 1 (male) or 2 (female).
	Gender   int
	Language string
	City     string
	Province string
	Country  string

	// Extra holds every other field of the rawData object, as raw JSON,
	// keyed by field name. A key here takes precedence over the typed
	// field of the same name when encoding.
	Extra map[string]json.RawMessage
}

// errNotObject is returned when a JSON value that must be a user object is
// something else.
var errNotObject = errors.New("wxsession: user JSON is not an object")

// field describes one typed User field: its JSON name and how to reach it.
type field struct {
	name string
	str  func(u *User) *string // nil for Gender
}

// fields lists the typed fields in the order MarshalJSON writes them: the
// order of WeChat's rawData, then the server-added ids.
var fields = []field{
	{"nickName", func(u *User) *string { return &u.NickName }},
	{"gender", nil},
	{"language", func(u *User) *string { return &u.Language }},
	{"city", func(u *User) *string { return &u.City }},
	{"province", func(u *User) *string { return &u.Province }},
	{"country", func(u *User) *string { return &u.Country }},
	{"avatarUrl", func(u *User) *string { return &u.AvatarURL }},
	{"openId", func(u *User) *string { return &u.OpenID }},
	{"unionId", func(u *User) *string { return &u.UnionID }},
}

// MarshalJSON encodes u as one JSON object: the seven rawData fields of
// wx.getUserInfo(), openId, unionId when not empty, then Extra in key order.
func (u User) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteByte('{')
	first := true
	key := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeString(&b, name)
		b.WriteByte(':')
	}
	for _, f := range fields {
		if _, ok := u.Extra[f.name]; ok {
			continue
		}
		if f.name == "unionId" && u.UnionID == "" {
			continue
		}
		key(f.name)
		if f.str == nil {
			b.WriteString(strconv.Itoa(u.Gender))
			continue
		}
		writeString(&b, *f.str(&u))
	}
	names := make([]string, 0, len(u.Extra))
	for name := range u.Extra {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := u.Extra[name]
		if !json.Valid(v) {
			return nil, errors.New("wxsession: User.Extra[" + strconv.Quote(name) + "] is not valid JSON")
		}
		key(name)
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeString writes s as a JSON string.
func writeString(b *bytes.Buffer, s string) {
	// json.Marshal of a string cannot fail; it escapes <, > and & too,
	// which keeps the encoding safe to embed anywhere.
	v, _ := json.Marshal(s)
	b.Write(v)
}

// UnmarshalJSON decodes a JSON object into u, replacing its contents.
// Anything but an object is an error.
func (u *User) UnmarshalJSON(data []byte) error {
	if unmarshalPlain(u, data) {
		return nil
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errNotObject
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*u = User{}
	for _, f := range fields {
		v, ok := raw[f.name]
		if !ok {
			continue
		}
		var err error
		if bytes.Equal(v, []byte("null")) {
			err = errNotObject // keep null verbatim rather than turn it into ""
		} else if f.str == nil {
			err = json.Unmarshal(v, &u.Gender)
		} else {
			err = json.Unmarshal(v, f.str(u))
		}
		if err == nil && f.name == "unionId" && u.UnionID == "" {
			err = errNotObject // MarshalJSON omits an empty UnionID; keep the field verbatim
		}
		if err != nil {
			if f.str == nil {
				u.Gender = 0
			} else {
				*f.str(u) = ""
			}
			continue
		}
		delete(raw, f.name)
	}
	if len(raw) > 0 {
		u.Extra = raw
	}
	return nil
}

// unmarshalPlain decodes, without encoding/json, the objects that logins
// and stores nearly always hold: only typed fields, each at most once, with
// plain values (strings of valid UTF-8 without escapes or control
// characters, a non-empty unionId, gender a small non-negative integer),
// and JSON whitespace only. For those it sets u to exactly what the general
// decoder in UnmarshalJSON gives, about ten times faster (the Redis store
// decodes a user on every request with a session); for anything else it
// returns false and leaves u alone.
func unmarshalPlain(u *User, data []byte) bool {
	var n User
	var seen uint16 // bit i: fields[i] was set
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		if skipSpace(data, i+1) != len(data) {
			return false
		}
		*u = n
		return true
	}
	for {
		key, j, ok := plainString(data, i)
		if !ok {
			return false
		}
		f := fieldIndex(key)
		if f < 0 || seen&(1<<f) != 0 {
			return false
		}
		seen |= 1 << f
		j = skipSpace(data, j)
		if j >= len(data) || data[j] != ':' {
			return false
		}
		j = skipSpace(data, j+1)
		if fields[f].str == nil {
			if n.Gender, j, ok = smallInt(data, j); !ok {
				return false
			}
		} else {
			var v []byte
			if v, j, ok = plainString(data, j); !ok {
				return false
			}
			if len(v) == 0 && fields[f].name == "unionId" {
				return false // kept verbatim in Extra by the general decoder
			}
			*fields[f].str(&n) = string(v)
		}
		j = skipSpace(data, j)
		if j >= len(data) {
			return false
		}
		switch data[j] {
		case ',':
			i = skipSpace(data, j+1)
		case '}':
			if skipSpace(data, j+1) != len(data) {
				return false
			}
			*u = n
			return true
		default:
			return false
		}
	}
}

// fieldIndex returns the index in fields of the field named key, or -1.
func fieldIndex(key []byte) int {
	for i, f := range fields {
		if string(key) == f.name {
			return i
		}
	}
	return -1
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// plainString reads the JSON string starting at data[i] and returns its
// contents and the index after its closing quote. ok is false unless it
// is a string with no escapes and no control characters whose contents
// are valid UTF-8, which then decodes to exactly those bytes.
func plainString(data []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			s = data[i+1 : j]
			return s, j + 1, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, i, false
		}
	}
	return nil, i, false
}

// smallInt reads the JSON number at data[i] if it is 0 or a positive
// integer of at most 9 digits with no fraction or exponent; a number that
// goes on (a fraction, an exponent, more digits) is left to the caller's
// check of the byte that follows.
func smallInt(data []byte, i int) (v, next int, ok bool) {
	if i >= len(data) || data[i] < '0' || data[i] > '9' {
		return 0, i, false
	}
	if data[i] == '0' {
		return 0, i + 1, true
	}
	j := i
	for j < len(data) && j-i < 9 && '0' <= data[j] && data[j] <= '9' {
		v = v*10 + int(data[j]-'0')
		j++
	}
	return v, j, true
}
