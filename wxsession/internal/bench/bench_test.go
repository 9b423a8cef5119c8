package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/testenv"
)

// benchUser is a session user as wx.getUserInfo() gives it: every field of
// rawData filled in, like a real login stores it.
var benchUser = wxsession.User{
	OpenID: "oBenchOpenID0123456789abcdef", NickName: "一笔到底的用户", Gender: 1, Language: "zh_CN",
	City: "Guangzhou", Province: "Guangdong", Country: "China",
	AvatarURL: "https://wx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTKxKaTz1jPm7M3bW8aLjZ0oibCz2Qx3yKrUzDBiawq0KuicC7Uc1Ws3a9jCnVjQ/132",
}

// benchCode is the cached session's login code (WeChat's are 32 characters).
const benchCode = "0123456789abcdef0123456789abcdef"

// okHandler is the business handler of the session benchmarks: it fails
// when a request with X-WX-Code reaches it without a user, and otherwise
// answers a small JSON body, like a paint API answer without paints.
var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, found := wxsession.FromContext(r.Context()); !found && r.Header.Get("X-WX-Code") != "" {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	bareHandler(w, r)
})

// bareHandler is okHandler without the session check: the handler served
// bare in BenchmarkMiddlewareHTTP, where requests carry X-WX-Code too.
func bareHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, `{"code":0,"msg":"success","data":[]}`)
}

// benchKey is the session_key of the benchmarks' sessions.
const benchKey = "bench-session-key"

// anyCode is an exchanger that accepts every code: the benchmarks measure
// cached sessions, never an exchange.
type anyCode struct{}

func (anyCode) Exchange(context.Context, string) (wechat.Session, error) {
	return wechat.Session{OpenID: benchUser.OpenID, SessionKey: benchKey}, nil
}

// quietLogger drops every record.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchStores are the session stores every session benchmark runs on.
var benchStores = []struct {
	name string
	open func(b *testing.B) wxsession.Store
}{
	{"memstore", func(b *testing.B) wxsession.Store {
		s := memstore.New()
		b.Cleanup(func() { s.Close() })
		return s
	}},
	// Redis with its local cache kept fresh by client tracking (the default).
	{"redisstore", func(b *testing.B) wxsession.Store {
		return openRedisStore(b, redisstore.Options{})
	}},
	// Redis asked on every request.
	{"redisstore-nocache", func(b *testing.B) wxsession.Store {
		return openRedisStore(b, redisstore.Options{CacheEntries: -1})
	}},
}

// openRedisStore starts a Redis and opens a store on it with opts; with a
// cache, it waits until tracking is on.
func openRedisStore(b *testing.B, opts redisstore.Options) *redisstore.Store {
	r := testenv.StartRedis(b)
	client := redis.NewClient(&redis.Options{Addr: r.Addr})
	s := redisstore.New(client, opts)
	b.Cleanup(func() { s.Close(); client.Close() })
	for deadline := time.Now().Add(5 * time.Second); opts.CacheEntries >= 0 && !s.Tracking(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("redisstore: tracking not on after 5s")
		}
	}
	return s
}

// BenchmarkMiddleware measures a request with a cached session (X-WX-Code
// only) through the middleware on each store, against the bare handler,
// in process (httptest.NewRecorder, parallel): the session layer's own
// cost. The handler writes nothing, as in the first version of this
// benchmark, so that its figures stay comparable.
func BenchmarkMiddleware(b *testing.B) {
	empty := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, found := wxsession.FromContext(r.Context()); !found && r.Header.Get("X-WX-Code") != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	b.Run("bare", func(b *testing.B) {
		benchRequests(b, empty, "")
	})
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			benchRequests(b, cachedSession(b, s, empty), benchCode)
		})
	}
}

// cachedSession stores benchUser's session under benchCode in s and
// returns next behind a middleware on s.
func cachedSession(b *testing.B, s wxsession.Store, next http.Handler) http.Handler {
	b.Helper()
	m, err := wxsession.New(wxsession.Config{Exchanger: anyCode{}, Store: s, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	sess := wxsession.Session{User: benchUser, SessionKey: benchKey}
	if err := s.Login(context.Background(), benchCode, sess, time.Hour); err != nil {
		b.Fatal(err)
	}
	return m.Handler(next)
}

func benchRequests(b *testing.B, h http.Handler, code string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		if code != "" {
			r.Header.Set("X-WX-Code", code)
		}
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkMiddlewareHTTP measures what a mini program sees: whole-request
// latency over real loopback HTTP with a keep-alive client, for a request
// with a cached session, through the middleware on each store, against the
// same handler served bare, at the same concurrency (conc=1 is serial).
//
// Both servers run side by side in one benchmark, in alternating blocks of
// requests, so that the load of a shared machine hits both alike. Reported:
// bare-us and mw-us (mean latency of one request, µs), ratio (mw-us /
// bare-us; the targets are ≤ 1.05 for memstore and ≤ 1.3 for redisstore),
// and mw-rps-ratio (the middleware server's throughput over the bare one's).
// ns/op is the wall time of one bare request plus one middleware request.
func BenchmarkMiddlewareHTTP(b *testing.B) {
	for _, st := range benchStores {
		for _, conc := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/conc=%d", st.name, conc), func(b *testing.B) {
				s := st.open(b)
				bare := httptest.NewServer(http.HandlerFunc(bareHandler))
				b.Cleanup(bare.Close)
				mw := httptest.NewServer(cachedSession(b, s, okHandler))
				b.Cleanup(mw.Close)
				hdr := http.Header{"X-Wx-Code": {benchCode}}
				// The bare server gets the same header, so that both
				// requests are the same bytes on the wire.
				testenv.Paired(b, conc,
					getter(b, bare.URL, hdr, conc),
					getter(b, mw.URL, hdr, conc),
					testenv.PairNames{Base: "bare-us", Subject: "mw-us", RPS: "mw-rps-ratio"})
			})
		}
	}
}

