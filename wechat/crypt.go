package wechat

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Errors of Decrypt. Every one wraps ErrDecrypt, so a caller can answer
// all of them alike (a 4xx) and still tell them apart. ErrBadPadding and
// ErrNotJSON are what a session_key that WeChat has since replaced
// produces: check the key (Client.CheckSession) when they occur.
var (
	ErrDecrypt    = errors.New("wechat: cannot decrypt encryptedData")
	ErrBadBase64  = errors.New("wechat: not standard base64")
	ErrBadKey     = errors.New("wechat: session_key is not 16 bytes")
	ErrBadIV      = errors.New("wechat: iv is not 16 bytes")
	ErrBadLength  = errors.New("wechat: encryptedData is not a positive multiple of 16 bytes")
	ErrBadPadding = errors.New("wechat: bad PKCS#7 padding")
	ErrNotJSON    = errors.New("wechat: decrypted data is not a JSON object")
	ErrWatermark  = errors.New("wechat: watermark missing or for another app")
)

func decryptErr(err error, detail string) error {
	if detail != "" {
		return fmt.Errorf("%w: %w: %s", ErrDecrypt, err, detail)
	}
	return fmt.Errorf("%w: %w", ErrDecrypt, err)
}

// Decrypt decrypts the encryptedData of a client-side WeChat API (WeRun
// steps, share-ticket group info, the old phone flow) with the user's
// session_key: AES-128-CBC, key and iv 16 bytes each, all three inputs
// standard base64, strict PKCS#7. The plaintext must be a JSON object
// whose watermark.appid is appID; the answer is that object, re-encoded
// without its watermark (keys in sorted order, values as WeChat wrote
// them). Every failure wraps ErrDecrypt and one more sentinel; Decrypt
// never panics, whatever its input.
func Decrypt(sessionKey, encryptedData, iv, appID string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil {
		return nil, decryptErr(ErrBadBase64, "session_key")
	}
	if len(key) != 16 {
		return nil, decryptErr(ErrBadKey, "")
	}
	ivb, err := base64.StdEncoding.DecodeString(iv)
	if err != nil {
		return nil, decryptErr(ErrBadBase64, "iv")
	}
	if len(ivb) != aes.BlockSize {
		return nil, decryptErr(ErrBadIV, "")
	}
	data, err := base64.StdEncoding.DecodeString(encryptedData)
	if err != nil {
		return nil, decryptErr(ErrBadBase64, "encryptedData")
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, decryptErr(ErrBadLength, "")
	}
	block, _ := aes.NewCipher(key) // cannot fail: the key is 16 bytes
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, ivb).CryptBlocks(plain, data)
	plain, err = unpad(plain)
	if err != nil {
		return nil, decryptErr(err, "")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(plain, &obj); err != nil || obj == nil {
		return nil, decryptErr(ErrNotJSON, "")
	}
	var wm struct {
		AppID string `json:"appid"`
	}
	if raw, ok := obj["watermark"]; !ok || json.Unmarshal(raw, &wm) != nil || wm.AppID != appID || appID == "" {
		return nil, decryptErr(ErrWatermark, "")
	}
	delete(obj, "watermark")
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, decryptErr(ErrNotJSON, "")
	}
	return out, nil
}

// unpad removes strict PKCS#7 padding: 1 to 16 bytes, all equal to their
// count.
func unpad(b []byte) ([]byte, error) {
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, ErrBadPadding
	}
	if !bytes.Equal(b[len(b)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, ErrBadPadding
	}
	return b[:len(b)-n], nil
}

// Encrypt is Decrypt's inverse, as WeChat does it: AES-128-CBC of
// plaintext with PKCS#7 padding under sessionKey (standard base64) and a
// fresh random iv. The WeChat simulator and tests use it; plaintext
// should carry its watermark already.
func Encrypt(sessionKey string, plaintext []byte) (encryptedData, iv string, err error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 16 {
		return "", "", ErrBadKey
	}
	ivb := make([]byte, aes.BlockSize)
	_, _ = rand.Read(ivb) // never fails (crypto/rand)
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(n)}, n)...)
	block, _ := aes.NewCipher(key) // cannot fail: the key is 16 bytes
	cipher.NewCBCEncrypter(block, ivb).CryptBlocks(padded, padded)
	return base64.StdEncoding.EncodeToString(padded), base64.StdEncoding.EncodeToString(ivb), nil
}

// Sign is WeChat's user-state signature: hex HMAC-SHA256 of message keyed
// by the session_key as its base64 string (not the decoded bytes).
// checksession and resetusersessionkey sign the empty message.
func Sign(sessionKey, message string) string {
	m := hmac.New(sha256.New, []byte(sessionKey))
	m.Write([]byte(message))
	return hex.EncodeToString(m.Sum(nil))
}
