package account

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
)

// TestDecrypt runs on SQLite only: decryption touches no profile store.
func TestDecrypt(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	alice := e.login("alice")
	path := base + "/session/decrypt"
	post := func(data, iv string) ([]byte, int) {
		res, body := e.postJSON(path, alice, map[string]string{"encryptedData": data, "iv": iv})
		return body, res.StatusCode
	}
	t.Run("WeRun", func(t *testing.T) {
		data, iv, err := e.sim.WeRunData(appID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		res, body := e.postJSON(path, alice, map[string]string{"encryptedData": data, "iv": iv})
		env := wantStatus(t, res, body, 200, "")
		var got map[string]json.RawMessage
		if err := json.Unmarshal(env.Data, &got); err != nil {
			t.Fatal(err)
		}
		if _, ok := got["stepInfoList"]; !ok || got["watermark"] != nil {
			t.Errorf("got %s, want stepInfoList without watermark", env.Data)
		}
	})
	t.Run("OldPhoneFlow", func(t *testing.T) {
		_, data, iv, err := e.sim.PhoneCode(appID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		body, status := post(data, iv)
		if status != 200 || !strings.Contains(string(body), wechatsim.PhoneNumberOf("alice").PurePhoneNumber) {
			t.Errorf("got %d %s, want the number", status, body)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		data, iv, _ := e.sim.WeRunData(appID, "alice")
		raw, _ := base64.StdEncoding.DecodeString(data)
		raw[len(raw)-1] ^= 0xff // the last block's padding breaks
		key := sessionKey(t, e, "alice")
		foreign, fiv, err := wechat.Encrypt(key, []byte(`{"x":1,"watermark":{"appid":"wxsomeoneelse0001","timestamp":1}}`))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, data, iv string
			status         int
			reason         string
		}{
			{"BadPadding", base64.StdEncoding.EncodeToString(raw), iv, 400, ReasonDecrypt + ": bad PKCS#7"},
			{"ForeignWatermark", foreign, fiv, 400, ReasonDecrypt + ": watermark"},
			{"ShortIV", data, base64.StdEncoding.EncodeToString([]byte("short")), 400, ReasonDecrypt + ": iv"},
			{"NotBase64", "***", iv, 400, ReasonDecrypt + ": not standard base64"},
			{"Empty", "", "", 400, ReasonDecrypt},
			{"TooLarge", strings.Repeat("A", MaxEncryptedData+4), iv, 413, ReasonDataTooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				checks := e.sim.Stats().CheckSessions
				res, body := e.postJSON(path, alice, map[string]string{"encryptedData": tt.data, "iv": tt.iv})
				wantStatus(t, res, body, tt.status, tt.reason)
				// Only a failure that a stale key can cause asks WeChat
				// about the key; malformed input costs no call.
				want := checks
				if tt.name == "BadPadding" {
					want++
				}
				if got := e.sim.Stats().CheckSessions; got != want {
					t.Errorf("checksession calls: got %d, want %d", got, want)
				}
			})
		}
		res, body := e.do("POST", path, alice, "application/json", strings.NewReader(`{"encryptedData":"`+strings.Repeat("A", 100<<10)+`"}`))
		wantStatus(t, res, body, 413, "")
	})
	t.Run("ERR_SESSION_KEY_STALE", func(t *testing.T) {
		// alice logs in to WeChat again elsewhere: her new session_key
		// encrypts, the server's is stale.
		if _, err := e.sim.Login(appID, "alice"); err != nil {
			t.Fatal(err)
		}
		data, iv, err := e.sim.WeRunData(appID, "alice")
		if err != nil {
			t.Fatal(err)
		}
		res, body := e.postJSON(path, alice, map[string]string{"encryptedData": data, "iv": iv})
		if env := wantStatus(t, res, body, 401, wxsession.ReasonSessionKeyStale); env.Session != 1 {
			t.Errorf("got %s, want the session envelope", body)
		}
	})
}

func sessionKey(t *testing.T, e *env, user string) string {
	t.Helper()
	k, ok := e.keys.keys.Load(wechatsim.OpenID(appID, user))
	if !ok {
		t.Fatalf("no session_key handed out for %s", user)
	}
	return k.(string)
}