// getter returns a function that GETs url with hdr over a keep-alive
// client of conc connections, reads the whole answer and checks for 200.
func getter(b *testing.B, url string, hdr http.Header, conc int) func() error {
	t := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}
	b.Cleanup(t.CloseIdleConnections)
	client := &http.Client{Transport: t}
	return func() error {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			return err
		}
		req.Header = hdr.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
}

// BenchmarkLogin measures a whole login over loopback HTTP: the request
// with X-WX-Code, X-WX-RawData and X-WX-Signature through the middleware,
// whose code exchange goes over HTTP to the WeChat simulator, storing the
// session on each store. The simulator's wx.login and wx.getUserInfo (the
// phone's part) are done beforehand, off the clock. Users take turns
// among 1000, so most logins also revoke the user's previous session.
func BenchmarkLogin(b *testing.B) {
	const appID, secret = "wxbench", "bench-secret"
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}})
			simSrv := httptest.NewServer(sim)
			b.Cleanup(simSrv.Close)
			m, err := wxsession.New(wxsession.Config{
				Exchanger: &wechat.Client{AppID: appID, Secret: secret, BaseURL: simSrv.URL},
				Store:     s, Logger: quietLogger,
			})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(m.Handler(okHandler))
			b.Cleanup(srv.Close)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			b.Cleanup(client.CloseIdleConnections)

			type login struct{ code, rawData, sig string }
			logins := make([]login, 0, 1000)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%cap(logins) == 0 {
					b.StopTimer()
					logins = logins[:0]
					for u := range cap(logins) {
						user := fmt.Sprint("bench-user-", u)
						code, err := sim.Login(appID, user)
						if err != nil {
							b.Fatal(err)
						}
						raw, sig, err := sim.UserInfo(appID, user)
						if err != nil {
							b.Fatal(err)
						}
						logins = append(logins, login{code, wxsession.EncodeRawData(raw), sig})
					}
					b.StartTimer()
				}
				l := logins[i%cap(logins)]
				req, _ := http.NewRequest("GET", srv.URL, nil)
				req.Header.Set("X-WX-Code", l.code)
				req.Header.Set("X-WX-RawData", l.rawData)
				req.Header.Set("X-WX-Signature", l.sig)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("login: status %d: %s", resp.StatusCode, body)
				}
			}
		})
	}
}

// BenchmarkStoreGet measures one Get of a cached session, serially (the
// latency one request pays), on each store; for Redis also the parts of
// it: a PING and a GET of the stored bytes without decoding them. They
// show how much of a Redis session check is the round trip to Redis.
func BenchmarkStoreGet(b *testing.B) {
	ctx := context.Background()
	sess := wxsession.Session{User: benchUser, SessionKey: benchKey}
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b)
			if err := s.Login(ctx, benchCode, sess, time.Hour); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, found, err := s.Get(ctx, benchCode); !found || err != nil {
					b.Fatalf("Get: found %v, err %v", found, err)
				}
			}
		})
	}
	r := testenv.StartRedis(b)
	client := redis.NewClient(&redis.Options{Addr: r.Addr})
	b.Cleanup(func() { client.Close() })
	if err := redisstore.New(client, redisstore.Options{CacheEntries: -1}).Login(ctx, benchCode, sess, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Run("redis-GET-bytes", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := client.Get(ctx, redisstore.DefaultPrefix+"code:"+benchCode).Bytes(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redis-PING", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := client.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUserUnmarshal measures decoding a stored user (the Redis store
// does it on every request with a session; a login does it once).
func BenchmarkUserUnmarshal(b *testing.B) {
	for _, tt := range []struct {
		name string
		u    wxsession.User
	}{
		{"plain", benchUser},
		{"extra", func() wxsession.User {
			u := benchUser
			u.Extra = map[string]json.RawMessage{"is_demote": json.RawMessage(`true`)}
			return u
		}()},
	} {
		data, err := tt.u.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var u wxsession.User
				if err := u.UnmarshalJSON(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
