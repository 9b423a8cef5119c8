package wxsession

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// MinSecretBytes is the least length of Config.Secret: an AES-256 key's.
const MinSecretBytes = 32

// sealPrefix starts every sealed value. A session_key without it was
// stored in clear by a version before sealing (2016 or v1 of this
// library) and is used as it is, so an upgrade logs nobody out.
const sealPrefix = "s1."

// errUnseal is why a sealed value does not open: it was sealed under
// another secret (Config.Secret changed) or it was altered.
var errUnseal = errors.New("wxsession: sealed value does not open")

// deriveKey returns HMAC-SHA256(secret, label): a 32-byte key for one
// purpose, so that no two purposes share a key.
func deriveKey(secret []byte, label string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	return h.Sum(nil)
}

// newAEAD returns AES-256-GCM under key (32 bytes).
func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("wxsession: " + err.Error()) // key is always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("wxsession: " + err.Error())
	}
	return aead
}

// seal encrypts plain under aead, bound to ad (a copy moved to another
// user's record does not open), as sealPrefix + base64url(nonce || box).
func seal(aead cipher.AEAD, plain, ad string) string {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(nonce) // never fails (crypto/rand's contract since Go 1.24)
	box := aead.Seal(nonce, nonce, []byte(plain), []byte(ad))
	return sealPrefix + base64.RawURLEncoding.EncodeToString(box)
}

// open reverses seal. A value without sealPrefix is returned as it is
// (stored in clear before sealing existed).
func open(aead cipher.AEAD, sealed, ad string) (string, error) {
	b64, ok := strings.CutPrefix(sealed, sealPrefix)
	if !ok {
		return sealed, nil
	}
	box, err := base64.RawURLEncoding.DecodeString(b64)
	if err != nil || len(box) < aead.NonceSize()+aead.Overhead() {
		return "", errUnseal
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], []byte(ad))
	if err != nil {
		return "", errUnseal
	}
	return string(plain), nil
}

// keyring holds the keys derived from Config.Secret.
type keyring struct {
	secret     []byte
	sessionKey cipher.AEAD // seals session_key, bound to the openId
}

func newKeyring(secret []byte) *keyring {
	return &keyring{secret: secret, sessionKey: newAEAD(deriveKey(secret, "wxsession session_key"))}
}

// sealSessionKey seals a session_key of openID for the store.
func (k *keyring) sealSessionKey(openID, sessionKey string) string {
	if sessionKey == "" {
		return ""
	}
	return seal(k.sessionKey, sessionKey, openID)
}

// openSessionKey opens what sealSessionKey made (or a legacy clear key).
func (k *keyring) openSessionKey(openID, sealed string) (string, error) {
	return open(k.sessionKey, sealed, openID)
}

// codeAEAD is the key that seals a login's token in its code's exchange
// record: derived from the secret and the code, so neither a copy of the
// store alone nor the code alone opens it, and each code has its own key.
func (k *keyring) codeAEAD(code string) cipher.AEAD {
	return newAEAD(deriveKey(k.secret, "wxsession token:"+code))
}

// defaultSecret is the secret when Config.Secret is not set: derived from
// the app secret, which every instance of an app shares.
func defaultSecret(appSecret string) []byte {
	return deriveKey([]byte(appSecret), "wxsession session_key v1")
}
