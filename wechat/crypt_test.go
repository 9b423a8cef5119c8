package wechat_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/yibi/yibi/wechat"
)

// WeChat's published encryptedData demo (the sample of its decryption
// guide, shipped with WXBizDataCrypt in every language).
const (
	demoAppID      = "wx4f4bc4dec97d474b"
	demoSessionKey = "tiihtNczf5v6AKRyjwEUhQ=="
	demoIV         = "r7BXXKkLb8qrSNn05n0qiA=="
	demoData       = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew=="
)

func TestDecryptDemo(t *testing.T) {
	got, err := wechat.Decrypt(demoSessionKey, demoData, demoIV, demoAppID)
	if err != nil {
		t.Fatalf("got error %v, want the demo's user info", err)
	}
	var u map[string]any
	if err := json.Unmarshal(got, &u); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"openId": "oGZUI0egBJY1zhBYw2KhdUfwVJJE", "nickName": "Band", "gender": 1.0,
		"language": "zh_CN", "city": "Guangzhou", "province": "Guangdong", "country": "CN",
		"unionId": "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
	}
	for k, v := range want {
		if u[k] != v {
			t.Errorf("%s: got %v, want %v", k, u[k], v)
		}
	}
	if _, ok := u["watermark"]; ok {
		t.Errorf("got %s, want no watermark", got)
	}
}

func TestSignHMACExample(t *testing.T) {
	// WeChat's documented user-state signature example.
	got := wechat.Sign("o0q0otL8aEzpcZL/FT9WsQ==", `{"foo":"bar"}`)
	want := "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDecryptErrors(t *testing.T) {
	key := demoSessionKey
	mine, mineIV, err := wechat.Encrypt(key, []byte(`{"a":1,"watermark":{"appid":"wxmine","timestamp":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	foreign, foreignIV, _ := wechat.Encrypt(key, []byte(`{"a":1,"watermark":{"appid":"wxother","timestamp":1}}`))
	noMark, noMarkIV, _ := wechat.Encrypt(key, []byte(`{"a":1}`))
	notObj, notObjIV, _ := wechat.Encrypt(key, []byte(`[1,2]`))
	// A last block whose padding bytes disagree: re-encrypt raw blocks.
	badPad := encryptRaw(t, key, mineIV, []byte("0123456789abcde\x02"))
	otherKey := base64.StdEncoding.EncodeToString([]byte("another 16 bytes"))

	tests := []struct {
		name               string
		key, data, iv, app string
		want               error
	}{
		{"OK", key, mine, mineIV, "wxmine", nil},
		{"ErrWatermarkForeign", key, foreign, foreignIV, "wxmine", wechat.ErrWatermark},
		{"ErrWatermarkMissing", key, noMark, noMarkIV, "wxmine", wechat.ErrWatermark},
		{"ErrWatermarkEmptyApp", key, mine, mineIV, "", wechat.ErrWatermark},
		{"ErrNotJSONArray", key, notObj, notObjIV, "wxmine", wechat.ErrNotJSON},
		{"ErrBadPadding", key, badPad, mineIV, "wxmine", wechat.ErrBadPadding},
		{"ErrStaleKey", otherKey, mine, mineIV, "wxmine", wechat.ErrDecrypt},
		{"ErrBadIVShort", key, mine, base64.StdEncoding.EncodeToString([]byte("short iv")), "wxmine", wechat.ErrBadIV},
		{"ErrBadIVEmpty", key, mine, "", "wxmine", wechat.ErrBadIV},
		{"ErrBadBase64Data", key, "not base64!!", mineIV, "wxmine", wechat.ErrBadBase64},
		{"ErrBadBase64URLAlphabet", key, strings.NewReplacer("+", "-", "/", "_").Replace(demoData), demoIV, demoAppID, wechat.ErrBadBase64},
		{"ErrBadBase64IV", key, mine, "***", "wxmine", wechat.ErrBadBase64},
		{"ErrBadBase64Key", "%%%", mine, mineIV, "wxmine", wechat.ErrBadBase64},
		{"ErrBadKeyLength", base64.StdEncoding.EncodeToString([]byte("8 bytes!")), mine, mineIV, "wxmine", wechat.ErrBadKey},
		{"ErrBadLengthEmpty", key, "", mineIV, "wxmine", wechat.ErrBadLength},
		{"ErrBadLengthOdd", key, base64.StdEncoding.EncodeToString([]byte("seventeen bytes!!")), mineIV, "wxmine", wechat.ErrBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wechat.Decrypt(tt.key, tt.data, tt.iv, tt.app)
			if tt.want == nil {
				if err != nil || string(got) != `{"a":1}` {
					t.Errorf("got %s, %v, want {\"a\":1}", got, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, wechat.ErrDecrypt) {
				t.Errorf("got %v, want %v wrapped in ErrDecrypt", err, tt.want)
			}
			if got != nil {
				t.Errorf("got %q with the error, want nil", got)
			}
		})
	}
}

// encryptRaw encrypts exactly the blocks given with AES-128-CBC, without
// padding, to make ciphertexts whose padding is wrong.
func encryptRaw(t *testing.T, key, iv string, blocks []byte) string {
	t.Helper()
	k, _ := base64.StdEncoding.DecodeString(key)
	ivb, _ := base64.StdEncoding.DecodeString(iv)
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, len(blocks))
	cipher.NewCBCEncrypter(block, ivb).CryptBlocks(out, blocks)
	return base64.StdEncoding.EncodeToString(out)
}

func FuzzDecrypt(f *testing.F) {
	f.Add(demoSessionKey, demoData, demoIV, demoAppID)
	f.Add(demoSessionKey, demoData[:24], demoIV, demoAppID)
	f.Add("", "", "", "")
	f.Add(demoSessionKey, "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA==", "x")
	f.Fuzz(func(t *testing.T, key, data, iv, app string) {
		got, err := wechat.Decrypt(key, data, iv, app)
		if err != nil {
			if !errors.Is(err, wechat.ErrDecrypt) {
				t.Fatalf("got %v, want an error wrapping ErrDecrypt", err)
			}
			if got != nil {
				t.Fatalf("got %q with an error", got)
			}
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(got, &obj) != nil {
			t.Fatalf("got %q, want a JSON object", got)
		}
		if _, ok := obj["watermark"]; ok {
			t.Fatalf("got %q, want the watermark removed", got)
		}
	})
}
