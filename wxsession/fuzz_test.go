package wxsession_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

// fuzzKey is the session_key the fuzz exchanger gives every code; it must
// never show in an answer.
const fuzzKey = "fuzz-session-key-SECRET"

// anyCode accepts every code but "refused", which WeChat refuses.
type anyCode struct{}

func (anyCode) Exchange(_ context.Context, code string) (wechat.Session, error) {
	if code == "refused" {
		return wechat.Session{}, &wechat.Error{Code: wechat.CodeInvalidCode, Msg: "invalid code"}
	}
	return wechat.Session{OpenID: "o-fuzz", SessionKey: fuzzKey}, nil
}

// FuzzHeaders sends arbitrary session headers through the middleware and
// checks that every answer is either the next handler's or a well-formed
// envelope with an expected status, never a panic or a leaked key.
func FuzzHeaders(f *testing.F) {
	raw := `{"nickName":"昵称","gender":1,"avatarUrl":"https://a/b"}`
	f.Add("code1", wxsession.EncodeRawData(raw), sign(raw, fuzzKey), false)
	f.Add("code1", "", "", false)
	f.Add("refused", wxsession.EncodeRawData(raw), sign(raw, fuzzKey), false)
	f.Add("code2", "%7B%ZZ", "", false)
	f.Add("code3", "%E6%98", sign("x", "y"), false)
	f.Add("code4", "%5B1%5D", "abc", true)
	f.Add("code5", wxsession.EncodeRawData(`{"openId":"forged","unionId":null}`), "", true)
	f.Add("", "%7B%7D", "", false)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var handlers []http.Handler
	for _, ignoreSig := range []bool{false, true} {
		m, err := wxsession.New(wxsession.Config{Exchanger: anyCode{}, Store: memstore.New(), IgnoreSignature: ignoreSig, Logger: quiet})
		if err != nil {
			f.Fatal(err)
		}
		handlers = append(handlers, m.Handler(echo))
	}
	f.Fuzz(func(t *testing.T, code, rawData, signature string, ignoreSig bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Wx-Code"] = []string{code}
		r.Header["X-Wx-Rawdata"] = []string{rawData}
		r.Header["X-Wx-Signature"] = []string{signature}
		w := httptest.NewRecorder()
		h := handlers[0]
		if ignoreSig {
			h = handlers[1]
		}
		h.ServeHTTP(w, r)
		body := w.Body.Bytes()
		if bytes.Contains(body, []byte(fuzzKey)) {
			t.Fatalf("answer leaks the session_key: %s", body)
		}
		switch w.Code {
		case 200:
			if string(body) == "anonymous" {
				return
			}
			var u map[string]any
			if err := json.Unmarshal(body, &u); err != nil {
				t.Fatalf("200 body %q: %v, want user JSON", body, err)
			}
			if id, _ := u["openId"].(string); id == "" || id == "forged" {
				t.Fatalf("user openId: got %v, want one the server made", u["openId"])
			}
		case 400, 401, 502, 503:
			var env map[string]any
			if err := json.Unmarshal(body, &env); err != nil {
				t.Fatalf("%d body %q: %v, want the envelope", w.Code, body, err)
			}
			if env["F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"] != 1.0 {
				t.Fatalf("%d body %s: want the magic key", w.Code, body)
			}
		default:
			t.Fatalf("status: got %d, want 200, 400, 401, 502 or 503", w.Code)
		}
	})
}

// FuzzBearer throws Authorization headers (one or two) at the session
// layer: every answer is 200 (no session, or the one live token's user),
// 400 or 401 with the envelope; never a panic, never another user.
func FuzzBearer(f *testing.F) {
	store := memstore.New()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{"wxfuzz": "fuzz-secret"}})
	m, err := wxsession.New(wxsession.Config{Store: store, Exchanger: sim.Exchanger("wxfuzz", "fuzz-secret"), AppSecret: "fuzz-secret",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	code, _ := sim.Login("wxfuzz", "fuzzer")
	w := httptest.NewRecorder()
	m.LoginHandler().ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(`{"code":"`+code+`"}`)))
	var login struct{ Data struct{ Token string } }
	if err := json.Unmarshal(w.Body.Bytes(), &login); err != nil || login.Data.Token == "" {
		f.Fatalf("login: %d %s", w.Code, w.Body)
	}
	token := login.Data.Token
	for _, s := range []string{"Bearer " + token, "bearer\t" + token, "Bearer  " + token + " ", "Basic " + token, "Bearer", "Bearer " + token[1:], "", " ", "Bearer " + token + " x"} {
		f.Add(s, "", false)
		f.Add(s, "Bearer "+token, true)
	}
	h := m.Handler(echo)
	f.Fuzz(func(t *testing.T, v, second string, two bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		if two {
			r.Header["Authorization"] = append(r.Header["Authorization"], second)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.Bytes()
		switch w.Code {
		case 200:
			if string(body) == "anonymous" {
				if two || strings.Trim(v, " \t") != "" {
					t.Fatalf("anonymous for %q (two %v), want a refusal", v, two)
				}
				return
			}
			if two {
				t.Fatalf("a user for two Authorization headers")
			}
			var u map[string]any
			if err := json.Unmarshal(body, &u); err != nil || u["openId"] != wechatsim.OpenID("wxfuzz", "fuzzer") {
				t.Fatalf("200 body %s: want the fuzzer", body)
			}
		case 400, 401:
			var env map[string]any
			if err := json.Unmarshal(body, &env); err != nil || env["F2C224D4-2BCE-4C64-AF9F-A6D872000D1A"] != 1.0 {
				t.Fatalf("%d body %q: want the envelope", w.Code, body)
			}
		default:
			t.Fatalf("status: got %d, want 200, 400 or 401", w.Code)
		}
	})
}
