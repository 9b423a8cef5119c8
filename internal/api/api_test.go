package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
	"github.com/yibi/yibi/internal/sqlite"
)

type ctxKey struct{}

func newHandler(t *testing.T) http.Handler {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "yibi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return Handler(Config{Store: st, BasePath: "/applet", MaxActionsBytes: 1 << 20, MaxPaintsPerUser: 2, MaxBodyBytes: 2 << 20,
		OpenID: func(ctx context.Context) (string, bool) { s, ok := ctx.Value(ctxKey{}).(string); return s, ok }})
}

func do(h http.Handler, user, method, path, ct, body string) (int, map[string]any) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if user != "" {
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, user))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	return w.Code, m
}

func reason(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["reason"].(string)
	return s
}

const id1 = "3f2a8c1e-6b7d-4e5f-9a0b-1c2d3e4f5a6b"

func TestAPI(t *testing.T) {
	h := newHandler(t)
	tests := []struct {
		name, user, method, path, ct, body string
		status                             int
		reason                             string
	}{
		{"ErrNoUser", "", "GET", "/applet/session/paints/list", "", "", 401, ReasonNoUser},
		{"SaveJSON", "alice", "POST", "/applet/session/paints/save", "application/json", `{"id":"` + id1 + `","actions":"[]"}`, 200, ""},
		{"SaveForm", "alice", "POST", "/applet/session/paints/save", "application/x-www-form-urlencoded", "id=" + id1 + "&actions=%5B%5D", 200, ""},
		{"ErrMissing", "alice", "POST", "/applet/session/paints/save", "application/json", `{"id":"` + id1 + `"}`, 400, "id or actions does not exists"},
		{"ErrGarbageBody", "alice", "POST", "/applet/session/paints/save", "application/json", `{"id":`, 400, ReasonBadBody},
		{"ErrContentType", "alice", "POST", "/applet/session/paints/save", "text/plain", `x`, 415, ReasonContentType},
		{"ErrTooLarge", "alice", "POST", "/applet/session/paints/save", "application/json", `{"id":"` + strings.Repeat("a", 3<<20) + `"}`, 413, ReasonTooLarge},
		{"DeleteOtherUsersIsNoop", "bob", "POST", "/applet/session/paints/delete", "application/json", `{"id":"` + id1 + `"}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, m := do(h, tt.user, tt.method, tt.path, tt.ct, tt.body)
			if got != tt.status || reason(m) != tt.reason {
				t.Errorf("got %d %q, want %d %q", got, reason(m), tt.status, tt.reason)
			}
		})
	}
	t.Run("ListScopedToCaller", func(t *testing.T) {
		_, m := do(h, "alice", "GET", "/applet/session/paints/list", "", "")
		if d, _ := m["data"].([]any); len(d) != 1 {
			t.Errorf("alice: got %v, want 1 paint", m["data"])
		}
		_, m = do(h, "bob", "GET", "/applet/session/paints/list", "", "")
		if d, _ := m["data"].([]any); len(d) != 0 {
			t.Errorf("bob: got %v, want 0 paints", m["data"])
		}
	})
	t.Run("ListItemsAreV1", func(t *testing.T) {
		_, m := do(h, "alice", "GET", "/applet/session/paints/list", "", "")
		d, _ := m["data"].([]any)
		if len(d) != 1 {
			t.Fatalf("got %v, want 1 paint", m["data"])
		}
		item, _ := d[0].(map[string]any)
		if len(item) != 2 || item["id"] != id1 || item["actions"] != "[]" {
			t.Errorf("got item %v, want exactly {id, actions}", item)
		}
	})
	t.Run("ListTimestampsOptIn", func(t *testing.T) {
		_, m := do(h, "alice", "GET", "/applet/session/paints/list?timestamps=1", "", "")
		d, _ := m["data"].([]any)
		if len(d) != 1 {
			t.Fatalf("got %v, want 1 paint", m["data"])
		}
		item, _ := d[0].(map[string]any)
		for _, k := range []string{"createdAt", "updatedAt"} {
			if s, _ := item[k].(string); s == "" {
				t.Errorf("got %s %v, want an RFC 3339 time", k, item[k])
			}
		}
	})
}

// FuzzWriteList checks the hand-encoded list answer against
// encoding/json: for any id and actions, a stream of appendItem writes
// exactly the bytes OK writes for the same items.
func FuzzWriteList(f *testing.F) {
	for _, s := range []string{
		`[]`, `[{"method":"lineTo","data":[1,2]}]`, `a"b\c`, "<>&", "\u2028\u2029", "\x00\x1f\x7f",
		"\xff\xfe", "小明", "tab\tnl\n", `{"x":"</script>"}`,
	} {
		f.Add("3f2a8c1e-6b7d", s)
	}
	f.Fuzz(func(t *testing.T, id, actions string) {
		got := httptest.NewRecorder()
		st := newStream(got, httptest.NewRequest("GET", "/", nil))
		st.text(`{"code":0,"data":[`)
		st.appendItem(paint.Paint{ID: id, Actions: actions})
		st.text(",")
		st.appendItem(paint.Paint{ID: actions, Actions: id})
		st.text("],\"msg\":\"success\"}\n")
		st.finish()
		st.release()
		want := httptest.NewRecorder()
		OK(want, []item{{ID: id, Actions: actions}, {ID: actions, Actions: id}})
		if got.Body.String() != want.Body.String() {
			t.Fatalf("got %q, want %q", got.Body, want.Body)
		}
		if got.Header().Get("Content-Length") != want.Header().Get("Content-Length") {
			t.Fatalf("got Content-Length %s, want %s", got.Header().Get("Content-Length"), want.Header().Get("Content-Length"))
		}
	})
}

// TestStoreTimeout: a store that does not answer (here SQLite's write lock
// held by another connection, which SQLite would wait out for its 5 s busy
// timeout) gives 503 store unavailable once StoreTimeout has passed.
func TestStoreTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "yibi.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const budget = 300 * time.Millisecond
	h := Handler(Config{Store: st, BasePath: "/applet", MaxActionsBytes: 1 << 20, MaxPaintsPerUser: 10, MaxBodyBytes: 2 << 20,
		StoreTimeout: budget,
		OpenID:       func(ctx context.Context) (string, bool) { s, ok := ctx.Value(ctxKey{}).(string); return s, ok }})

	release := holdWriteLock(t, path)
	for _, path := range []string{"/applet/session/paints/save", "/applet/session/paints/delete"} {
		start := time.Now()
		code, m := do(h, "alice", "POST", path, "application/json", `{"id":"`+id1+`","actions":"[]"}`)
		took := time.Since(start)
		if code != http.StatusServiceUnavailable || reason(m) != ReasonUnavailable {
			t.Errorf("%s with the write lock held: got %d %v, want 503 %q", path, code, m, ReasonUnavailable)
		}
		if took < budget || took > 4*time.Second {
			t.Errorf("%s answered after %v, want after the %v budget and well before SQLite's 5 s busy timeout", path, took, budget)
		}
	}

	release()
	if code, m := do(h, "alice", "POST", "/applet/session/paints/save", "application/json", `{"id":"`+id1+`","actions":"[]"}`); code != 200 {
		t.Errorf("save after the lock is released: got %d %v, want 200", code, m)
	}
}

// holdWriteLock takes the write lock of the SQLite file at path on a
// connection of its own, as a backup or the sqlite3 shell would, until
// release (or the test's end).
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Error(err)
			}
			conn.Close()
			other.Close()
		})
	}
	t.Cleanup(release)
	return release
}
