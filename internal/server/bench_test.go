package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/yibi/yibi/internal/config"
	"github.com/yibi/yibi/internal/paint/painttest"
	"github.com/yibi/yibi/internal/server"
	"github.com/yibi/yibi/internal/testenv"
	"github.com/yibi/yibi/wxsession"
)

// BenchmarkList measures the whole server answering an authenticated
// `list` of 3 paints of about 2 KB each (a cached session: X-WX-Code
// only), over loopback HTTP with a keep-alive client, against an
// unauthenticated handler that writes the same answer bytes from memory.
// The server is the real one of `yibi serve` in development mode: request
// log (JSON, to io.Discard), metrics, login rate limit, session layer,
// paint API, with its paint store and session store per sub-benchmark.
//
// Both servers run side by side, in alternating blocks of requests at the
// same concurrency (conc=1 is serial). Reported: rps-ratio (the server's
// throughput over the bare handler's; the target is ≥ 0.6 on SQLite),
// ratio (mean latency over the bare one's), bare-us and yibi-us (mean
// latency of one request, µs), answer-bytes and paint-bytes. ns/op is the
// wall time of one bare request plus one server request. The in-process
// sub-benchmarks time the server's handler alone, serially, with no HTTP
// (with SQLite and memory sessions, that is its CPU cost per list; with
// Redis or FerretDB it includes waiting for them). Under -cpuprofile,
// samples carry a side label
// (bare-client, bare-server, yibi-client, yibi-server): go tool pprof -tags.
func BenchmarkList(b *testing.B) {
	stores := []struct {
		name  string
		setup func(b *testing.B, cfg *config.Config)
	}{
		{"sqlite+memory", func(*testing.B, *config.Config) {}},
		{"sqlite+redis", func(b *testing.B, cfg *config.Config) {
			cfg.RedisURL = testenv.StartRedis(b).URL()
		}},
		{"ferretdb+memory", func(b *testing.B, cfg *config.Config) {
			cfg.MongoURI = testenv.StartFerretDB(b).URI
			cfg.MongoDatabase = "bench"
		}},
	}
	for _, st := range stores {
		for _, conc := range []int{0, 1, 8} {
			name := fmt.Sprintf("%s/conc=%d", st.name, conc)
			if conc == 0 {
				name = st.name + "/in-process"
			}
			b.Run(name, func(b *testing.B) {
				cfg := config.Default()
				cfg.Port = 0
				cfg.DataDir = b.TempDir()
				st.setup(b, &cfg)
				benchList(b, cfg, conc)
			})
		}
	}
}

// listServer starts the server of cfg (its handler labelled label), logs
// a user in through the simulator, as the mini program does, and saves
// paints paints of about 2 KB. It returns the server, the list URL, the
// session header, the list's answer and the paints' total action bytes.
func listServer(b *testing.B, cfg config.Config, label string, paints int) (srv *server.Server, list string, session http.Header, answer []byte, actionBytes int) {
	b.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil)) // production logs every request at info
	srv, err := server.New(cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	yibi := benchServer(b, label, srv.Handler())
	sim := srv.Simulator()
	if sim == nil {
		b.Fatal("no simulator: the config is not in development mode")
	}
	base := yibi.URL + cfg.RouteBasePath + "/session/paints/"

	const user = "bench-lister"
	code, err := sim.Login("", user)
	if err != nil {
		b.Fatal(err)
	}
	raw, sig, err := sim.UserInfo("", user)
	if err != nil {
		b.Fatal(err)
	}
	login := http.Header{"X-Wx-Code": {code}, "X-Wx-Rawdata": {wxsession.EncodeRawData(raw)}, "X-Wx-Signature": {sig}}
	if _, _, err := benchDo(http.DefaultClient, "GET", base+"list", login, nil); err != nil {
		b.Fatal("login: ", err)
	}
	session = http.Header{"X-Wx-Code": {code}}
	for i := range paints {
		actions := painttest.Actions(2, 19, uint64(i+1))
		actionBytes += len(actions)
		form := url.Values{"id": {fmt.Sprintf("8c3e1f4a-0000-4000-8000-00000000000%d", i)}, "actions": {actions}}
		h := session.Clone()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, _, err := benchDo(http.DefaultClient, "POST", base+"save", h, strings.NewReader(form.Encode())); err != nil {
			b.Fatal("save: ", err)
		}
	}
	_, answer, err = benchDo(http.DefaultClient, "GET", base+"list", session, nil)
	if err != nil {
		b.Fatal("list: ", err)
	}
	if n := bytes.Count(answer, []byte(`"id":`)); n != paints {
		b.Fatalf("list: got %d paints, want %d: %s", n, paints, answer)
	}
	return srv, base + "list", session, answer, actionBytes
}

