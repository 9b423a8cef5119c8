package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yibi/yibi/wxsession"
	"github.com/yibi/yibi/wxsession/memstore"
)

func runMain(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Main(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestMainText(t *testing.T) {
	srv := devServer(t, &memPaints{}, wxsession.Config{})
	out, stderr, err := runMain(t, "-url", srv.URL, "-users", "3", "-duration", "400ms", "-progress", "100ms", "-seed", "1")
	if err != nil {
		t.Fatalf("got error %v, want none\n%s", err, out)
	}
	if !strings.HasSuffix(out, "\nlost: 0\nerrors: 0\n") {
		t.Errorf("got output\n%s\nwant it to end with lost: 0 and errors: 0", out)
	}
	for _, want := range []string{"\nlist ", "\nsave ", "\ndelete ", "\nlogin ", "\nsim ", "verify: 3 users listed"} {
		if !strings.Contains(out, want) {
			t.Errorf("got output\n%s\nwant it to contain %q", out, want)
		}
	}
	if !strings.Contains(stderr, "loadgen: elapsed ") || !strings.Contains(stderr, ", rps ") {
		t.Errorf("got stderr %q, want progress lines", stderr)
	}
}

func TestMainJSON(t *testing.T) {
	srv := devServer(t, &memPaints{}, wxsession.Config{})
	out, _, err := runMain(t, "-url", srv.URL, "-users", "1", "-requests", "5", "-json", "-mix", "save=1", "-strokes-per-save", "2", "-points-per-stroke", "3", "-max-strokes", "4")
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("got %v decoding\n%s", err, out)
	}
	if rep.Requests != 5 || rep.Mix != "list=0,save=1,delete=0" || rep.Lost != 0 || rep.Errors != 0 {
		t.Errorf("got %+v, want 5 requests, mix save=1, nothing lost", rep)
	}
	// 5 saves of 2 strokes, a new drawing after 4 strokes: 3 drawings.
	if got, want := rep.Verify.Checked, 3; got != want {
		t.Errorf("got %d paints checked, want %d", got, want)
	}
}

func TestMainFailsOnLoss(t *testing.T) {
	srv := devServer(t, &memPaints{dropSaves: true}, wxsession.Config{})
	out, _, err := runMain(t, "-url", srv.URL, "-users", "1", "-requests", "1", "-duration", "0", "-mix", "save=1")
	if !errors.Is(err, ErrLost) {
		t.Errorf("got error %v, want ErrLost", err)
	}
	if !strings.Contains(out, "\nlost: 1\nerrors: 0\n") {
		t.Errorf("got output\n%s\nwant lost: 1", out)
	}
}

// TestMainRunSim plays against a production-mode server: no simulator of
// its own, its WeChat API URL pointing at the one loadgen serves.
func TestMainRunSim(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	simAddr := ln.Addr().String()
	ln.Close()
	store := memstore.New()
	defer store.Close()
	mw, err := wxsession.New(wxsession.Config{AppID: testApp, AppSecret: testSecret, WeChatURL: "http://" + simAddr, Store: store,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw.Handler(&memPaints{}))
	defer srv.Close()

	t.Run("CleanWithMatchingSecret", func(t *testing.T) {
		out, _, err := runMain(t, "-url", srv.URL, "-run-sim", simAddr, "-appid", testApp, "-secret", testSecret,
			"-users", "2", "-requests", "12")
		if err != nil {
			t.Fatalf("got error %v, want none\n%s", err, out)
		}
		if !strings.Contains(out, "(simulator http://"+simAddr+")") {
			t.Errorf("got output\n%s\nwant the simulator at %s", out, simAddr)
		}
	})
	t.Run("ExchangeFailsWithOtherSecret", func(t *testing.T) {
		out, _, err := runMain(t, "-url", srv.URL, "-run-sim", simAddr, "-appid", testApp, "-secret", "wrong",
			"-users", "1", "-requests", "1", "-json")
		if !errors.Is(err, ErrFailures) {
			t.Fatalf("got error %v, want ErrFailures", err)
		}
		var rep Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		// The SDK retries a failed exchange 3 times, then gives up.
		if len(rep.ErrorKinds) != 1 || !strings.Contains(rep.ErrorKinds[0].Kind, "session "+reasonExchangeFailed) ||
			rep.Relogins[reasonExchangeFailed] != maxRetries {
			t.Errorf("got kinds %+v, relogins %v, want one %s after %d re-logins", rep.ErrorKinds, rep.Relogins, reasonExchangeFailed, maxRetries)
		}
	})
}

func TestMainBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want error
	}{
		{"ErrBadMix", []string{"-mix", "list=1,fly=2"}, ErrMix},
		{"ErrBadNumber", []string{"-users", "many"}, ErrOptions},
		{"ErrUnknownFlag", []string{"-frobnicate"}, ErrOptions},
		{"ErrExtraArgument", []string{"http://x"}, ErrOptions},
		{"ErrNoBound", []string{"-duration", "0"}, ErrOptions},
		{"ErrRunSimWithoutApp", []string{"-run-sim", "127.0.0.1:0"}, ErrOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runMain(t, tt.args...)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMainHelp(t *testing.T) {
	_, stderr, err := runMain(t, "-h")
	if err != nil || !strings.Contains(stderr, "-max-strokes") {
		t.Errorf("got %v and %q, want nil and the flag list", err, stderr)
	}
}

var _ http.Handler = (*memPaints)(nil)
