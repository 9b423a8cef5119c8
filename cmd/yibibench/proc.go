package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
)

// The one app of the simulator every benchmarked yibi exchanges codes with.
const (
	appID     = "wxbench000000001"
	appSecret = "bench-secret"
	base      = "/applet/session/paints"
)

// env is everything the benchmarks share: the yibi binary, a scratch
// directory, the WeChat simulator and an HTTP client.
type env struct {
	yibi   string
	dir    string
	simURL string
	sim    *wechatsim.Remote
	client *http.Client
	procs  []*exec.Cmd
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startSim serves a WeChat simulator on loopback for the whole run.
func (e *env) startSim() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: appSecret}})
	go (&http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	e.simURL = "http://" + ln.Addr().String()
	e.sim = &wechatsim.Remote{BaseURL: e.simURL, AppID: appID, HTTPClient: e.client}
	return nil
}

// startRedis starts a redis-server of its own, without persistence.
func (e *env) startRedis() (url string, err error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("redis-server: %w", err)
	}
	e.procs = append(e.procs, cmd)
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port)); err == nil {
			c.Close()
			return fmt.Sprintf("redis://127.0.0.1:%d/0", port), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", errors.New("redis-server did not come up")
}

// server is one running `yibi serve`.
type server struct {
	name string
	bin  string // the yibi binary; empty = env's
	url  string
	data string
	vars []string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

// startServer runs `yibi serve` in production mode against the simulator,
// with vars (YIBI_*=…) on top; data is its SQLite directory.
func (e *env) startServer(name, data string, vars ...string) (*server, error) {
	s := &server{name: name, data: data, vars: vars}
	return s, e.run(s)
}

func (e *env) run(s *server) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	var environ []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "YIBI_") {
			environ = append(environ, kv)
		}
	}
	environ = append(environ, "YIBI_PORT="+strconv.Itoa(port), "YIBI_HOST=127.0.0.1",
		"YIBI_APP_ID="+appID, "YIBI_APP_SECRET="+appSecret, "YIBI_WECHAT_API_URL="+e.simURL,
		"YIBI_DATA_DIR="+s.data, "YIBI_LOG_LEVEL=warn",
		// Every benchmark user logs in from 127.0.0.1.
		"YIBI_LOGIN_BURST_PER_IP=0", "YIBI_LOGIN_BURST_PER_APP=0")
	environ = append(environ, s.vars...)
	s.log = &bytes.Buffer{}
	bin := s.bin
	if bin == "" {
		bin = e.yibi
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = environ
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	e.procs = append(e.procs, s.cmd)
	s.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	for range 200 {
		resp, err := e.client.Get(s.url + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become ready: %s", s.name, s.log)
}

// stop ends every process started, SIGINT first.
func (e *env) stop() {
	for _, c := range e.procs {
		if c.ProcessState == nil {
			c.Process.Signal(os.Interrupt)
		}
	}
	for _, c := range e.procs {
		if c.ProcessState == nil {
			done := make(chan struct{})
			go func() { c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				c.Process.Kill()
				<-done
			}
		}
	}
}

// cpuTicks is the user+system CPU time of pid so far, in clock ticks
// (fields 14 and 15 of /proc/<pid>/stat).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from the
	// last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + s, nil
}

// clockTick is the length of a /proc clock tick: USER_HZ is 100 on every
// Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// login logs user in on s the way the 2016 SDK does (wx.login, then the
// first request with all three headers) and returns the code.
func (e *env) login(ctx context.Context, s *server, user string) (string, error) {
	code, err := e.sim.Login(ctx, user)
	if err != nil {
		return "", err
	}
	raw, sig, err := e.sim.UserInfo(ctx, user)
	if err != nil {
		return "", err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+base+"/list", nil)
	req.Header.Set("X-WX-Code", code)
	req.Header.Set("X-WX-RawData", wxsession.EncodeRawData(raw))
	req.Header.Set("X-WX-Signature", sig)
	status, body, err := e.do(req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("login on %s: %d %s", s.name, status, body)
	}
	return code, nil
}

// loginV2 logs user in with protocol v2 (POST {base}/session/login with
// a wx.login code) and returns "Bearer <token>", a credential for call.
func (e *env) loginV2(ctx context.Context, s *server, user string) (string, error) {
	code, err := e.sim.Login(ctx, user)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]string{"code": code})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/applet/session/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	status, answer, err := e.do(req)
	if err != nil {
		return "", err
	}
	var got struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(answer, &got); err != nil || status != http.StatusOK || got.Data.Token == "" {
		return "", fmt.Errorf("v2 login on %s: %d %s", s.name, status, answer)
	}
	return bearer + got.Data.Token, nil
}

// bearer starts a v2 credential; anything else passed to call is a v1
// code.
const bearer = "Bearer "

// do sends req and reads the whole answer.
func (e *env) do(req *http.Request) (int, []byte, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// call sends an authenticated request with code (a v1 code, or a v2
// "Bearer <token>"); body nil means GET.
func (e *env) call(ctx context.Context, s *server, code, path string, body []byte) (int, []byte, error) {
	method := http.MethodGet
	var rd io.Reader
	if body != nil {
		method, rd = http.MethodPost, bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if strings.HasPrefix(code, bearer) {
		req.Header.Set("Authorization", code)
	} else {
		req.Header.Set("X-WX-Code", code)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(req)
}

// restart stops s (SIGINT) and runs it again, on the same data.
func (e *env) restart(s *server) error {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
	return e.run(s)
}

// kill9 sends SIGKILL to s and waits for it.
func (s *server) kill9() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	s.cmd.Wait()
	return nil
}
