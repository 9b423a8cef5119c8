package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/testenv"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRun(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer ok.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer sick.Close()
	_, okPort, _ := net.SplitHostPort(strings.TrimPrefix(ok.URL, "http://"))
	closed := "http://127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		code       int
		wantStdout string
		wantStderr string
	}{
		{"Help", []string{"help"}, nil, 0, "yibi healthcheck", ""},
		{"DashHelp", []string{"--help"}, nil, 0, "yibi loadgen", ""},
		{"Version", []string{"version"}, nil, 0, "yibi ", ""},
		{"DashDashVersion", []string{"--version"}, nil, 0, "yibi ", ""},
		{"DashV", []string{"-v"}, nil, 0, "yibi ", ""},
		{"UnknownCommand", []string{"frobnicate"}, nil, 2, "", `unknown command "frobnicate"`},
		{"ServeHelp", []string{"serve", "-h"}, nil, 0, "--route-base-path", ""},
		{"ServeBadFlag", []string{"serve", "--no-such-flag"}, nil, 2, "", "no-such-flag"},
		{"ServeBadValue", []string{"--port", "eleven"}, nil, 2, "", "not an integer"},
		{"ServeInvalidConfig", []string{"serve"}, map[string]string{"YIBI_APP_ID": "wx1"}, 2, "", "app_id and app_secret must be set together"},
		{"ServeSecretFileMissing", []string{"serve"}, map[string]string{"YIBI_APP_SECRET_FILE": "/nonexistent/secret"}, 2, "", "YIBI_APP_SECRET_FILE"},
		{"HealthcheckOK", []string{"healthcheck", ok.URL}, nil, 0, "ok: " + ok.URL + "/healthz", ""},
		{"HealthcheckDefaultURLFromPort", []string{"healthcheck"}, map[string]string{"YIBI_PORT": okPort}, 0, "/healthz", ""},
		{"HealthcheckUnhealthy", []string{"healthcheck", sick.URL + "/healthz"}, nil, 1, "", "503"},
		{"HealthcheckRefused", []string{"healthcheck", closed}, nil, 1, "", "refused"},
		{"HealthcheckBadURL", []string{"healthcheck", "not a url"}, nil, 2, "", "not an http(s) URL"},
		{"HealthcheckTwoURLs", []string{"healthcheck", ok.URL, ok.URL}, nil, 2, "", "one URL at most"},
		{"LoadgenBadFlag", []string{"loadgen", "--no-such-flag"}, nil, 2, "", "no-such-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr, env(tt.env))
			if code != tt.code || !strings.Contains(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("got exit %d stdout %q stderr %q, want %d, stdout with %q, stderr with %q",
					code, stdout.String(), stderr.String(), tt.code, tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestServe(t *testing.T) {
	port := strconv.Itoa(testenv.FreePort(t))
	debugAddr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	const secret = "s3cret-never-logged"
	getenv := env(map[string]string{
		"YIBI_PORT": port, "YIBI_DATA_DIR": t.TempDir(), "YIBI_DEBUG_ADDR": debugAddr,
		// Development mode forced with a configured app: its secret is
		// in the config that serve logs.
		"YIBI_DEV": "true", "YIBI_APP_ID": "wxserve", "YIBI_APP_SECRET": secret,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	stderr := &testenv.Buffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, &stdout, stderr, getenv) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		var out, errOut bytes.Buffer
		if run(context.Background(), []string{"healthcheck"}, &out, &errOut, getenv) == 0 {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck never passed:\n%s", stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/wechat/sim/users")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("simulator: got %v %v, want 200 in development mode", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	// The profiler answers on its own address only, never on the public port.
	for _, c := range []struct {
		url  string
		want int
	}{
		{"http://" + debugAddr + "/debug/pprof/cmdline", http.StatusOK},
		{"http://127.0.0.1:" + port + "/debug/pprof/cmdline", http.StatusNotFound},
	} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Errorf("GET %s: %v", c.url, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s: got %d, want %d", c.url, resp.StatusCode, c.want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve: got exit %d after SIGTERM-like cancel, want 0", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	logs := stderr.String()
	for _, want := range []string{`"app_secret":"REDACTED"`, "development mode", "YIBI_DEV is set", `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, secret) {
		t.Errorf("log contains the app secret:\n%s", logs)
	}
}

func TestVersionFrom(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	info := func(v string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/yibi/yibi", Version: v}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	tests := []struct {
		name string
		set  string
		bi   *debug.BuildInfo
		want string
	}{
		{"LdflagsWins", "v9.9.9", info("v1.0.0"), "v9.9.9"},
		{"NoBuildInfo", "", nil, "devel"},
		{"ModuleVersion", "", info("v1.2.3"), "v1.2.3"},
		{"TaggedCheckout", "", info("v1.2.3", "vcs.revision", rev, "vcs.modified", "false"), "v1.2.3 (0123456789ab)"},
		{"PseudoVersionNamesRevision", "", info("v0.0.0-20261126120000-0123456789ab", "vcs.revision", rev), "v0.0.0-20261126120000-0123456789ab"},
		{"GoRunInCheckout", "", info("(devel)", "vcs.revision", rev, "vcs.modified", "true"), "devel (0123456789ab, modified)"},
		{"NoVCS", "", info("(devel)"), "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionFrom(tt.set, tt.bi); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoggerFormat: text on a terminal, JSON anywhere else, including
// /dev/null, which is a character device but no terminal.
func TestLoggerFormat(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if isTerminal(devnull) {
		t.Errorf("got /dev/null a terminal, want not")
	}
	var buf bytes.Buffer
	newLogger(&buf, "info").Info("x")
	if !strings.HasPrefix(buf.String(), "{") {
		t.Errorf("got %q into a buffer, want JSON", buf.String())
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !isTerminal(tty) {
			t.Errorf("got /dev/tty not a terminal, want one")
		}
	}
}
