package redisstore_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
	"github.com/yibi/yibi/wxsession/testenv"
)

// TestMiddlewareStoreDown: with Redis down the middleware answers 503 with
// the session envelope and reports ResultStoreUnavailable to OnLogin; once
// Redis is back, logins work again.
func TestMiddlewareStoreDown(t *testing.T) {
	r := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: r.Addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	results := make(chan string, 10)
	m, err := wxsession.New(wxsession.Config{
		Store: redisstore.New(client, redisstore.Options{Prefix: newPrefix()}),
		// The store is what this test is about: no WeChat exchange.
		IgnoreSignature: true,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnLogin:         func(_ context.Context, result string, _ time.Duration) { results <- result },
	})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := wxsession.FromContext(r.Context())
		io.WriteString(w, u.OpenID)
	}))
	do := func(login bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("X-WX-Code", "code-grace")
		if login {
			req.Header.Set("X-WX-RawData", wxsession.EncodeRawData(`{"nickName":"grace","avatarUrl":"https://a/grace.png"}`))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	lastResult := func() string {
		select {
		case res := <-results:
			return res
		case <-time.After(5 * time.Second):
			t.Fatal("OnLogin not called")
			return ""
		}
	}
	if w := do(true); w.Code != http.StatusOK || w.Body.Len() == 0 {
		t.Fatalf("login: got %d %q, want 200 and an openId", w.Code, w.Body)
	}
	lastResult()
	r.Stop()
	tests := []struct {
		name  string
		login bool
	}{
		{"CodeOnlyUnavailable", false},
		{"LoginUnavailable", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(tt.login)
			var env map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env["F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"] != 1.0 {
				t.Errorf("body: got %q, want the session envelope", w.Body)
			}
			if _, ok := env["reason"]; ok {
				t.Errorf("reason: got %v, want absent", env["reason"])
			}
			if w.Code != http.StatusServiceUnavailable {
				t.Errorf("status: got %d, want 503", w.Code)
			}
			if tt.login {
				if got := lastResult(); got != wxsession.ResultStoreUnavailable {
					t.Errorf("OnLogin result: got %q, want %q", got, wxsession.ResultStoreUnavailable)
				}
			}
		})
	}
	r.Start()
	t.Run("RecoversAfterRestart", func(t *testing.T) {
		if w := do(true); w.Code != http.StatusOK {
			t.Errorf("login after restart: got %d %q, want 200", w.Code, w.Body)
		}
	})
}
