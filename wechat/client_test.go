package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
)

const (
	appID  = "wxclienttest00001"
	secret = "client-test-secret-0123456789"
)

func newSim(t *testing.T) (*wechatsim.Sim, *httptest.Server) {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}, UnionID: true})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

func TestClientExchange(t *testing.T) {
	sim, srv := newSim(t)
	c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: srv.URL}
	code, err := sim.Login("", "alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Exchange(context.Background(), code)
	if err != nil {
		t.Fatalf("got error %v, want a session", err)
	}
	want := wechat.Session{OpenID: wechatsim.OpenID(appID, "alice"), UnionID: wechatsim.UnionID("alice")}
	if got.OpenID != want.OpenID || got.UnionID != want.UnionID || got.SessionKey == "" {
		t.Errorf("got %+v, want openid %s, unionid %s and a session_key", got, want.OpenID, want.UnionID)
	}

	t.Run("ErrCodeUsed", func(t *testing.T) {
		_, err := c.Exchange(context.Background(), code)
		var we *wechat.Error
		if !errors.As(err, &we) || we.Code != wechat.CodeCodeUsed {
			t.Errorf("got %v, want errcode %d", err, wechat.CodeCodeUsed)
		}
	})
	t.Run("ErrInvalidSecret", func(t *testing.T) {
		code, _ := sim.Login("", "bob")
		bad := &wechat.Client{AppID: appID, Secret: "wrong", BaseURL: srv.URL}
		_, err := bad.Exchange(context.Background(), code)
		var we *wechat.Error
		if !errors.As(err, &we) || we.Code != wechat.CodeInvalidSecret {
			t.Errorf("got %v, want errcode %d", err, wechat.CodeInvalidSecret)
		}
	})
}

func TestClientUnavailable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>502 Bad Gateway</html>"))
	}))
	defer html.Close()
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	defer empty.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()

	tests := []struct {
		name, url string
		timeout   time.Duration
		cause     error
	}{
		{"ConnectionRefused", closed.URL, time.Second, nil},
		{"NotJSON", html.URL, time.Second, nil},
		{"NoOpenID", empty.URL, time.Second, nil},
		{"Timeout", slow.URL, 50 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &wechat.Client{AppID: appID, Secret: secret, BaseURL: tt.url}
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			_, err := c.Exchange(ctx, "somecode")
			if !errors.Is(err, wechat.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("got %v, want it to wrap %v", err, tt.cause)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the app secret", err)
			}
		})
	}
}
