package wxsession_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

// fakeWeChat is the WeChat simulator served by httptest, with counters
// the tests read: the number of exchanges, and every session_key handed
// out (which must never reach a client or a log).
type fakeWeChat struct {
	appID, secret string
	sim           *wechatsim.Sim
	srv           *httptest.Server

	exchanges atomic.Int64

	mu    sync.Mutex
	users map[string]string // openid → user
	keys  map[string]string // user → last session_key exchanged
}

func newFakeWeChat(t testing.TB) *fakeWeChat {
	f := &fakeWeChat{appID: "wxtestapp", secret: "s3cr3t-app-secret", users: map[string]string{}, keys: map[string]string{}}
	f.sim = wechatsim.New(wechatsim.Config{Apps: map[string]string{f.appID: f.secret}})
	f.srv = httptest.NewServer(http.HandlerFunc(f.serveExchange))
	t.Cleanup(f.srv.Close)
	return f
}

func openID(user string) string { return wechatsim.OpenID("wxtestapp", user) }

// login is wx.login(): a fresh code for user, and a new session_key.
func (f *fakeWeChat) login(user string) string {
	code, err := f.sim.Login(f.appID, user)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.users[openID(user)] = user
	f.mu.Unlock()
	return code
}

// userInfo is wx.getUserInfo(): rawData and its signature.
func (f *fakeWeChat) userInfo(user string) (rawData, signature string) {
	raw, sig, err := f.sim.UserInfo(f.appID, user)
	if err != nil {
		panic(err)
	}
	return raw, sig
}

func (f *fakeWeChat) record(s wechat.Session) {
	f.mu.Lock()
	f.keys[f.users[s.OpenID]] = s.SessionKey
	f.mu.Unlock()
}

// Exchange is the in-process exchange, counted.
func (f *fakeWeChat) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	f.exchanges.Add(1)
	s, err := f.sim.Exchanger(f.appID, f.secret).Exchange(ctx, code)
	if err == nil {
		f.record(s)
	}
	return s, err
}

// serveExchange is the simulator's HTTP API, exchanges counted.
func (f *fakeWeChat) serveExchange(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sns/jscode2session" {
		f.exchanges.Add(1)
	}
	rec := httptest.NewRecorder()
	f.sim.ServeHTTP(rec, r)
	var s wechat.Session
	if json.Unmarshal(rec.Body.Bytes(), &s) == nil && s.SessionKey != "" {
		f.record(s)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// sign is the contract's signature: sha1(rawData + session_key) in hex.
func sign(rawData, key string) string {
	sum := sha1.Sum([]byte(rawData + key))
	return hex.EncodeToString(sum[:])
}
