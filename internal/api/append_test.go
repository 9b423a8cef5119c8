package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yibi/yibi/internal/mongo"
	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/sqlite"
	"github.com/yibi/yibi/internal/testenv"
)

// stores opens the paint stores the API tests run on: two instances on
// one SQLite file, and two on one FerretDB database (skipped without
// FerretDB), as two yibi processes would.
func stores(t *testing.T) map[string][2]paint.Store {
	t.Helper()
	out := map[string][2]paint.Store{}
	path := filepath.Join(t.TempDir(), "yibi.db")
	var sq [2]paint.Store
	for i := range sq {
		s, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		sq[i] = s
	}
	out["SQLite"] = sq
	f := testenv.StartFerretDB(t)
	var mg [2]paint.Store
	for i := range mg {
		s, err := mongo.Open(context.Background(), f.URI, "api")
		if err != nil {
			t.Fatalf("open: %v\n%s", err, f.Log())
		}
		t.Cleanup(func() { s.Close() })
		mg[i] = s
	}
	out["FerretDB"] = mg
	return out
}

// handlerOn is the API on st, its user taken from the X-Test-User header.
func handlerOn(st paint.Store, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := Handler(Config{Store: st, BasePath: "/applet", MaxActionsBytes: 1 << 20, MaxPaintsPerUser: 1000, MaxBodyBytes: 2 << 20, Logger: logger,
		OpenID: func(ctx context.Context) (string, bool) {
			s, ok := ctx.Value(ctxKey{}).(string)
			return s, ok && s != ""
		}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, r.Header.Get("X-Test-User"))))
	})
}

type answer struct {
	status int
	header http.Header
	body   []byte
	m      map[string]any
}

func call(t *testing.T, h http.Handler, user, method, path, body string, header ...string) answer {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if method == "POST" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("X-Test-User", user)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	a := answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	_ = json.Unmarshal(a.body, &a.m)
	return a
}

func appendBodyOf(id string, rev int64, actions string) string {
	return fmt.Sprintf(`{"id":%q,"rev":%d,"actions":%s}`, id, rev, actions)
}

// dataRev is data.rev of an append's answer, or -1.
func dataRev(m map[string]any) int64 {
	d, _ := m["data"].(map[string]any)
	if f, ok := d["rev"].(float64); ok {
		return int64(f)
	}
	return -1
}

