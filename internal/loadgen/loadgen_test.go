package loadgen

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

const (
	testApp    = "wxloadgentest"
	testSecret = "loadgen-test-secret"
)

// memPaints is a tiny in-memory paint API speaking the contract, with
// knobs to misbehave so the tests can prove the report notices.
type memPaints struct {
	mu     sync.Mutex
	paints map[string]map[string]string // openId -> id -> actions
	// dropSaves: acknowledge saves but keep nothing.
	dropSaves bool
	// keepFirst: acknowledge every save but keep only a paint's first one.
	keepFirst bool
	// ignoreDeletes: acknowledge deletes but keep the paint.
	ignoreDeletes bool
	// failEvery: answer every n-th request failStatus (default 503)
	// "store unavailable".
	failEvery, failStatus, n int
}

func (m *memPaints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, ok := wxsession.FromContext(r.Context())
	if !ok {
		writeJSON(w, 401, map[string]any{"code": -1, "msg": "fail", "error": map[string]string{"reason": "openId does not exists"}})
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	if m.failEvery > 0 && m.n%m.failEvery == 0 {
		status := cmp.Or(m.failStatus, http.StatusServiceUnavailable)
		writeJSON(w, status, map[string]any{"code": -1, "msg": "fail", "error": map[string]string{"reason": "store unavailable"}})
		return
	}
	if m.paints == nil {
		m.paints = map[string]map[string]string{}
	}
	mine := m.paints[u.OpenID]
	if mine == nil {
		mine = map[string]string{}
		m.paints[u.OpenID] = mine
	}
	var body struct{ ID, Actions string }
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ID == "" {
			writeJSON(w, 400, map[string]any{"code": -1, "msg": "fail", "error": map[string]string{"reason": "id or actions does not exists"}})
			return
		}
	}
	switch r.URL.Path {
	case "/applet/session/paints/list":
		list := []map[string]string{}
		for id, a := range mine {
			list = append(list, map[string]string{"id": id, "actions": a})
		}
		writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": list})
		return
	case "/applet/session/paints/save":
		_, exists := mine[body.ID]
		switch {
		case m.dropSaves:
		case m.keepFirst && exists:
		default:
			mine[body.ID] = body.Actions
		}
	case "/applet/session/paints/delete":
		if !m.ignoreDeletes {
			delete(mine, body.ID)
		}
	default:
		http.NotFound(w, r)
		return
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// devServer composes a development-mode server: the simulator at
// /wechat, used in process for the exchange, and the paints behind the
// session middleware.
func devServer(t *testing.T, paints http.Handler, cfg wxsession.Config) *httptest.Server {
	t.Helper()
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{testApp: testSecret}})
	if cfg.Store == nil {
		store := memstore.New()
		t.Cleanup(func() { store.Close() })
		cfg.Store = store
	}
	cfg.Exchanger = sim.Exchanger(testApp, testSecret)
	mw, err := wxsession.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/wechat/", http.StripPrefix("/wechat", sim))
	mux.Handle("/applet/", mw.Handler(paints))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func quickOptions(url string) Options {
	return Options{URL: url, Users: 3, Duration: 500 * time.Millisecond, Seed: 42, Timeout: 5 * time.Second}
}

func TestRunCleanAgainstDevServer(t *testing.T) {
	srv := devServer(t, &memPaints{}, wxsession.Config{})
	rep, err := Run(context.Background(), quickOptions(srv.URL))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("got %v, want a clean report: %+v", err, rep)
	}
	byOp := map[string]OpReport{}
	for _, o := range rep.Ops {
		byOp[o.Op] = o
	}
	for _, op := range []string{OpList, OpSave, OpDelete, OpSim} {
		if byOp[op].Requests == 0 {
			t.Errorf("%s: got 0 requests, want some", op)
		}
	}
	if got, want := byOp[OpLogin].Requests, uint64(3); got != want {
		t.Errorf("logins: got %d, want %d (one per user, sessions never expire)", got, want)
	}
	if rep.Verify.Checked == 0 || rep.Verify.Users == 0 {
		t.Errorf("got verify %+v, want paints checked", rep.Verify)
	}
	if byOp[OpSave].P50Ms <= 0 || byOp[OpSave].MaxMs < byOp[OpSave].P99Ms {
		t.Errorf("got save latencies %+v, want 0 < p50 <= p99 <= max", byOp[OpSave])
	}
}

