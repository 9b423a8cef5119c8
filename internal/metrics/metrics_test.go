package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/wechat"
	"github.com/yibi/yibi/wxsession"
)

// scrape returns the exposition text of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("/metrics status: got %d, want 200", w.Code)
	}
	return w.Body.String()
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("exposition lacks %q", l)
		}
	}
}

func TestObserveRequest(t *testing.T) {
	m := New()
	for _, rq := range []struct {
		method, route string
		code          int
	}{
		{"GET", "/applet/session/paints/list", 200},
		{"GET", "/applet/session/paints/list", 200},
		{"POST", "/applet/session/paints/save", 503},
		{"GET", "", 404},
		{"BREW", "", 404},
		{"get", "", 404},
	} {
		m.ObserveRequest(rq.method, rq.route, rq.code, time.Millisecond)
	}
	wantLines(t, scrape(t, m),
		`yibi_http_requests_total{code="200",method="GET",route="/applet/session/paints/list"} 2`,
		`yibi_http_requests_total{code="503",method="POST",route="/applet/session/paints/save"} 1`,
		`yibi_http_requests_total{code="404",method="GET",route="none"} 1`,
		`yibi_http_requests_total{code="404",method="other",route="none"} 2`,
		`yibi_http_request_duration_seconds_count{route="/applet/session/paints/list"} 2`,
	)
}

func TestOnLoginAndOnReject(t *testing.T) {
	m := New()
	ctx := context.Background()
	m.OnLogin(ctx, "ok", 10*time.Millisecond)
	m.OnLogin(ctx, "ok", 20*time.Millisecond)
	m.OnLogin(ctx, "ERR_UNTRUSTED_RAW_DATA", time.Millisecond)
	m.OnReject("ip")
	wantLines(t, scrape(t, m),
		`yibi_logins_total{result="ok"} 2`,
		`yibi_logins_total{result="ERR_UNTRUSTED_RAW_DATA"} 1`,
		`yibi_login_duration_seconds_count{result="ok"} 2`,
		`yibi_rate_limit_rejections_total{scope="ip"} 1`,
	)
}

type exchangeFunc func(ctx context.Context, code string) (wechat.Session, error)

func (f exchangeFunc) Exchange(ctx context.Context, code string) (wechat.Session, error) {
	return f(ctx, code)
}

func TestExchanger(t *testing.T) {
	m := New()
	ex := m.Exchanger(exchangeFunc(func(_ context.Context, code string) (wechat.Session, error) {
		switch code {
		case "used":
			return wechat.Session{}, fmt.Errorf("exchange: %w", &wechat.Error{Code: wechat.CodeCodeUsed, Msg: "code been used"})
		case "down":
			return wechat.Session{}, errors.New("dial tcp: connection refused")
		}
		return wechat.Session{OpenID: "o1"}, nil
	}))
	for _, code := range []string{"good", "good", "used", "down"} {
		s, err := ex.Exchange(context.Background(), code)
		if code == "good" && (err != nil || s.OpenID != "o1") {
			t.Fatalf("Exchange(good): got %v, %v, want o1, nil", s, err)
		}
		if code != "good" && err == nil {
			t.Fatalf("Exchange(%s): got nil error, want the error passed through", code)
		}
	}
	wantLines(t, scrape(t, m),
		`yibi_wechat_exchange_duration_seconds_count{result="ok"} 2`,
		`yibi_wechat_exchange_duration_seconds_count{result="errcode"} 1`,
		`yibi_wechat_exchange_duration_seconds_count{result="error"} 1`,
		`yibi_wechat_exchange_errors_total{errcode="40163"} 1`,
		`yibi_wechat_exchange_errors_total{errcode="none"} 1`,
	)
}

// sessions is a minimal in-process session store. A real one (memstore)
// would do, but this test only checks that calls and errors pass through
// the decorator and are counted; fail makes every call fail.
type sessions struct {
	mu   sync.Mutex
	m    map[string]wxsession.Session
	fail bool
}

var errDown = errors.New("store down")

func (s *sessions) Get(ctx context.Context, code string) (wxsession.Session, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return wxsession.Session{}, false, err
	}
	if s.fail {
		return wxsession.Session{}, false, errDown
	}
	v, ok := s.m[code]
	return v, ok, nil
}
func (s *sessions) Login(_ context.Context, code string, v wxsession.Session, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDown
	}
	s.m[code] = v
	return nil
}

