package wxsession_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/yibi/yibi/wxsession"
)

// FuzzUserUnmarshal guards the fast path of User.UnmarshalJSON that
// BenchmarkUserUnmarshal measures: on any input, it must give what the
// general decoder (referenceUnmarshal, the decoder as it was before the
// fast path) gives.
func FuzzUserUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{}`, ` {"nickName":"a","gender":1} `, `{"gender":0}`, `{"gender":01}`, `{"gender":1.5}`,
		`{"gender":-1}`, `{"gender":1e2}`, `{"gender":1234567890}`, `{"gender":123456789}`,
		`{"nickName":"昵称","avatarUrl":"https://a/b","openId":"o1","unionId":"u1"}`,
		`{"unionId":""}`, `{"nickName":null}`, `{"nickName":"a","nickName":"b"}`,
		`{"nickName":"a\"b"}`, `{"nick\u004eame":"x"}`, `{"NickName":"x"}`, `{"x":1}`,
		"{\"city\":\"\xff\"}", "{\"city\":\"a\tb\"}", `{"city":"a"}x`, `{"city":"a",}`,
		"\v{\"city\":\"a\"}", `[]`, `null`, `{"gender":"1"}`, `{"gender":true}`, `{"city" : "a" , "gender" : 2 }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, want wxsession.User
		gotErr := got.UnmarshalJSON(data)
		wantErr := referenceUnmarshal(&want, data)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: got error %v, want %v", data, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %+v, want %+v", data, got, want)
		}
	})
}

// referenceUnmarshal is User.UnmarshalJSON without its fast path.
func referenceUnmarshal(u *wxsession.User, data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errors.New("not an object")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*u = wxsession.User{}
	strs := []struct {
		name string
		p    *string
	}{
		{"nickName", &u.NickName}, {"gender", nil}, {"language", &u.Language}, {"city", &u.City},
		{"province", &u.Province}, {"country", &u.Country}, {"avatarUrl", &u.AvatarURL},
		{"openId", &u.OpenID}, {"unionId", &u.UnionID},
	}
	for _, f := range strs {
		v, ok := raw[f.name]
		if !ok {
			continue
		}
		var err error
		switch {
		case bytes.Equal(v, []byte("null")):
			err = errors.New("null")
		case f.p == nil:
			err = json.Unmarshal(v, &u.Gender)
		default:
			err = json.Unmarshal(v, f.p)
		}
		if err == nil && f.name == "unionId" && u.UnionID == "" {
			err = errors.New("empty unionId")
		}
		if err != nil {
			if f.p == nil {
				u.Gender = 0
			} else {
				*f.p = ""
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
