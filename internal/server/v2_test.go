package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/redisstore"
)

// v2Flow runs the v2 login end to end on a server: a bearer client does
// the 2016 paint flow, a v1 client of the same user works beside it,
// logout ends the token only, logout-all ends every session of the user,
// v1 included.
func v2Flow(t *testing.T, serverURL string, newSim func() *client) {
	t.Helper()
	t.Run("PaintFlow", func(t *testing.T) {
		paintFlow(t, newSim())
	})

	t.Run("V1AndV2AtOnce", func(t *testing.T) {
		v2 := newSim()
		v2.user = "both-protocols"
		v1 := newClient(t, serverURL, "/applet", v2.sim, v2.user)
		id := newID()
		wantOK(t, "v2 save", v2.saveJSON(id, `[{"method":"moveTo","data":[1,2]}]`))
		if got := v1.list(); len(got) != 1 || got[0].ID != id {
			t.Fatalf("v1 list of the same user: got %v, want [%s]", ids(got), id)
		}
		second := newSim()
		second.user = v2.user
		second.list() // a second v2 session of the user (phone and PC)

		wantOK(t, "logout", v2.session("POST", "logout"))
		wantSessionError(t, "token after logout", v2.call("GET", "list", "", nil), 401, wxsession.ReasonSessionExpired)
		if got := second.list(); len(got) != 1 {
			t.Errorf("the user's other token after one logout: got %v, want the paint", ids(got))
		}
		if got := v1.list(); len(got) != 1 {
			t.Errorf("the v1 code after a v2 logout: got %v, want the paint", ids(got))
		}

		wantOK(t, "logout all", second.session("POST", "logout?all=1"))
		wantSessionError(t, "other token after logout all", second.call("GET", "list", "", nil), 401, wxsession.ReasonSessionExpired)
		wantSessionError(t, "v1 code after logout all", v1.call("GET", "list", "", nil), 401, wxsession.ReasonSessionExpired)
	})

	t.Run("Profile", func(t *testing.T) {
		c := newSim()
		c.user = "v2-profile"
		login := c.loginV2()
		if login["isNew"] != true {
			t.Errorf("first login: got isNew %v, want true (no nickname yet)", login["isNew"])
		}
		if a := uploadProfile(t, c, "小明"); a.status != http.StatusOK {
			t.Fatalf("profile: got %v, want 200", a)
		}
		me := wantJSON(t, "me", c.session("GET", "me"))
		data, _ := me["data"].(map[string]any)
		avatar, _ := data["avatarUrl"].(string)
		if data["nickName"] != "小明" || !strings.HasPrefix(avatar, "/applet/session/avatars/") {
			t.Fatalf("me: got %v, want the nickname and an avatar", me)
		}
		// Public: with no credential, and with credentials that no
		// longer hold (the spec: "public, immutable").
		stale := http.Header{}
		stale.Set("Authorization", "Bearer expired-or-never-issued")
		gone := http.Header{}
		gone.Set("X-WX-Code", "a-code-that-expired")
		for name, h := range map[string]http.Header{"no credential": nil, "dead token": stale, "stale code": gone} {
			img := do(t, "GET", serverURL+avatar, h, "", nil)
			if img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" {
				t.Errorf("avatar, %s: got %d %s, want 200 image/png", name, img.status, img.header.Get("Content-Type"))
			}
		}
		// The next login answers the profile.
		again := c.loginV2()
		user, _ := again["user"].(map[string]any)
		if again["isNew"] != false || user["nickName"] != "小明" || user["avatarUrl"] != avatar {
			t.Errorf("second login: got %v, want isNew false and the profile", again)
		}
	})

	t.Run("BothHeadersAmbiguous", func(t *testing.T) {
		c := newSim()
		c.list()
		h := c.headers()
		h.Set("X-WX-Code", c.code)
		a := do(t, "GET", c.api+"/session/paints/list", h, "", nil)
		wantSessionError(t, "bearer and X-WX-Code", a, http.StatusBadRequest, wxsession.ReasonBadRequest)
	})

	t.Run("RetriedCodeSameToken", func(t *testing.T) {
		c := newSim()
		first := c.loginV2()["token"]
		b := `{"code":"` + c.code + `"}`
		a := do(t, "POST", c.api+"/session/login", nil, "application/json", strings.NewReader(b))
		data, _ := wantJSON(t, "retried login", a)["data"].(map[string]any)
		if a.status != http.StatusOK || data["token"] != first {
			t.Errorf("retried code: got %v, want the same token", a)
		}
	})
}

// session calls {base}/session/path with the client's session headers.
func (c *client) session(method, path string) answer {
	c.t.Helper()
	return do(c.t, method, c.api+"/session/"+path, c.headers(), "", nil)
}

// TestV2Dev: memory sessions and SQLite, the simulator in process.
func TestV2Dev(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	sim := devSim(s.URL())
	v2Flow(t, s.URL(), func() *client { return newV2Client(t, s.URL(), "/applet", sim, "v2-dev") })
}

// TestV2Production: Redis sessions and FerretDB; a token outlives the
// instance that issued it, and Redis holds no token and no session_key in
// clear.
func TestV2Production(t *testing.T) {
	p := startProd(t)
	logger, _ := testLogger(t)
	s1 := start(t, p.cfg, logger)
	v2Flow(t, s1.URL(), func() *client { return newV2Client(t, s1.URL(), "/applet", p.remote(), "v2-prod") })

	t.Run("TokenAfterRestart", func(t *testing.T) {
		c := newV2Client(t, s1.URL(), "/applet", p.remote(), "v2-restart")
		id := newID()
		wantOK(t, "save", c.saveJSON(id, `[]`))
		if err := s1.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		s2 := start(t, p.cfg, logger)
		c.api = s2.URL() + "/applet"
		if got := c.list(); len(got) != 1 || got[0].ID != id {
			t.Errorf("list after restart: got %v, want [%s]", ids(got), id)
		}

		rc := redis.NewClient(&redis.Options{Addr: p.redis.Addr})
		defer rc.Close()
		ctx := context.Background()
		keys, err := rc.Keys(ctx, redisstore.DefaultPrefix+"*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("keys: got %v %v", keys, err)
		}
		for _, k := range keys {
			dump, err := rc.Dump(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(k+dump, c.token) {
				t.Errorf("Redis key %s holds the token in clear", k)
			}
		}
	})
}