// SaveExchange and GetExchange only fail when fail is set: these tests
// count calls through the decorator, not what an exchange holds.
func (s *sessions) SaveExchange(context.Context, string, wxsession.CodeExchange, time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errDown
	}
	return nil
}
func (s *sessions) GetExchange(context.Context, string) (wxsession.CodeExchange, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return wxsession.CodeExchange{}, false, errDown
	}
	return wxsession.CodeExchange{}, false, nil
}
func (s *sessions) Delete(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, code)
	return nil
}

type countingSessions struct{ sessions }

func (s *countingSessions) Len(context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m), nil
}

func TestSessionStore(t *testing.T) {
	t.Run("OpsAndErrorsCounted", func(t *testing.T) {
		m := New()
		inner := &sessions{m: map[string]wxsession.Session{}}
		st := m.SessionStore(inner)
		ctx := context.Background()
		if err := st.Login(ctx, "c1", wxsession.Session{User: wxsession.User{OpenID: "o1"}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, found, err := st.Get(ctx, "c1"); !found || err != nil {
			t.Fatalf("Get: got found=%v err=%v, want true, nil", found, err)
		}
		// A Get its client gave up on is not a store error.
		gone, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := st.Get(gone, "c1"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get with a cancelled context: got %v, want context.Canceled", err)
		}
		inner.fail = true
		if _, _, err := st.Get(ctx, "c1"); !errors.Is(err, errDown) {
			t.Fatalf("Get on failing store: got %v, want %v", err, errDown)
		}
		text := scrape(t, m)
		wantLines(t, text,
			`yibi_store_operation_duration_seconds_count{op="login",store="session"} 1`,
			`yibi_store_operation_duration_seconds_count{op="get",store="session"} 3`,
			`yibi_store_errors_total{op="get",store="session"} 1`,
		)
		if strings.Contains(text, "yibi_sessions_live") {
			t.Errorf("yibi_sessions_live registered for a store without Len")
		}
	})
	t.Run("LiveGaugeWhenStoreCounts", func(t *testing.T) {
		m := New()
		st := m.SessionStore(&countingSessions{sessions{m: map[string]wxsession.Session{}}})
		for _, c := range []string{"a", "b", "c"} {
			st.Login(context.Background(), c, wxsession.Session{}, time.Hour)
		}
		wantLines(t, scrape(t, m), `yibi_sessions_live 3`)
	})
}

func TestPaintStore(t *testing.T) {
	inner, err := sqlite.Open(filepath.Join(t.TempDir(), "paints.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	st := m.PaintStore(inner)
	ctx := context.Background()
	if _, err := st.Save(ctx, paint.Paint{OpenID: "o1", ID: "p1", Actions: "[]"}, paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := st.List(ctx, "o1", paint.Page{}, func(paint.Paint) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// A conflict and a call its client gave up on are not store errors.
	if _, err := st.Append(ctx, "o1", "p1", 7, "[]", time.Now(), paint.Limits{}); err == nil {
		t.Fatal("Append on a stale rev: got nil, want a conflict")
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Get(gone, "o1", "p1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: got %v, want context.Canceled", err)
	}
	if err := st.Delete(ctx, "o1", "missing"); !errors.Is(err, paint.ErrNotFound) {
		t.Fatalf("Delete(missing): got %v, want %v", err, paint.ErrNotFound)
	}
	st.Close()
	if err := st.List(ctx, "o1", paint.Page{}, func(paint.Paint) error { return nil }); err == nil {
		t.Fatal("List on closed store: got nil error, want an error")
	}
	text := scrape(t, m)
	wantLines(t, text,
		`yibi_store_operation_duration_seconds_count{op="save",store="paint"} 1`,
		`yibi_store_operation_duration_seconds_count{op="list",store="paint"} 2`,
		`yibi_store_operation_duration_seconds_count{op="delete",store="paint"} 1`,
		`yibi_store_errors_total{op="list",store="paint"} 1`,
	)
	for _, op := range []string{"append", "get"} {
		if strings.Contains(text, `yibi_store_errors_total{op="`+op+`"`) {
			t.Errorf("a %s the client gave up on, or a conflict, counted as a store error", op)
		}
	}
	if strings.Contains(text, `yibi_store_errors_total{op="delete"`) {
		t.Errorf("ErrNotFound counted as a store error")
	}
}
