package server

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/testenv"
)

// TestBodyContractEveryRoute sends the hostile bodies of the paint API's
// body contract (docs/api.md) to every route of the wired server that
// reads a body, with a valid v2 session: each is the client's fault, so a
// 4xx envelope, at once where the headers already say so (no
// "100 Continue" for a body over the limit), and nothing logged at WARN
// or ERROR. The paint API has its own raw tests; this one covers the
// account routes and the login too, through the session layer.
func TestBodyContractEveryRoute(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReadTimeout = time.Second // a stalled body times out soon
	logger, logs := testLogger(t)
	s := start(t, cfg, logger)
	u, _ := url.Parse(s.URL())
	c := newV2Client(t, s.URL(), "/applet", devSim(s.URL()), "body-contract")
	auth := "Authorization: " + c.headers().Get("Authorization") + "\r\n"

	const obj = `{"id":"a","actions":"[]"}` // 25 bytes; any route's JSON fields
	routes := []struct{ path, auth string }{
		{"paints/save", auth}, {"paints/append", auth}, {"paints/delete", auth},
		{"paints/share", auth}, {"paints/unshare", auth},
		{"phone", auth}, {"decrypt", auth}, {"profile", auth},
		{"login", ""},
	}
	cases := []struct {
		name, head, body string
		closeWrite       bool
		status           string
	}{
		{"NoContentType", "Content-Length: 25\r\n", obj, false, "415"},
		{"TwoContentTypeHeaders", "Content-Type: application/json\r\nContent-Type: application/json\r\nContent-Length: 25\r\n", obj, false, "415"},
		{"ExpectContinueOverLimit", "Content-Type: application/json\r\nContent-Length: 104857600\r\nExpect: 100-continue\r\n", "", false, "413"},
		{"ShortBody", "Content-Type: application/json\r\nContent-Length: 100\r\n", obj, true, "400"},
		{"TrailingAfterJSON", "Content-Type: application/json\r\nContent-Length: 29\r\n", obj + "junk", false, "400"},
		{"MalformedChunked", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "zz\r\n" + obj + "\r\n0\r\n\r\n", false, "400"},
		{"StalledBody", "Content-Type: application/json\r\nContent-Length: 25\r\n", `{"id":"a",`, false, "408"},
	}
	// The login is the session layer's: its refusals are the session
	// envelope's ERR_BAD_REQUEST, 400 where the paint API says 413 or 415.
	login := map[string]string{"TwoContentTypeHeaders": "400", "ExpectContinueOverLimit": "400"}
	started := len(logs.String()) // development mode warns once at start
	for _, rt := range routes {
		for _, tt := range cases {
			want := tt.status
			if rt.path == "login" {
				if tt.name == "NoContentType" {
					continue // a v2 login accepts a body without a type (protocol v2)
				}
				if w, ok := login[tt.name]; ok {
					want = w
				}
			}
			t.Run(rt.path+"/"+tt.name, func(t *testing.T) {
				head := "POST /applet/session/" + rt.path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + rt.auth + tt.head
				status, body := testenv.RawRequest(t, u.Host, head, tt.body, tt.closeWrite)
				if !strings.HasPrefix(status, "HTTP/1.1 "+want+" ") {
					t.Errorf("got %q %s, want %s", status, body, want)
				}
			})
		}
	}
	for _, level := range []string{`"level":"WARN"`, `"level":"ERROR"`} {
		if got := logs.String()[started:]; strings.Contains(got, level) {
			t.Errorf("got log lines at %s, want none:\n%s", level, got)
		}
	}
}
