package wxsession

import (
	"encoding/json"
	"testing"
)

func TestDecodeURIComponent(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"PlainUnchanged", `{"a":1}`, `{"a":1}`, true},
		{"ASCIIEscapes", "%7B%22a%22%3A1%7D", `{"a":1}`, true},
		{"LowerCaseHex", "%7b%7d", "{}", true},
		{"PlusStaysPlus", "a+b", "a+b", true},
		{"ChineseUTF8", "%E6%98%B5%E7%A7%B0", "昵称", true},
		{"EmojiFourBytes", "%F0%9F%98%80", "😀", true},
		{"RawUTF8PassesThrough", "昵称", "昵称", true},
		{"Empty", "", "", true},
		{"BadHexFails", "%ZZ", "", false},
		{"TruncatedFails", "%4", "", false},
		{"LonePercentFails", "%", "", false},
		{"IncompleteSequenceFails", "%E6%98", "", false},
		{"ContinuationUnescapedFails", "%E6\x98\xb5", "", false},
		{"LoneContinuationFails", "%98", "", false},
		{"OverlongFails", "%C0%AF", "", false},
		{"SurrogateFails", "%ED%A0%80", "", false},
		{"AboveMaxFails", "%F4%90%80%80", "", false},
		{"RawInvalidUTF8Fails", "\xff", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decodeURIComponent(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("decodeURIComponent(%q): got %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestUserJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"StandardFields",
			`{"nickName":"n","gender":2,"language":"en","city":"","province":"p","country":"c","avatarUrl":"u"}`,
			`{"nickName":"n","gender":2,"language":"en","city":"","province":"p","country":"c","avatarUrl":"u","openId":""}`},
		{"UnknownFieldsKept",
			`{"nickName":"n","is_demote":true,"x":{"y":[1,null]}}`,
			`{"nickName":"n","gender":0,"language":"","city":"","province":"","country":"","avatarUrl":"","openId":"","is_demote":true,"x":{"y":[1,null]}}`},
		{"WrongTypesKeptVerbatim",
			`{"gender":"1","city":null,"nickName":5,"unionId":""}`,
			`{"language":"","province":"","country":"","avatarUrl":"","openId":"","city":null,"gender":"1","nickName":5,"unionId":""}`},
		{"IDsKept",
			`{"openId":"o1","unionId":"u1"}`,
			`{"nickName":"","gender":0,"language":"","city":"","province":"","country":"","avatarUrl":"","openId":"o1","unionId":"u1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u User
			if err := json.Unmarshal([]byte(tt.in), &u); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			got, err := json.Marshal(u)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Marshal: got %s, %v, want %s", got, err, tt.want)
			}
			var again User
			if err := json.Unmarshal(got, &again); err != nil {
				t.Fatalf("Unmarshal again: %v", err)
			}
			if got2, _ := json.Marshal(again); string(got2) != string(got) {
				t.Errorf("second round trip: got %s, want %s", got2, got)
			}
		})
	}
	for _, bad := range []string{`[]`, `null`, `"x"`, `1`, `{`, `{}{}`} {
		var u User
		if err := json.Unmarshal([]byte(bad), &u); err == nil {
			t.Errorf("Unmarshal(%s): got no error, want one", bad)
		}
	}
}
