package api

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/internal/testenv"
)

// rawServer serves the API on a real listener with a short read timeout,
// logging at debug level into the returned buffer.
func rawServer(t *testing.T, path string) (*httptest.Server, *testenv.Buffer) {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &testenv.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewUnstartedServer(handlerOn(st, logger))
	srv.Config.ReadTimeout = time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, logs
}

const save = "POST /applet/session/paints/save HTTP/1.1\r\nHost: x\r\nX-Test-User: alice\r\n"

// TestBodyEdges: bodies that cannot be read whole, framing and types
// that make the body ambiguous, get a 4xx envelope, and nothing is logged
// at WARN or above (issue 10, items 1 and 5). Before, each was a 500 with
// an ERROR line, a 100 Continue, or a 200.
func TestBodyEdges(t *testing.T) {
	srv, logs := rawServer(t, filepath.Join(t.TempDir(), "yibi.db"))
	addr := srv.Listener.Addr().String()
	const good = `{"id":"a","actions":"[]"}`
	tests := []struct {
		name, head, body string
		closeWrite       bool
		status, reason   string
	}{
		{"MalformedChunked", save + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "zz\r\n" + good + "\r\n0\r\n\r\n", false, "400", ReasonBadBody},
		{"BrokenFramingAfterJSON", save + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "19\r\n" + good + "\r\nzz\r\n", true, "400", ReasonBadBody},
		{"ShortBody", save + "Content-Type: application/json\r\nContent-Length: 100\r\n", good, true, "400", ReasonBadBody},
		{"ContentLengthFarAboveBody", save + "Content-Type: application/json\r\nContent-Length: 100000\r\n", good, false, "408", ReasonBodyTimeout},
		{"StalledBody", save + "Content-Type: application/json\r\nContent-Length: 25\r\n", `{"id":"a",`, false, "408", ReasonBodyTimeout},
		{"ExpectContinueOverLimit", save + "Content-Type: application/json\r\nContent-Length: 3145728\r\nExpect: 100-continue\r\n", "", false, "413", ReasonTooLarge},
		{"NoContentType", save + "Content-Length: 25\r\n", good, false, "415", ReasonContentType},
		{"TwoTypesInOneHeader", save + "Content-Type: application/json, text/plain\r\nContent-Length: 25\r\n", good, false, "415", ReasonContentType},
		{"TwoContentTypeHeaders", save + "Content-Type: application/json\r\nContent-Type: application/json\r\nContent-Length: 25\r\n", good, false, "415", ReasonContentType},
		// A JSON array once decoded (the bad byte inside a string), so only
		// the UTF-8 check can refuse it.
		{"InvalidUTF8InActions", save + "Content-Type: application/json\r\nContent-Length: 30\r\n", "{\"id\":\"a\",\"actions\":\"[\\\"\xff\\\"]\"}", false, "400", ReasonBodyNotUTF8},
		// A lone surrogate escape, which encoding/json would store as U+FFFD.
		{"LoneSurrogateInActions", save + "Content-Type: application/json\r\nContent-Length: 35\r\n", `{"id":"a","actions":"[\"\ud800\"]"}`, false, "400", ReasonBodyNotUTF8},
		{"InvalidUTF8InFormActions", save + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 22\r\n", "id=a&actions=%5B%FF%5D", false, "400", "actions is not valid UTF-8"},
		{"GoodSave", save + "Content-Type: application/json\r\nContent-Length: 25\r\n", good, false, "200", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(tt.head, "Content-Length: 25\r\n") && len(tt.body) != 25 && tt.status != "408" {
				t.Fatalf("test body is %d bytes, want 25", len(tt.body))
			}
			status, body := testenv.RawRequest(t, addr, tt.head, tt.body, tt.closeWrite)
			if !strings.HasPrefix(status, "HTTP/1.1 "+tt.status+" ") || !strings.Contains(body, `"reason":"`+tt.reason+`"`) && tt.reason != "" {
				t.Errorf("got %q %s, want %s %q", status, body, tt.status, tt.reason)
			}
		})
	}
	for _, level := range []string{`"level":"WARN"`, `"level":"ERROR"`} {
		if strings.Contains(logs.String(), level) {
			t.Errorf("got log lines at %s, want none:\n%s", level, logs)
		}
	}
}

// TestClientHangUp: a client that hangs up while its save waits for the
// store is neither a store error in the log nor a 503 (issue 10 item 7).
// The store waits because another connection holds SQLite's write lock.
func TestClientHangUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yibi.db")
	srv, logs := rawServer(t, path)
	holdWriteLock(t, path)

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	const good = `{"id":"a","actions":"[]"}`
	io.WriteString(c, save+"Content-Type: application/json\r\nContent-Length: 25\r\n\r\n"+good)
	time.Sleep(300 * time.Millisecond) // the save now waits for the lock
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "client went away") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := logs.String()
	if !strings.Contains(got, "client went away") {
		t.Fatalf("the hung-up save was not seen to end; log:\n%s", got)
	}
	if strings.Contains(got, `"level":"WARN"`) || strings.Contains(got, `"level":"ERROR"`) {
		t.Errorf("a client hanging up logged a store failure:\n%s", got)
	}
}

func TestLoneSurrogate(t *testing.T) {
	for body, want := range map[string]bool{
		`"\ud800"`:           true,
		`"\udc00"`:           true,
		`"\ud800x"`:          true,
		`"\ud800\u0041"`:     true,
		`"\ud800\udc00"`:     false, // a pair: U+10000
		`"\uD83D\uDE00"`:     false,
		`"\\ud800"`:          false, // an escaped backslash, then text
		`"\\\ud800"`:         true,
		`"\u0041\n\"\ud7ff"`: false,
		`"\ud800\`:           true,
		`"\u12"`:             false, // malformed: json refuses it anyway
		`"plain"`:            false,
	} {
		if got := loneSurrogate([]byte(body)); got != want {
			t.Errorf("loneSurrogate(%s) = %v, want %v", body, got, want)
		}
	}
}
