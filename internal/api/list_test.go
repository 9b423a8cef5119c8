package api

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/yibi/yibi/internal/paint"
)

// pageSpy is a paint.Store that records the Page of every List.
type pageSpy struct {
	paint.Store
	pages []paint.Page
}

func (s *pageSpy) List(ctx context.Context, openID string, page paint.Page, fn func(paint.Paint) error) error {
	s.pages = append(s.pages, page)
	return s.Store.List(ctx, openID, page, fn)
}

// okBody is what OK writes for data: the v1 envelope, as encoding/json
// makes it.
func okBody(data any) []byte {
	w := httptest.NewRecorder()
	OK(w, data)
	return w.Body.Bytes()
}

// TestListWithoutActions: ?actions=0 lists ids (and with ?timestamps=1
// revisions and times) without the actions, asks the store not to read
// them, pages like any list, and leaves every other answer as it was.
func TestListWithoutActions(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			spy := &pageSpy{Store: st[0]}
			h := handlerOn(spy, nil)
			// Five paints of 20 KB each, whose actions hold a marker no
			// answer without actions may contain; one appended to.
			const marker = "ACTIONS-MARKER"
			for i := range 5 {
				acts := fmt.Sprintf(`[{"method":"%s","data":[%d]}%s]`, marker, i, strings.Repeat(`,{"method":"lineTo","data":[1,2]}`, 600))
				if a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf(fmt.Sprint("p", i), 0, acts)); a.status != 200 {
					t.Fatal(a.status, string(a.body))
				}
			}
			if a := call(t, h, "alice", "POST", "/applet/session/paints/append", appendBodyOf("p2", 1, `[{"method":"stroke","data":[]}]`)); a.status != 200 {
				t.Fatal(a.status, string(a.body))
			}
			if a := call(t, h, "bob", "POST", "/applet/session/paints/append", appendBodyOf("b", 0, `[1]`)); a.status != 200 {
				t.Fatal(a.status, string(a.body))
			}
			var stored []paint.Paint
			if err := st[0].List(context.Background(), "alice", paint.Page{}, func(p paint.Paint) error { stored = append(stored, p); return nil }); err != nil {
				t.Fatal(err)
			}
			var v1, stamped []item
			for _, p := range stored {
				v1 = append(v1, item{ID: p.ID, Actions: p.Actions})
				stamped = append(stamped, item{ID: p.ID, Actions: p.Actions, Rev: p.Rev, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt})
			}

			t.Run("Shape", func(t *testing.T) {
				spy.pages = nil
				for _, q := range []string{"actions=0&timestamps=1", "timestamps=true&actions=false"} {
					a := call(t, h, "alice", "GET", "/applet/session/paints/list?"+q, "")
					if a.status != 200 || bytes.Contains(a.body, []byte(marker)) || len(a.body) > 1000 {
						t.Fatalf("%s: got %d, %d bytes %.200s, want 200 and no actions", q, a.status, len(a.body), a.body)
					}
					want := make([]bareItem, len(stored))
					for i, p := range stored {
						want[i] = bareItem{ID: p.ID, Rev: p.Rev, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
					}
					if !bytes.Equal(a.body, okBody(want)) {
						t.Errorf("%s: got %s, want %s", q, a.body, okBody(want))
					}
					for _, it := range a.m["data"].([]any) {
						if keys := slices.Sorted(maps.Keys(it.(map[string]any))); !slices.Equal(keys, []string{"createdAt", "id", "rev", "updatedAt"}) {
							t.Errorf("%s: got item keys %v, want exactly id, rev, createdAt, updatedAt", q, keys)
						}
					}
				}
				a := call(t, h, "alice", "GET", "/applet/session/paints/list?actions=0", "")
				want := make([]bareItem, len(stored))
				for i, p := range stored {
					want[i] = bareItem{ID: p.ID}
				}
				if a.status != 200 || !bytes.Equal(a.body, okBody(want)) {
					t.Errorf("actions=0: got %d %s, want %s", a.status, a.body, okBody(want))
				}
				for i, p := range spy.pages {
					if !p.NoActions {
						t.Errorf("list %d: the store was asked for the actions", i)
					}
				}
				if d := call(t, h, "bob", "GET", "/applet/session/paints/list?actions=0&timestamps=1", "").m["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != "b" {
					t.Errorf("bob: got %v, want his one paint", d)
				}
			})

			t.Run("Pages", func(t *testing.T) {
				for _, limit := range []int{1, 2, 5} {
					var got []string
					cursor := ""
					for range 10 {
						a := call(t, h, "alice", "GET", fmt.Sprintf("/applet/session/paints/list?actions=0&timestamps=1&limit=%d&cursor=%s", limit, cursor), "")
						with := call(t, h, "alice", "GET", fmt.Sprintf("/applet/session/paints/list?limit=%d&cursor=%s", limit, cursor), "")
						if a.status != 200 || bytes.Contains(a.body, []byte(marker)) {
							t.Fatalf("limit %d: got %d %.200s", limit, a.status, a.body)
						}
						d := a.m["data"].([]any)
						if len(d) > limit {
							t.Fatalf("limit %d: got a page of %d", limit, len(d))
						}
						for _, it := range d {
							got = append(got, it.(map[string]any)["id"].(string))
						}
						if a.m["next"] != with.m["next"] {
							t.Fatalf("limit %d: got next %v, want the list with actions' %v", limit, a.m["next"], with.m["next"])
						}
						next, _ := a.m["next"].(string)
						if next == "" {
							break
						}
						cursor = next
					}
					var want []string
					for _, p := range stored {
						want = append(want, p.ID)
					}
					if !slices.Equal(got, want) {
						t.Errorf("limit %d: got pages %v, want %v", limit, got, want)
					}
				}
			})

			t.Run("OtherAnswersUnchanged", func(t *testing.T) {
				spy.pages = nil
				for _, tt := range []struct {
					query string
					want  []byte
				}{
					{"", okBody(v1)},
					{"?actions=1", okBody(v1)},
					{"?actions=true", okBody(v1)},
					{"?actions=", okBody(v1)},
					{"?actions=yes", okBody(v1)},
					{"?timestamps=1", okBody(stamped)},
					{"?timestamps=1&actions=1", okBody(stamped)},
				} {
					a := call(t, h, "alice", "GET", "/applet/session/paints/list"+tt.query, "")
					if a.status != 200 || !bytes.Equal(a.body, tt.want) {
						t.Errorf("list%s: got %d %.300s…, want %.300s…", tt.query, a.status, a.body, tt.want)
					}
					if a.header.Get("Content-Length") != fmt.Sprint(len(tt.want)) {
						t.Errorf("list%s: got Content-Length %q, want %d", tt.query, a.header.Get("Content-Length"), len(tt.want))
					}
				}
				plain := call(t, h, "alice", "GET", "/applet/session/paints/list?limit=2", "")
				if a := call(t, h, "alice", "GET", "/applet/session/paints/list?limit=2&actions=1", ""); !bytes.Equal(a.body, plain.body) || !bytes.Contains(a.body, []byte(marker)) {
					t.Errorf("a page with actions=1: got %.200s…, want %.200s…", a.body, plain.body)
				}
				for i, p := range spy.pages {
					if p.NoActions {
						t.Errorf("list %d: the store was told to leave out the actions", i)
					}
				}
			})
		})
	}
}