func TestRunRequestsBound(t *testing.T) {
	srv := devServer(t, &memPaints{}, wxsession.Config{})
	o := quickOptions(srv.URL)
	o.Duration, o.Requests = time.Minute, 25
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var ops uint64
	for _, op := range rep.Ops[:3] {
		ops += op.Requests
	}
	if ops != 25 || rep.Requests != 25 {
		t.Errorf("got %d requests (%d by op), want 25", rep.Requests, ops)
	}
	if rep.ElapsedSec > 30 {
		t.Errorf("got a %.0fs run, want it to end at 25 requests", rep.ElapsedSec)
	}
}

func TestRunDetectsLoss(t *testing.T) {
	tests := []struct {
		name      string
		paints    *memPaints
		mix       Mix
		requests  int64
		lost      int
		undeleted int
	}{
		// One save, acknowledged and dropped.
		{"Lost1WhenSaveDropped", &memPaints{dropSaves: true}, Mix{Save: 1}, 1, 1, 0},
		// Three saves of one drawing; only the first is kept.
		{"Lost1WhenUpdateDropped", &memPaints{keepFirst: true}, Mix{Save: 1}, 3, 1, 0},
		// The first delete becomes a save (nothing drawn yet), the second
		// deletes it; the server acknowledges and keeps the paint.
		{"Undeleted1WhenDeleteIgnored", &memPaints{ignoreDeletes: true}, Mix{Delete: 1}, 2, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := devServer(t, tt.paints, wxsession.Config{})
			o := quickOptions(srv.URL)
			o.Users, o.Mix, o.Requests, o.Duration = 1, tt.mix, tt.requests, 0
			rep, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Lost != tt.lost || rep.Verify.Undeleted != tt.undeleted {
				t.Errorf("got lost %d, undeleted %d, want %d, %d (%+v)", rep.Lost, rep.Verify.Undeleted, tt.lost, tt.undeleted, rep.Verify)
			}
			if rep.Errors != 0 {
				t.Errorf("got %d errors, want 0", rep.Errors)
			}
			if !errors.Is(rep.Err(), ErrLost) {
				t.Errorf("got Err %v, want ErrLost", rep.Err())
			}
			var out bytes.Buffer
			if err := rep.WriteText(&out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "\nlost: "+itoa(tt.lost)+"\nerrors: 0\n") {
				t.Errorf("got text\n%s\nwant lines lost: %d and errors: 0", out.String(), tt.lost)
			}
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestRunCountsErrorsByKind(t *testing.T) {
	srv := devServer(t, &memPaints{failEvery: 4, failStatus: http.StatusInternalServerError}, wxsession.Config{})
	o := quickOptions(srv.URL)
	o.Requests, o.Duration = 40, 0
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors == 0 {
		t.Fatalf("got 0 errors, want some")
	}
	if len(rep.ErrorKinds) == 0 || rep.ErrorKinds[0].Kind != `HTTP 500, fail "store unavailable"` {
		t.Errorf("got kinds %+v, want HTTP 500 store unavailable first", rep.ErrorKinds)
	}
	if !errors.Is(rep.Err(), ErrFailures) {
		t.Errorf("got Err %v, want ErrFailures", rep.Err())
	}
	// Failed saves leave their paint uncertain, not lost.
	if rep.Lost != 0 {
		t.Errorf("got lost %d, want 0", rep.Lost)
	}
}

// A 503 is the server asking for less load: the user backs off and
// re-sends, and the run passes.
func TestRunBacksOffOn503(t *testing.T) {
	srv := devServer(t, &memPaints{failEvery: 4}, wxsession.Config{})
	o := quickOptions(srv.URL)
	o.Requests, o.Duration = 40, 0
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("got errors %d, lost %d, want 0, 0 (%+v)", rep.Errors, rep.Lost, rep.ErrorKinds)
	}
	if rep.Throttled[`HTTP 503, fail "store unavailable"`] == 0 {
		t.Errorf("got throttled %v, want some 503", rep.Throttled)
	}
	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if want := "throttled (backed off and re-sent, not errors):\n"; !strings.Contains(out.String(), want) {
		t.Errorf("got text\n%s\nwant a line with %q", out.String(), want)
	}
}

// loginLimit refuses the first n logins (requests with X-WX-RawData) with
// 429 and Retry-After: 1, like yibi's login limit, and notes when.
type loginLimit struct {
	next http.Handler
	n    int

	mu       sync.Mutex
	refused  []time.Time
	accepted []time.Time
}

func (l *loginLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-WX-RawData") != "" {
		l.mu.Lock()
		refuse := len(l.refused) < l.n
		if refuse {
			l.refused = append(l.refused, time.Now())
		} else {
			l.accepted = append(l.accepted, time.Now())
		}
		l.mu.Unlock()
		if refuse {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{wxsession.EnvelopeKey: 1, "reason": "ERR_RATE_LIMITED"})
			return
		}
	}
	l.next.ServeHTTP(w, r)
}