func TestAppend(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			h := handlerOn(st[0], nil)
			t.Run("TwoHundredAppendsListTheirConcatenation", func(t *testing.T) {
				var rev int64
				var parts []string
				for i := range 200 {
					stroke := fmt.Sprintf(`{"method":"lineTo","data":[%d,%d]}`, i, 2*i)
					parts = append(parts, stroke)
					a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf(id1, rev, "["+stroke+"]"))
					if a.status != 200 || dataRev(a.m) != rev+1 {
						t.Fatalf("append %d: got %d %s, want 200 with rev %d", i, a.status, a.body, rev+1)
					}
					rev++
				}
				want := "[" + strings.Join(parts, ",") + "]"
				a := call(t, h, "alice", "GET", "/applet/session/paints/list", "")
				wantBody, _ := json.Marshal(&okEnvelope{Msg: "success", Data: []item{{ID: id1, Actions: want}}})
				if got := strings.TrimSpace(string(a.body)); got != string(wantBody) {
					t.Errorf("list: got %.200s…, want %.200s…", got, wantBody)
				}
			})
			t.Run("StaleRev409WithCurrentRev", func(t *testing.T) {
				a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf(id1, 150, `[1]`))
				want := `{"code":-1,"data":{"rev":200},"error":{"reason":"revision conflict"},"msg":"fail"}`
				if a.status != 409 || strings.TrimSpace(string(a.body)) != want {
					t.Errorf("got %d %s, want 409 %s", a.status, a.body, want)
				}
			})
			t.Run("Get", func(t *testing.T) {
				a := call(t, h, "alice", "GET", "/applet/session/paints/get?id="+id1, "")
				d, _ := a.m["data"].(map[string]any)
				actions, _ := d["actions"].(string)
				if a.status != 200 || d["id"] != id1 || d["rev"] != 200.0 || !strings.HasPrefix(actions, `[{"method":"lineTo","data":[0,0]},`) ||
					d["createdAt"] == nil || d["updatedAt"] == nil || len(d) != 5 {
					t.Errorf("got %d %.300s, want 200 with id, actions, rev 200, createdAt, updatedAt", a.status, a.body)
				}
				if a := call(t, h, "bob", "GET", "/applet/session/paints/get?id="+id1, ""); a.status != 404 || reason(a.m) != ReasonNotFound {
					t.Errorf("another user's paint: got %d %s, want 404", a.status, a.body)
				}
			})
			t.Run("SaveThenAppend", func(t *testing.T) {
				const id = "v1-then-append"
				if a := call(t, h, "alice", "POST", "/applet/session/paints/save", `{"id":"`+id+`","actions":"[1,2]"}`); a.status != 200 || string(a.body) != `{"code":0,"data":{},"msg":"success"}`+"\n" {
					t.Fatalf("save: got %d %s, want the v1 answer", a.status, a.body)
				}
				if a := call(t, h, "alice", "POST", "/applet/session/paints/save", `{"id":"`+id+`","actions":"[1,2]"}`); a.status != 200 {
					t.Fatalf("save again: got %d %s", a.status, a.body)
				}
				if a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf(id, 1, `[3]`)); a.status != 409 || dataRev(a.m) != 2 {
					t.Errorf("append on the rev before the second save: got %d %s, want 409 at rev 2", a.status, a.body)
				}
				if a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf(id, 2, `[3]`)); a.status != 200 || dataRev(a.m) != 3 {
					t.Errorf("append: got %d %s, want 200 at rev 3", a.status, a.body)
				}
				a := call(t, h, "alice", "GET", "/applet/session/paints/get?id="+id, "")
				if d, _ := a.m["data"].(map[string]any); d["actions"] != "[1,2,3]" {
					t.Errorf("got %s, want actions [1,2,3]", a.body)
				}
			})
			t.Run("TwoAppendsOnOneRevAcrossInstances", func(t *testing.T) {
				hs := []http.Handler{h, handlerOn(st[1], nil)}
				for round := range 5 {
					id := fmt.Sprint("race-", round)
					if a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf(id, 0, `[0]`)); a.status != 200 {
						t.Fatalf("create: got %d %s", a.status, a.body)
					}
					var wg sync.WaitGroup
					got := make([]answer, 2)
					for i := range 2 {
						wg.Go(func() {
							got[i] = call(t, hs[i], "alice", "POST", "/applet/session/paints/append", appendBodyOf(id, 1, fmt.Sprintf("[%d]", i+1)))
						})
					}
					wg.Wait()
					statuses := map[int]int{got[0].status: 1}
					statuses[got[1].status]++
					if statuses[200] != 1 || statuses[409] != 1 {
						t.Fatalf("round %d: got %d %s and %d %s, want one 200 and one 409", round, got[0].status, got[0].body, got[1].status, got[1].body)
					}
					for _, a := range got {
						if a.status == 409 && dataRev(a.m) != 2 {
							t.Errorf("round %d: the loser got %s, want data.rev 2", round, a.body)
						}
					}
				}
			})
		})
	}
}

func TestAppendBadRequests(t *testing.T) {
	h := handlerOn(openSQLite(t), nil)
	tests := []struct {
		name, body string
		status     int
		reason     string
	}{
		{"ErrMissingActions", `{"id":"a","rev":0}`, 400, paint.ReasonMissing},
		{"ErrNullActions", `{"id":"a","rev":0,"actions":null}`, 400, paint.ReasonMissing},
		{"ErrMissingRev", `{"id":"a","actions":[]}`, 400, ReasonBadRev},
		{"ErrNegativeRev", `{"id":"a","rev":-1,"actions":[]}`, 400, ReasonBadRev},
		{"ErrFractionRev", `{"id":"a","rev":1.5,"actions":[]}`, 400, ReasonBadBody},
		{"ErrActionsNotArray", `{"id":"a","rev":0,"actions":{"a":1}}`, 400, paint.ReasonActionsNotArray},
		{"ErrActionsString", `{"id":"a","rev":0,"actions":"[]"}`, 400, paint.ReasonActionsNotArray},
		{"ErrBadID", `{"id":"a/b","rev":0,"actions":[]}`, 400, paint.ReasonBadID},
		{"ErrTrailingGarbage", `{"id":"a","rev":0,"actions":[]} x`, 400, ReasonBadBody},
		{"ErrInvalidUTF8", "{\"id\":\"a\",\"rev\":0,\"actions\":[\"\xff\"]}", 400, ReasonBodyNotUTF8},
		{"ErrPaintFull", appendBodyOf("full", 0, `["`+strings.Repeat("x", 1<<20-4)+`"]`), 200, ""},
		{"ErrPaintFullAppend", appendBodyOf("full", 1, `[1]`), 409, ReasonPaintFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, h, "alice", "POST", "/applet/session/paints/append", tt.body)
			if a.status != tt.status || reason(a.m) != tt.reason {
				t.Errorf("got %d %q, want %d %q", a.status, reason(a.m), tt.status, tt.reason)
			}
		})
	}
	t.Run("ErrFormContentType", func(t *testing.T) {
		a := call(t, h, "alice", "POST", "/applet/session/paints/append", "id=a&rev=0&actions=%5B%5D", "Content-Type", "application/x-www-form-urlencoded")
		if a.status != 415 {
			t.Errorf("got %d %s, want 415", a.status, a.body)
		}
	})
}

