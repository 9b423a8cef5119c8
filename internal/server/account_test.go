package server

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/testenv"
	"github.com/yibi/yibi/wechat/wechatsim"
)

// TestAccountRoutes runs the v2 account routes in a whole development-mode
// server (WeChat simulated in process) on SQLite and on FerretDB.
func TestAccountRoutes(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testAccountRoutes(t, testConfig(t)) })
	t.Run("FerretDB", func(t *testing.T) {
		f := testenv.StartFerretDB(t)
		cfg := testConfig(t)
		cfg.MongoURI, cfg.MongoDatabase = f.URI, "yibi_account"
		testAccountRoutes(t, cfg)
	})
}

func testAccountRoutes(t *testing.T, cfg config.Config) {
	logger, _ := testLogger(t)
	s := start(t, cfg, logger)
	sim := devSim(s.URL())
	c := newClient(t, s.URL(), "/applet", sim, "account e2e")
	c.list() // logs in
	api := s.URL() + "/applet/session/"
	a := uploadProfile(t, c, "一笔 e2e")
	var me struct {
		Data struct {
			NickName  string `json:"nickName"`
			AvatarURL string `json:"avatarUrl"`
			HasPhone  bool   `json:"hasPhone"`
		} `json:"data"`
	}
	if err := json.Unmarshal(a.body, &me); err != nil || a.status != 200 || me.Data.NickName != "一笔 e2e" ||
		!strings.HasPrefix(me.Data.AvatarURL, "/applet/session/avatars/") {
		t.Fatalf("profile: got %v, want 200 with the nickName and an avatarUrl", a)
	}
	img := do(t, "GET", s.URL()+me.Data.AvatarURL, nil, "", nil)
	if img.status != 200 || img.header.Get("Content-Type") != "image/png" || img.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("avatar: got %d %v, want 200 image/png nosniff", img.status, img.header)
	}

	// The phone number, paid once for two requests.
	code, _, _, err := sim.PhoneCode(context.Background(), "account e2e")
	if err != nil {
		t.Fatal(err)
	}
	want := wechatsim.PhoneNumberOf("account e2e").PurePhoneNumber
	for range 2 {
		a := do(t, "POST", api+"phone", c.headers(), "application/json", strings.NewReader(`{"code":"`+code+`"}`))
		if a.status != 200 || !strings.Contains(string(a.body), want) {
			t.Fatalf("phone: got %v, want 200 with %s", a, want)
		}
	}
	stats := do(t, "GET", s.URL()+SimulatorPath+"/sim/stats", nil, "", nil)
	var st wechatsim.Stats
	if err := json.Unmarshal(stats.body, &st); err != nil || st.PhoneNumbers != 1 {
		t.Errorf("got stats %s, want one paid phone call", stats.body)
	}
	// The operator sees the same count.
	if m := string(do(t, "GET", s.URL()+"/metrics", nil, "", nil).body); !strings.Contains(m, "\nyibi_wechat_phone_paid_calls_total 1\n") {
		t.Errorf("/metrics: want yibi_wechat_phone_paid_calls_total 1, got:\n%s", grepLines(m, "yibi_wechat_"))
	}
	a = do(t, "GET", api+"me", c.headers(), "", nil)
	if err := json.Unmarshal(a.body, &me); err != nil || !me.Data.HasPhone || me.Data.NickName != "一笔 e2e" {
		t.Errorf("me: got %v, want the profile with hasPhone", a)
	}

	// wx.getWeRunData, decrypted with the session's sealed session_key.
	run := do(t, "POST", s.URL()+SimulatorPath+"/sim/werun", nil, "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"user": {"account e2e"}}.Encode()))
	var enc struct{ EncryptedData, IV string }
	if err := json.Unmarshal(run.body, &enc); err != nil || enc.EncryptedData == "" {
		t.Fatalf("sim werun: got %v", run)
	}
	b, _ := json.Marshal(map[string]string{"encryptedData": enc.EncryptedData, "iv": enc.IV})
	a = do(t, "POST", api+"decrypt", c.headers(), "application/json", bytes.NewReader(b))
	if a.status != http.StatusOK || !strings.Contains(string(a.body), "stepInfoList") || strings.Contains(string(a.body), "watermark") {
		t.Errorf("decrypt: got %v, want 200 with the WeRun data, no watermark", a)
	}
	a = do(t, "POST", api+"decrypt", c.headers(), "application/json", strings.NewReader(`{"encryptedData":"AAAA","iv":"AAAA"}`))
	if a.status != http.StatusBadRequest {
		t.Errorf("decrypt of garbage: got %v, want 400", a)
	}
}

// uploadProfile posts c's profile as the mini program does after the
// avatar and nickname fill-in: the simulator's chooseAvatar picture and
// nickName, multipart as wx.uploadFile sends them.
func uploadProfile(t *testing.T, c *client, nickName string) answer {
	t.Helper()
	png, err := c.sim.Avatar(context.Background(), c.user)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("nickName", nickName)
	fw, _ := mw.CreateFormFile("avatar", "wxfile://tmp_avatar.png")
	fw.Write(png)
	mw.Close()
	return do(t, "POST", c.api+"/session/profile", c.headers(), mw.FormDataContentType(), &body)
}

// grepLines returns the lines of text that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
