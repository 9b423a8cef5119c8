package wxsession_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/internal/testenv"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
	"github.com/yibi/yibi/wxsession/redisstore"
)

// BenchmarkMiddleware measures a request with a cached session (X-WX-Code
// only) through the middleware on each store, against the bare handler.
func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, found := wxsession.FromContext(r.Context()); !found && r.Header.Get("X-WX-Code") != "" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	b.Run("bare", func(b *testing.B) {
		benchRequests(b, ok, "")
	})
	b.Run("memstore", func(b *testing.B) {
		s := memstore.New()
		b.Cleanup(func() { s.Close() })
		benchStore(b, s, ok)
	})
	b.Run("redisstore", func(b *testing.B) {
		r := testenv.StartRedis(b)
		client := redis.NewClient(&redis.Options{Addr: r.Addr})
		b.Cleanup(func() { client.Close() })
		benchStore(b, redisstore.New(client, redisstore.Options{}), ok)
	})
}

func benchStore(b *testing.B, s wxsession.Store, next http.Handler) {
	m, err := wxsession.New(wxsession.Config{
		Exchanger: anyCode{}, Store: s,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	const code = "0123456789abcdef0123456789abcdef"
	sess := wxsession.Session{User: wxsession.User{OpenID: "o-bench", NickName: "bench", AvatarURL: "https://wx.qlogo.cn/x/132"}, SessionKey: fuzzKey}
	if err := s.Login(context.Background(), code, sess, time.Hour); err != nil {
		b.Fatal(err)
	}
	benchRequests(b, m.Handler(next), code)
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