func openSQLite(t *testing.T) paint.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestQuota(t *testing.T) {
	st := openSQLite(t)
	h := Handler(Config{Store: st, BasePath: "/applet", MaxUserBytes: 10, MaxBodyBytes: 1 << 20,
		OpenID: func(context.Context) (string, bool) { return "alice", true }})
	for _, tt := range []struct {
		body   string
		status int
		reason string
	}{
		{`{"id":"a","actions":"[1,2,3]"}`, 200, ""},
		{`{"id":"b","actions":"[4]"}`, 200, ""},
		{`{"id":"c","actions":"[5]"}`, 409, ReasonQuota},
	} {
		if got, m := do(h, "alice", "POST", "/applet/session/paints/save", "application/json", tt.body); got != tt.status || reason(m) != tt.reason {
			t.Errorf("save %s: got %d %q, want %d %q", tt.body, got, reason(m), tt.status, tt.reason)
		}
	}
}

func TestListPagesAndGzip(t *testing.T) {
	st := openSQLite(t)
	h := handlerOn(st, nil)
	for i := range 5 {
		if a := call(t, h, "alice", "POST", "/applet/session/paints/save", fmt.Sprintf(`{"id":"p%d","actions":"[%d]"}`, i, i)); a.status != 200 {
			t.Fatal(a.status, string(a.body))
		}
	}
	whole := call(t, h, "alice", "GET", "/applet/session/paints/list", "")
	if whole.header.Get("Content-Length") == "" || whole.header.Get("Content-Encoding") != "" {
		t.Errorf("v1 list: got headers %v, want a Content-Length and no encoding", whole.header)
	}
	var all []string
	for _, it := range whole.m["data"].([]any) {
		all = append(all, it.(map[string]any)["id"].(string))
	}
	t.Run("PagesNewestFirst", func(t *testing.T) {
		var got []string
		cursor := ""
		for range 5 {
			a := call(t, h, "alice", "GET", "/applet/session/paints/list?limit=2&cursor="+cursor, "")
			if a.status != 200 {
				t.Fatalf("got %d %s", a.status, a.body)
			}
			for _, it := range a.m["data"].([]any) {
				got = append(got, it.(map[string]any)["id"].(string))
			}
			next, _ := a.m["next"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if strings.Join(got, ",") != strings.Join(all, ",") {
			t.Errorf("got pages %v, want %v", got, all)
		}
	})
	t.Run("BadPages", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "limit=", "cursor=***", "cursor=bm9wZQ"} {
			a := call(t, h, "alice", "GET", "/applet/session/paints/list?"+q, "")
			if a.status != 400 {
				t.Errorf("%s: got %d %s, want 400", q, a.status, a.body)
			}
		}
	})
	t.Run("Gzip", func(t *testing.T) {
		big := `[` + strings.Repeat(`{"method":"lineTo","data":[1,2]},`, 2000) + `1]`
		if a := call(t, h, "alice", "POST", "/applet/session/paints/save", `{"id":"big","actions":"`+strings.ReplaceAll(big, `"`, `\"`)+`"}`); a.status != 200 {
			t.Fatal(a.status, string(a.body))
		}
		plain := call(t, h, "alice", "GET", "/applet/session/paints/list", "")
		for _, enc := range []string{"gzip", "br;q=1, gzip;q=0.5", "*"} {
			a := call(t, h, "alice", "GET", "/applet/session/paints/list", "", "Accept-Encoding", enc)
			if a.header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s: got Content-Encoding %q, want gzip", enc, a.header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(a.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, plain.body) {
				t.Errorf("%s: gunzipped %d bytes (%v), want the %d plain bytes", enc, len(got), err, len(plain.body))
			}
			if len(a.body)*5 > len(plain.body) {
				t.Errorf("%s: got %d gzipped bytes for %d, want under a fifth", enc, len(a.body), len(plain.body))
			}
		}
		if a := call(t, h, "alice", "GET", "/applet/session/paints/list", "", "Accept-Encoding", "gzip;q=0"); a.header.Get("Content-Encoding") != "" {
			t.Errorf("gzip;q=0: got Content-Encoding %q, want none", a.header.Get("Content-Encoding"))
		}
	})
}
