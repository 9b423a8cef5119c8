package wechatsim

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAvatar(t *testing.T) {
	sim := New(Config{Apps: map[string]string{"wxapp": "secret"}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	r := &Remote{BaseURL: srv.URL}
	ctx := context.Background()

	alice, err := r.Avatar(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(alice))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != AvatarSide || b.Dy() != AvatarSide {
		t.Errorf("got %v, want %d a side", b, AvatarSide)
	}
	t.Run("StablePerUser", func(t *testing.T) {
		again, _ := Avatar("alice")
		bob, _ := Avatar("bob")
		if !bytes.Equal(again, alice) {
			t.Errorf("got a different avatar for alice the second time")
		}
		if bytes.Equal(bob, alice) {
			t.Errorf("got alice's avatar for bob")
		}
	})
	t.Run("Mirrored", func(t *testing.T) {
		for y := range AvatarSide {
			for x := range AvatarSide {
				if m.At(x, y) != m.At(AvatarSide-1-x, y) {
					t.Fatalf("pixel %d,%d differs from its mirror", x, y)
				}
			}
		}
	})
	t.Run("ErrNoUser", func(t *testing.T) {
		for _, q := range []string{"", "?user=", "?user=%01"} {
			res, err := http.Get(srv.URL + "/sim/avatar" + q)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest {
				t.Errorf("%q: got %d, want 400", q, res.StatusCode)
			}
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		res, err := http.Post(srv.URL+"/sim/avatar?user=alice", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("got %d, want 405", res.StatusCode)
		}
	})
}

// TestCodeOnlyLogin: a v2 client has only wx.login's code; the exchange
// takes it alone, once.
func TestCodeOnlyLogin(t *testing.T) {
	sim := New(Config{Apps: map[string]string{"wxapp": "secret"}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	code, err := (&Remote{BaseURL: srv.URL}).Login(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ex := sim.Exchanger("wxapp", "secret")
	s, err := ex.Exchange(context.Background(), code)
	if err != nil || s.OpenID != OpenID("wxapp", "alice") || s.SessionKey == "" {
		t.Fatalf("got %+v %v, want alice's session", s, err)
	}
	if _, err := ex.Exchange(context.Background(), code); err == nil {
		t.Errorf("got a second exchange of one code, want 40163")
	}
}
