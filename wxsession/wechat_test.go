package wxsession_test

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat"
)

// fakeWeChat is a test-local stand-in for WeChat's jscode2session and for
// what wx.login / wx.getUserInfo give a client: each login makes a
// one-time code and a new session_key for the user.
type fakeWeChat struct {
	appID, secret string
	srv           *httptest.Server

	exchanges atomic.Int64
	delay     atomic.Int64 // nanoseconds each exchange waits
	errcode   atomic.Int64 // answered to every exchange when not 0

	mu    sync.Mutex
	codes map[string]string // code → user, until exchanged
	keys  map[string]string // user → current session_key
}

func newFakeWeChat(t testing.TB) *fakeWeChat {
	f := &fakeWeChat{appID: "wxtestapp", secret: "s3cr3t-app-secret", codes: map[string]string{}, keys: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveExchange))
	t.Cleanup(f.srv.Close)
	return f
}

func openID(user string) string { return "o" + fmt.Sprintf("%027s", user) }

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// login is wx.login(): a fresh code for user, and a new session_key.
func (f *fakeWeChat) login(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	code := randHex(16)
	f.codes[code] = user
	f.keys[user] = randHex(12)
	return code
}

// userInfo is wx.getUserInfo(): rawData and its signature.
func (f *fakeWeChat) userInfo(user string) (rawData, signature string) {
	f.mu.Lock()
	key := f.keys[user]
	f.mu.Unlock()
	raw, _ := json.Marshal(map[string]any{
		"nickName": "昵称 " + user, "gender": 1, "language": "zh_CN", "city": "Guangzhou",
		"province": "Guangdong", "country": "China", "avatarUrl": "https://wx.qlogo.cn/" + user + "/132",
	})
	return string(raw), sign(string(raw), key)
}

func sign(rawData, key string) string {
	sum := sha1.Sum([]byte(rawData + key))
	return hex.EncodeToString(sum[:])
}

func (f *fakeWeChat) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	f.exchanges.Add(1)
	if d := time.Duration(f.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return wechat.Session{}, ctx.Err()
		}
	}
	if c := f.errcode.Load(); c != 0 {
		return wechat.Session{}, &wechat.Error{Code: int(c), Msg: "injected"}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	user, ok := f.codes[code]
	if !ok {
		return wechat.Session{}, &wechat.Error{Code: wechat.CodeInvalidCode, Msg: "invalid code"}
	}
	delete(f.codes, code) // one exchange per code
	return wechat.Session{OpenID: openID(user), SessionKey: f.keys[user]}, nil
}

func (f *fakeWeChat) serveExchange(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	q := r.URL.Query()
	if r.URL.Path != "/sns/jscode2session" || q.Get("appid") != f.appID || q.Get("secret") != f.secret ||
		q.Get("grant_type") != "authorization_code" {
		json.NewEncoder(w).Encode(wechat.Error{Code: wechat.CodeInvalidAppID, Msg: "invalid appid"})
		return
	}
	s, err := f.Exchange(r.Context(), q.Get("js_code"))
	if err != nil {
		we, ok := err.(*wechat.Error)
		if !ok {
			we = &wechat.Error{Code: wechat.CodeSystemBusy, Msg: "busy"}
		}
		json.NewEncoder(w).Encode(we)
		return
	}
	json.NewEncoder(w).Encode(s)
}

// encodeURIComponent is JavaScript's, as the 2016 client applied it to
// rawData.
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
