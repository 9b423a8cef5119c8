package wxsession

import (
	"bytes"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
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
