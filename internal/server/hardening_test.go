package server

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// httpSeries counts the yibi_http_* series in /metrics.
func httpSeries(t *testing.T, serverURL string) int {
	t.Helper()
	a := do(t, "GET", serverURL+"/metrics", nil, "", nil)
	n := 0
	for _, l := range strings.Split(string(a.body), "\n") {
		if strings.HasPrefix(l, "yibi_http_") {
			n++
		}
	}
	return n
}

// TestMetricsLabelsClosed: made-up methods and paths add no series (issue
// 10, item 2: every label comes from a closed set).
func TestMetricsLabelsClosed(t *testing.T) {
	logger, _ := testLogger(t)
	s := start(t, testConfig(t), logger)
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	paths := []func() string{
		func() string { return "/" + word("abcdefghij0123456789", 12) },
		func() string { return "/applet/session/paints/" + word("abcxyz", 8) },
		func() string { return "/wechat/sim/" + word("abcxyz", 8) },
		func() string { return "/healthz" },
	}
	send := func(method, path string) {
		req, err := http.NewRequest(method, s.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s: got %d, want a 4xx", method, path, resp.StatusCode)
		}
	}
	for _, p := range paths { // one of each kind, so every series that may exist does
		send("MADEUP", p())
	}
	httpSeries(t, s.URL()) // so /metrics' own series exist too
	before := httpSeries(t, s.URL())
	beforeText := string(do(t, "GET", s.URL()+"/metrics", nil, "", nil).body)
	for range 1000 {
		send(word("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3+rng.IntN(8)), paths[rng.IntN(len(paths))]())
	}
	if after := httpSeries(t, s.URL()); after != before {
		t.Errorf("got %d yibi_http_* series after 1000 made-up requests, want %d", after, before)
		for _, l := range strings.Split(string(do(t, "GET", s.URL()+"/metrics", nil, "", nil).body), "\n") {
			if i := strings.LastIndexByte(l, ' '); strings.HasPrefix(l, "yibi_http_requests_total") && i > 0 && !strings.Contains(beforeText, l[:i]) {
				t.Logf("new series: %s", l)
			}
		}
	}
}

// TestSlowReaderCutOff: a client that never reads a large answer does not
// hold its connection forever (issue 10, item 6).
func TestSlowReaderCutOff(t *testing.T) {
	logger, _ := testLogger(t)
	cfg := testConfig(t)
	cfg.MaxActionsBytes, cfg.MaxBodyBytes = 4<<20, 10<<20
	cfg.MaxUserBytes = 32 << 20 // five 4 MiB drawings
	cfg.WriteTimeout, cfg.MinWriteRate = 300*time.Millisecond, 64<<20
	s := start(t, cfg, logger)
	c := newClient(t, s.URL(), "/applet", devSim(s.URL()), "slow-reader")
	stroke := `{"method":"lineTo","data":[123,456]},`
	actions := "[" + strings.Repeat(stroke, (4<<20-100)/len(stroke)) + `{"method":"stroke","data":[]}]`
	for range 5 {
		wantOK(t, "save a 4 MiB drawing", c.saveJSON(newID(), actions))
	}
	code := c.code

	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { // a small window, so the server's writes block soon
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /applet/session/paints/list HTTP/1.1\r\nHost: yibi\r\nX-WX-Code: %s\r\n\r\n", code)
	time.Sleep(3 * time.Second) // never reading, long past the answer's deadline

	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the head: %v", err)
	}
	got, err := io.Copy(io.Discard, resp.Body)
	// A list this size is streamed (chunked): cut off, its last chunk
	// never comes and the read ends in an unexpected EOF.
	cut := err != nil && got < 5*4<<20
	if resp.ContentLength > 0 {
		cut = got < resp.ContentLength
	}
	if !cut {
		t.Errorf("got %d of %d bytes (err %v), want the answer cut off before its end", got, resp.ContentLength, err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("got %v, want the server to close the connection (not our read deadline)", err)
	}
}

// TestListenAddress: development mode binds loopback unless YIBI_HOST says
// otherwise, and the log names the address really bound (issue 10, item 8).
func TestListenAddress(t *testing.T) {
	tests := []struct {
		name        string
		host        string
		prod        bool
		wantLoop    bool
		wantUnspecd bool
	}{
		{"DevIsLoopback", "", false, true, false},
		{"DevHostEverywhere", "0.0.0.0", false, false, true},
		{"ProdEverywhere", "", true, false, true},
		{"ProdHostLoopback", "127.0.0.1", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := testLogger(t)
			cfg := testConfig(t)
			cfg.Host = tt.host
			if tt.prod {
				cfg.AppID, cfg.AppSecret = "wx1", "secret"
			}
			s := start(t, cfg, logger)
			a := s.Addr().(*net.TCPAddr)
			if a.IP.IsLoopback() != tt.wantLoop || a.IP.IsUnspecified() != tt.wantUnspecd {
				t.Errorf("got bound %v, want loopback %v unspecified %v", a, tt.wantLoop, tt.wantUnspecd)
			}
			if a := do(t, "GET", s.URL()+"/healthz", nil, "", nil); a.status != 200 {
				t.Errorf("GET %s/healthz: got %d, want 200", s.URL(), a.status)
			}
			// Run logs once it serves; the answer above says it does.
			want := `"addr":"` + a.String() + `"`
			for i := 0; i < 50 && !strings.Contains(logs.String(), want); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.Contains(logs.String(), want) {
				t.Errorf("log lacks %s", want)
			}
		})
	}
}

// TestStartErrorsSayWhatToDo: errors a newcomer meets first name the path
// or give a hint (issue 10, item 11).
func TestStartErrorsSayWhatToDo(t *testing.T) {
	logger, _ := testLogger(t)
	t.Run("AddressInUse", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cfg := testConfig(t)
		cfg.Host, cfg.Port = "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
		s, err := New(cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Start(); err == nil || !strings.Contains(err.Error(), "YIBI_PORT") || !strings.Contains(err.Error(), strconv.Itoa(cfg.Port)) {
			t.Errorf("got %v, want the address and a hint naming YIBI_PORT", err)
		}
	})
	t.Run("DatabaseUnopenable", func(t *testing.T) {
		cfg := testConfig(t)
		db := filepath.Join(cfg.DataDir, "yibi.db")
		if err := os.Mkdir(db, 0o700); err != nil { // a directory where the file should be
			t.Fatal(err)
		}
		s, err := New(cfg, logger)
		if err == nil {
			s.Close()
			t.Fatal("got a server, want an error")
		}
		if !strings.Contains(err.Error(), db) {
			t.Errorf("got %v, want the path %s", err, db)
		}
	})
}
