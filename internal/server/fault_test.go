package server

import (
	"context"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/loadgen"
	"github.com/yibi/yibi/wechat/wechatsim"
	"github.com/yibi/yibi/wxsession"
)

// TestFaultsUnderLoad stops Redis, then FerretDB, while simulated users
// list, save and delete, and starts each again. Every answer must be a
// success or a 503 envelope within the bound, and afterwards every save
// that was answered success must be readable with the same actions: the
// load generator's verification lists every user's paints and compares.
func TestFaultsUnderLoad(t *testing.T) {
	p := startProd(t)
	logger, _ := testLogger(t)
	s := start(t, p.cfg, logger)

	type result struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := loadgen.Run(context.Background(), loadgen.Options{
			URL: s.URL(), SimURL: p.simURL, AppID: prodAppID,
			Users: 6, Duration: 16 * time.Second, Timeout: fast, Seed: 7,
			UserPrefix: "fault-",
		})
		done <- result{rep, err}
	}()

	// Each store stays down longer than the clients' timeouts to it, so
	// that requests meet it down rather than wait until it is back.
	time.Sleep(1500 * time.Millisecond)
	p.redis.Stop()
	time.Sleep(4 * time.Second)
	p.redis.Start()
	time.Sleep(2 * time.Second)
	p.ferret.Stop()
	time.Sleep(4 * time.Second)
	p.ferret.Start()

	res := <-done
	if res.err != nil {
		t.Fatalf("loadgen: %v", res.err)
	}
	rep := res.rep
	t.Logf("requests %d, errors %d, lost %d, relogins %v, kinds %+v, throttled %v", rep.Requests, rep.Errors, rep.Lost, rep.Relogins, rep.ErrorKinds, rep.Throttled)
	if rep.Lost != 0 || rep.Verify.Undeleted != 0 {
		t.Errorf("got lost %d, undeleted %d: want every acknowledged save readable and every acknowledged delete gone", rep.Lost, rep.Verify.Undeleted)
	}
	if rep.Verify.Checked == 0 {
		t.Errorf("verification checked no paint: %+v", rep.Verify)
	}
	// A 503 is backed off from and re-sent (Throttled); one still
	// refused after the back-off is an error. Both must be 503 envelopes.
	var sessionDown, paintsDown int64
	kinds := maps.Clone(rep.Throttled)
	for _, k := range rep.ErrorKinds {
		kinds[k.Kind] += k.Count
	}
	for kind, n := range kinds {
		switch {
		case strings.HasPrefix(kind, "HTTP 503, session"):
			sessionDown += n
		case kind == `HTTP 503, fail "store unavailable"`:
			paintsDown += n
		default:
			t.Errorf("got %d answers of kind %q, want only 503 envelopes (%+v)", n, kind, rep.ErrorKinds)
		}
	}
	if sessionDown == 0 || paintsDown == 0 {
		t.Errorf("got %d session 503s and %d paint store 503s, want both: the faults were not exercised", sessionDown, paintsDown)
	}
	for _, op := range rep.Ops {
		if op.MaxMs > float64(fast/time.Millisecond) {
			t.Errorf("%s: slowest answer %.0f ms, want under %v", op.Op, op.MaxMs, fast)
		}
	}
}

// TestWeChatHangs: a WeChat that does not answer costs a login the
// exchange timeout, answered 503 ERR_SESSION_KEY_EXCHANGE_FAILED; when
// WeChat answers again, logins work.
func TestWeChatHangs(t *testing.T) {
	p := startProd(t)
	sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{prodAppID: prodSecret}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	p.cfg.WeChatAPIURL, p.simURL = srv.URL, srv.URL
	p.cfg.ExchangeTimeout = time.Second
	logger, _ := testLogger(t)
	s := start(t, p.cfg, logger)
	c := newClient(t, s.URL(), "/applet", p.remote(), "hang")

	sim.SetDelay(time.Hour)
	begin := time.Now()
	a := c.call("GET", "list", "", nil)
	took := time.Since(begin)
	wantSessionError(t, "list while WeChat hangs", a, 503, wxsession.ReasonExchangeFailed)
	if took < p.cfg.ExchangeTimeout || took > p.cfg.ExchangeTimeout+2*time.Second {
		t.Errorf("answered in %v, want about the exchange timeout %v", took, p.cfg.ExchangeTimeout)
	}

	sim.SetDelay(0)
	c.login()
	if got := c.list(); len(got) != 0 {
		t.Errorf("after WeChat recovered: got %v, want an empty list", ids(got))
	}
}