func TestRunHonoursRetryAfter(t *testing.T) {
	lim := &loginLimit{next: &memPaints{}, n: 3}
	srv := devServer(t, lim, wxsession.Config{})
	o := quickOptions(srv.URL)
	o.Users, o.Requests, o.Duration = 3, 12, 0
	start := time.Now()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("got errors %d, lost %d, want 0, 0 (%+v)", rep.Errors, rep.Lost, rep.ErrorKinds)
	}
	if got := rep.Throttled["HTTP 429, session ERR_RATE_LIMITED"]; got != 3 {
		t.Errorf("got %d throttled 429s, want 3 (one per user, then a wait)", got)
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if len(lim.accepted) != 3 {
		t.Fatalf("got %d accepted logins, want 3", len(lim.accepted))
	}
	// Every accepted login came at least Retry-After (1 s) after the
	// first refusal.
	for _, at := range lim.accepted {
		if d := at.Sub(lim.refused[0]); d < time.Second {
			t.Errorf("a login came %v after a 429 with Retry-After: 1, want at least 1s", d)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("got a %v run, want about 1-2 s", d)
	}
}

// A server that keeps refusing is asked maxBackoffs+1 times per operation,
// not in a tight loop, and the run's end stops the waits.
func TestRunThrottledUntilTheEnd(t *testing.T) {
	lim := &loginLimit{next: &memPaints{}, n: 1 << 30}
	srv := devServer(t, lim, wxsession.Config{})
	o := quickOptions(srv.URL)
	o.Users, o.Duration = 2, 1500*time.Millisecond
	start := time.Now()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("got a %v run, want the back-off cut at the run's end (1.5 s)", d)
	}
	lim.mu.Lock()
	refused := len(lim.refused)
	lim.mu.Unlock()
	// Retry-After: 1 over 1.5 s: two or three asks per user.
	if refused > 2*3 || refused < 2 {
		t.Errorf("got %d refused logins from 2 users in 1.5 s, want 2-6", refused)
	}
	if rep.Errors != 0 {
		t.Errorf("got %d errors, want 0 (throttled until the end is not an error): %+v", rep.Errors, rep.ErrorKinds)
	}
}

func TestRunLogsInAgainOnExpiredSession(t *testing.T) {
	// The store's clock moves a whole session lifetime after every
	// request the paints handler serves: every request after a login finds
	// its session gone and must log in again, as the 2016 SDK did. A fake
	// clock, so the test does not depend on how long a request takes.
	const ttl = time.Minute
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	store := memstore.New(memstore.WithNow(func() time.Time { return time.Unix(0, now.Load()) }))
	paints := &memPaints{}
	expireAfter := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paints.ServeHTTP(w, r)
		now.Add(int64(ttl))
	})
	srv := devServer(t, expireAfter, wxsession.Config{Store: store, TTL: ttl})
	o := quickOptions(srv.URL)
	o.Users, o.Requests, o.Duration = 2, 10, 0
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Lost != 0 {
		t.Errorf("got errors %d, lost %d, want 0, 0 (%+v)", rep.Errors, rep.Lost, rep.ErrorKinds)
	}
	if rep.Relogins[reasonSessionExpired] == 0 {
		t.Errorf("got relogins %v, want some %s", rep.Relogins, reasonSessionExpired)
	}
}

func TestRunServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	o := quickOptions(url)
	o.Requests, o.Duration = 5, 0
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 5 || len(rep.ErrorKinds) != 1 || rep.ErrorKinds[0].Kind != "sim transport: connection refused" {
		t.Errorf("got %d errors %+v, want 5 sim transport: connection refused", rep.Errors, rep.ErrorKinds)
	}
}

func TestRunInterrupted(t *testing.T) {
	srv := devServer(t, &memPaints{}, wxsession.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	o := quickOptions(srv.URL)
	o.Duration = time.Minute
	rep, err := Run(ctx, o)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got error %v, want the context's", err)
	}
	if rep == nil || !rep.Interrupted || rep.Errors != 0 {
		t.Errorf("got report %+v, want an interrupted one without errors", rep)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
	}{
		{"ErrRunSimWithoutSecret", Options{RunSim: "127.0.0.1:0", AppID: "wx1"}},
		{"ErrNegativeUsers", Options{Users: -1}},
		{"ErrOnePointStroke", Options{PointsPerStroke: 1}},
		{"ErrNegativeMix", Options{Mix: Mix{List: -1, Save: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.o)
			if !errors.Is(err, ErrOptions) {
				t.Errorf("got %v, want ErrOptions", err)
			}
		})
	}
}