func benchList(b *testing.B, cfg config.Config, conc int) {
	srv, list, session, answer, actionBytes := listServer(b, cfg, "yibi-server", 3)
	// The baseline: the same answer from memory, as a static file server
	// would send it (with its length), no session, no store, no logs.
	bare := benchServer(b, "bare-server", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
		w.Write(answer)
	}))
	if conc == 0 {
		// In process: the server's handler alone, no HTTP.
		h := srv.Handler()
		req := httptest.NewRequest("GET", list, nil)
		req.Header = session.Clone()
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), answer) {
				b.Fatalf("got %d %s, want 200 %s", w.Code, w.Body, answer)
			}
		}
		return
	}
	testenv.Paired(b, conc, benchGet(b, conc, bare.URL, nil, answer), benchGet(b, conc, list, session, answer), testenv.PairNames{
		Base: "bare-us", Subject: "yibi-us", RPS: "rps-ratio", BaseLabel: "bare-client", SubjectLabel: "yibi-client"})
	b.ReportMetric(float64(len(answer)), "answer-bytes")
	b.ReportMetric(float64(actionBytes)/3, "paint-bytes")
}

// benchGet returns a call that GETs u with header h over its own
// keep-alive client of conc connections and checks that the answer is
// 200 and want, byte for byte. It reads answers into reused buffers: the
// client's own work is no part of the servers', and it shares their cores.
func benchGet(b *testing.B, conc int, u string, h http.Header, want []byte) func() error {
	bufs := sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 2*len(want))) }}
	c := benchClient(b, conc)
	return func() error {
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			return err
		}
		req.Header = h.Clone()
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		buf := bufs.Get().(*bytes.Buffer)
		defer bufs.Put(buf)
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return err
		case resp.StatusCode != http.StatusOK || !bytes.Equal(buf.Bytes(), want):
			return fmt.Errorf("answer changed: got %d %s, want 200 %s", resp.StatusCode, buf, want)
		}
		return nil
	}
}

// BenchmarkSessions measures what Redis sessions cost against memory
// sessions: two real servers of `yibi serve` (development mode, SQLite),
// one with memory sessions and one with Redis sessions, side by side in
// alternating blocks, answering an authenticated list of 0 or 3 paints.
// "redis" is the default (the local cache kept fresh by Redis's client
// tracking), "redis-nocache" asks Redis on every request
// (session_cache_entries=0). Reported: rps-ratio (Redis's throughput over
// memory's; the targets are ≥ 0.95 for the empty list and ≥ 0.97 for 3
// paints), ratio (mean latency, Redis over memory), memory-us, redis-us.
func BenchmarkSessions(b *testing.B) {
	for _, paints := range []int{0, 3} {
		for _, redisKind := range []string{"redis", "redis-nocache"} {
			for _, conc := range []int{1, 8} {
				b.Run(fmt.Sprintf("paints=%d/%s/conc=%d", paints, redisKind, conc), func(b *testing.B) {
					cfg := config.Default()
					cfg.Port = 0
					cfg.DataDir = b.TempDir()
					_, memList, memSession, memAnswer, _ := listServer(b, cfg, "memory-server", paints)
					cfg.DataDir = b.TempDir()
					cfg.RedisURL = testenv.StartRedis(b).URL()
					if redisKind == "redis-nocache" {
						cfg.SessionCacheEntries = 0
					}
					_, redisList, redisSession, redisAnswer, _ := listServer(b, cfg, "redis-server", paints)
					testenv.Paired(b, conc,
						benchGet(b, conc, memList, memSession, memAnswer),
						benchGet(b, conc, redisList, redisSession, redisAnswer),
						testenv.PairNames{Base: "memory-us", Subject: "redis-us", RPS: "rps-ratio", BaseLabel: "memory-client", SubjectLabel: "redis-client"})
				})
			}
		}
	}
}

// benchServer starts an httptest server for h whose goroutines carry the
// pprof label side=label, so that a CPU profile of the benchmark splits by
// side: go tool pprof -tags (or -tagfocus=side=yibi-server).
func benchServer(b *testing.B, label string, h http.Handler) *httptest.Server {
	var s *httptest.Server
	// Goroutines inherit labels: the accept loop started here, and every
	// connection's goroutine it starts.
	pprof.Do(context.Background(), pprof.Labels("side", label), func(context.Context) {
		s = httptest.NewServer(h)
	})
	b.Cleanup(s.Close)
	return s
}

// benchClient is a keep-alive client with conc idle connections.
func benchClient(b *testing.B, conc int) *http.Client {
	t := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}
	b.Cleanup(t.CloseIdleConnections)
	return &http.Client{Transport: t}
}

// benchDo sends a request and reads the whole answer; any status but 200
// is an error.
func benchDo(c *http.Client, method, u string, h http.Header, body io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if h != nil {
		req.Header = h.Clone()
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, b, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return resp.StatusCode, b, nil
}
