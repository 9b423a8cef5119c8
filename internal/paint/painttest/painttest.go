// Package painttest is the conformance suite for paint.Store: every
// implementation runs Run, so all stores keep the same contract.
package painttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yibi/yibi/internal/paint"
)

// Opener opens a store on one underlying database. Calling it again must
// open the same data, after the previous store was closed (the suite
// checks durability so) and while it is still open (a second yibi
// instance on the same database). Stores it returns are closed by the
// suite.
type Opener func() paint.Store

// Option relaxes the suite for a store that documents a weaker guarantee.
type Option int

// LimitMayRefuse is for stores without transactions: under concurrent
// creates at the limit they may refuse more saves than needed (ending below
// max), but must still never end above max.
const LimitMayRefuse Option = 1

// suite is one run's settings.
type suite struct {
	newDB     func(t *testing.T) Opener
	mayRefuse bool
}

// Run runs the suite. newDB is called once per subtest and must return an
// Opener for a fresh, empty database.
func Run(t *testing.T, newDB func(t *testing.T) Opener, opts ...Option) {
	t.Helper()
	su := &suite{newDB: newDB}
	for _, o := range opts {
		su.mayRefuse = su.mayRefuse || o == LimitMayRefuse
	}
	// Each test gets a store on a fresh database.
	tests := []struct {
		name string
		fn   func(t *testing.T, s paint.Store)
	}{
		{"Ping", testPing},
		{"EmptyList", testEmptyList},
		{"SaveThenList", testSaveThenList},
		{"ReplaceKeepsCreatedAt", testReplaceKeepsCreatedAt},
		{"ListNewestFirst", testListNewestFirst},
		{"ListPages", testListPages},
		{"ListStopsOnCallbackError", testListStops},
		{"ListWithoutActions", testListNoActions},
		{"ScopedPerUser", testScopedPerUser},
		{"Delete", testDelete},
		{"Get", testGet},
		{"ErrLimit", testErrLimit},
		{"ErrQuota", testErrQuota},
		{"ActionsRoundTrip", testActionsRoundTrip},
		{"SaveMovesRev", testSaveMovesRev},
		{"AppendConcatenates", testAppendConcatenates},
		{"AppendErrConflict", testAppendConflict},
		{"AppendErrTooLarge", testAppendTooLarge},
		{"SaveThenAppend", testSaveThenAppend},
		{"AppendToSpacedEmptyArray", testAppendToSpacedEmpty},
		{"ConcurrentDistinctIDs", testConcurrentDistinctIDs},
		{"ConcurrentNearLimit", su.testConcurrentNearLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, su.open(t, su.newDB(t))) })
	}
	t.Run("AppendRaceOneWins", su.testAppendRace)
	t.Run("DurableAcrossReopen", su.testDurable)
}

// open opens a store with open and closes it when the test ends.
func (su *suite) open(t *testing.T, open Opener) paint.Store {
	t.Helper()
	s := open()
	t.Cleanup(func() { s.Close() })
	return s
}

func testPing(t *testing.T, s paint.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
}

func testEmptyList(t *testing.T, s paint.Store) {
	if got := list(t, s, "alice", paint.Page{}); len(got) != 0 {
		t.Fatalf("got %#v, want no paints", got)
	}
}

func testSaveThenList(t *testing.T, s paint.Store) {
	now := ms(time.Now())
	created, err := s.Save(context.Background(), paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1]", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Errorf("got created false, want true")
	}
	got := list(t, s, "alice", paint.Page{})
	want := paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1]", Rev: 1, CreatedAt: now, UpdatedAt: now}
	if len(got) != 1 || !same(got[0], want) {
		t.Fatalf("got %+v, want [%+v]", got, want)
	}
}

func testReplaceKeepsCreatedAt(t *testing.T, s paint.Store) {
	t0 := ms(time.Now().Add(-time.Hour))
	t1 := t0.Add(time.Minute)
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1]", CreatedAt: t0, UpdatedAt: t0}, paint.Limits{})
	created, err := s.Save(context.Background(), paint.Paint{OpenID: "alice", ID: "p1", Actions: "[2]", CreatedAt: t1, UpdatedAt: t1}, paint.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Errorf("got created true, want false")
	}
	got := list(t, s, "alice", paint.Page{})
	want := paint.Paint{OpenID: "alice", ID: "p1", Actions: "[2]", Rev: 2, CreatedAt: t0, UpdatedAt: t1}
	if len(got) != 1 || !same(got[0], want) {
		t.Fatalf("got %+v, want [%+v]", got, want)
	}
}

func testListNewestFirst(t *testing.T, s paint.Store) {
	base := ms(time.Now())
	// Saved out of order, so an insertion-order store fails; p1 and p4
	// share a millisecond (ties go by id, descending).
	for _, p := range []struct {
		id      string
		seconds int
	}{{"p2", 2}, {"p0", 0}, {"p3", 3}, {"p1", 1}, {"p4", 1}} {
		at := base.Add(time.Duration(p.seconds) * time.Second)
		save(t, s, paint.Paint{OpenID: "alice", ID: p.id, Actions: "[]", CreatedAt: at, UpdatedAt: at}, paint.Limits{})
	}
	got := ids(list(t, s, "alice", paint.Page{}))
	if want := "p3,p2,p4,p1,p0"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func testListPages(t *testing.T, s paint.Store) {
	base := ms(time.Now())
	for i := range 7 {
		at := base.Add(time.Duration(i/2) * time.Second) // pairs share a millisecond
		save(t, s, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: at, UpdatedAt: at}, paint.Limits{})
	}
	want := ids(list(t, s, "alice", paint.Page{}))
	for _, limit := range []int{1, 2, 3, 7, 8} {
		var pages []string
		var after *paint.Cursor
		for range 10 {
			page := list(t, s, "alice", paint.Page{Limit: limit, After: after})
			if len(page) > limit {
				t.Fatalf("limit %d: got a page of %d", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			pages = append(pages, ids(page))
			c := paint.CursorOf(page[len(page)-1])
			after = &c
		}
		if got := strings.Join(pages, ","); got != want {
			t.Errorf("limit %d: got pages %v, want %s", limit, pages, want)
		}
	}
}

// testListNoActions: Page.NoActions lists the same paints, in the same
// order and pages, with their revisions and times and no actions.
func testListNoActions(t *testing.T, s paint.Store) {
	base := ms(time.Now())
	for i := range 5 {
		at := base.Add(time.Duration(i/2) * time.Second) // pairs share a millisecond
		save(t, s, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: big(1000 + i), CreatedAt: at, UpdatedAt: at}, paint.Limits{})
	}
	if _, err := s.Append(context.Background(), "alice", "p1", 1, `["more"]`, base.Add(time.Hour), paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	save(t, s, paint.Paint{OpenID: "bob", ID: "b", Actions: "[1]", CreatedAt: base, UpdatedAt: base}, paint.Limits{})
	whole := list(t, s, "alice", paint.Page{})
	got := list(t, s, "alice", paint.Page{NoActions: true})
	if len(got) != len(whole) {
		t.Fatalf("got %d paints, want %d", len(got), len(whole))
	}
	for i, p := range got {
		want := whole[i]
		want.Actions = ""
		if !same(p, want) {
			t.Fatalf("paint %d: got %s rev %d %v %v with %d bytes of actions, want %s rev %d %v %v and none",
				i, p.ID, p.Rev, p.CreatedAt, p.UpdatedAt, len(p.Actions), want.ID, want.Rev, want.CreatedAt, want.UpdatedAt)
		}
	}
	if ids(got) != "p4,p3,p2,p1,p0" || got[3].Rev != 2 {
		t.Errorf("got %s with p1 at rev %d, want p4,p3,p2,p1,p0 and p1 at rev 2 (appended)", ids(got), got[3].Rev)
	}
	for _, limit := range []int{1, 2, 3} {
		var pages []string
		var after *paint.Cursor
		for range 10 {
			page := list(t, s, "alice", paint.Page{Limit: limit, After: after, NoActions: true})
			if len(page) > limit {
				t.Fatalf("limit %d: got a page of %d", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, p := range page {
				if p.Actions != "" {
					t.Fatalf("limit %d: %s has actions %.20q…", limit, p.ID, p.Actions)
				}
			}
			pages = append(pages, ids(page))
			c := paint.CursorOf(page[len(page)-1])
			after = &c
		}
		if got, want := strings.Join(pages, ","), ids(whole); got != want {
			t.Errorf("limit %d: got pages %v, want %s", limit, pages, want)
		}
	}
	if got := ids(list(t, s, "bob", paint.Page{NoActions: true})); got != "b" {
		t.Errorf("bob: got %s, want b", got)
	}
}

func testListStops(t *testing.T, s paint.Store) {
	now := ms(time.Now())
	for i := range 3 {
		save(t, s, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	}
	stop := errors.New("stop")
	calls := 0
	err := s.List(context.Background(), "alice", paint.Page{}, func(paint.Paint) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("got %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func testScopedPerUser(t *testing.T, s paint.Store) {
	ctx := context.Background()
	now := ms(time.Now())
	save(t, s, paint.Paint{OpenID: "alice", ID: "same", Actions: `["a"]`, CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	if got := list(t, s, "bob", paint.Page{}); len(got) != 0 {
		t.Errorf("bob lists %d paints, want 0", len(got))
	}
	if _, err := s.Get(ctx, "bob", "same"); !errors.Is(err, paint.ErrNotFound) {
		t.Errorf("bob get: got %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "bob", "same"); !errors.Is(err, paint.ErrNotFound) {
		t.Errorf("bob delete: got %v, want ErrNotFound", err)
	}
	if _, err := s.Append(ctx, "bob", "same", 1, `["x"]`, now, paint.Limits{}); !isConflict(err, 0) {
		t.Errorf("bob append on alice's rev: got %v, want a conflict at rev 0", err)
	}
	created, err := s.Save(ctx, paint.Paint{OpenID: "bob", ID: "same", Actions: `["b"]`, CreatedAt: now, UpdatedAt: now}, paint.Limits{Paints: 1})
	if err != nil || !created {
		t.Fatalf("bob save: got %v, %v, want true, nil", created, err)
	}
	if a := list(t, s, "alice", paint.Page{}); len(a) != 1 || a[0].Actions != `["a"]` || a[0].OpenID != "alice" {
		t.Errorf("alice's paint: got %+v, want untouched", a)
	}
	if b := list(t, s, "bob", paint.Page{}); len(b) != 1 || b[0].Actions != `["b"]` || b[0].OpenID != "bob" {
		t.Errorf("bob's paint: got %+v, want his own", b)
	}
}

func testDelete(t *testing.T, s paint.Store) {
	ctx := context.Background()
	now := ms(time.Now())
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[]", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	if err := s.Delete(ctx, "alice", "p1"); err != nil {
		t.Fatalf("got %v, want nil", err)
	}
	if got := list(t, s, "alice", paint.Page{}); len(got) != 0 {
		t.Errorf("got %d paints after delete, want 0", len(got))
	}
	if err := s.Delete(ctx, "alice", "p1"); !errors.Is(err, paint.ErrNotFound) {
		t.Errorf("second delete: got %v, want ErrNotFound", err)
	}
}

func testGet(t *testing.T, s paint.Store) {
	ctx := context.Background()
	now := ms(time.Now())
	if _, err := s.Get(ctx, "alice", "p1"); !errors.Is(err, paint.ErrNotFound) {
		t.Errorf("get before save: got %v, want ErrNotFound", err)
	}
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: `["x"]`, CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	got, err := s.Get(ctx, "alice", "p1")
	want := paint.Paint{OpenID: "alice", ID: "p1", Actions: `["x"]`, Rev: 1, CreatedAt: now, UpdatedAt: now}
	if err != nil || !same(got, want) {
		t.Errorf("got %+v, %v, want %+v", got, err, want)
	}
}

func testErrLimit(t *testing.T, s paint.Store) {
	ctx := context.Background()
	now := ms(time.Now())
	lim := paint.Limits{Paints: 3}
	for i := range 3 {
		save(t, s, paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, lim)
	}
	if _, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p3", Actions: "[]", CreatedAt: now, UpdatedAt: now}, lim); !errors.Is(err, paint.ErrLimit) {
		t.Fatalf("create at max: got %v, want ErrLimit", err)
	}
	if _, err := s.Append(ctx, "alice", "p3", 0, "[]", now, lim); !errors.Is(err, paint.ErrLimit) {
		t.Fatalf("append-create at max: got %v, want ErrLimit", err)
	}
	if created, err := s.Save(ctx, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[9]", CreatedAt: now, UpdatedAt: now}, lim); err != nil || created {
		t.Errorf("replace at max: got %v, %v, want false, nil", created, err)
	}
	// Another user is not counted against alice.
	if _, err := s.Save(ctx, paint.Paint{OpenID: "bob", ID: "p3", Actions: "[]", CreatedAt: now, UpdatedAt: now}, lim); err != nil {
		t.Errorf("bob: got %v, want nil", err)
	}
	if got := len(list(t, s, "alice", paint.Page{})); got != 3 {
		t.Errorf("got %d paints, want 3", got)
	}
}

func testErrQuota(t *testing.T, s paint.Store) {
	ctx := context.Background()
	now := ms(time.Now())
	lim := paint.Limits{UserBytes: 100}
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: big(60), CreatedAt: now, UpdatedAt: now}, lim)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"CreatePastQuota", saveErr(s, paint.Paint{OpenID: "alice", ID: "p2", Actions: big(41), CreatedAt: now, UpdatedAt: now}, lim), paint.ErrQuota},
		{"CreateToQuota", saveErr(s, paint.Paint{OpenID: "alice", ID: "p2", Actions: big(40), CreatedAt: now, UpdatedAt: now}, lim), nil},
		{"ReplaceGrowingPastQuota", saveErr(s, paint.Paint{OpenID: "alice", ID: "p1", Actions: big(61), CreatedAt: now, UpdatedAt: now}, lim), paint.ErrQuota},
		{"AppendPastQuota", appendErr(s, "alice", "p2", 1, "[1]", lim), paint.ErrQuota},
		{"ReplaceShrinking", saveErr(s, paint.Paint{OpenID: "alice", ID: "p1", Actions: big(50), CreatedAt: now, UpdatedAt: now}, lim), nil},
		{"AppendWithinQuota", appendErr(s, "alice", "p2", 1, "[1]", lim), nil},
		{"OtherUserUncounted", saveErr(s, paint.Paint{OpenID: "bob", ID: "p1", Actions: big(100), CreatedAt: now, UpdatedAt: now}, lim), nil},
	}
	// The writes above ran in order (Go evaluates the calls of a composite
	// literal left to right); each saw the ones before it.
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) || (tt.want == nil) != (tt.err == nil) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if p, err := s.Get(ctx, "alice", "p2"); err != nil || len(p.Actions) != 42 {
		t.Errorf("after the quota cases: got %d bytes, %v, want 42", len(p.Actions), err)
	}
}

func testActionsRoundTrip(t *testing.T, s paint.Store) {
	now := ms(time.Now())
	cases := map[string]string{
		"unicode":   `[{"method":"setStrokeStyle","data":["一笔到底 🎨 \u0000 é"]}, 1.50, "\\\""]`,
		"spacing":   " [ 1 ,\n\t2 ] ",
		"oneMiB":    big(paint.DefaultMaxActionsBytes),
		"realistic": Actions(100, 20, 1),
	}
	for id, a := range cases {
		save(t, s, paint.Paint{OpenID: "alice", ID: id, Actions: a, CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	}
	got := list(t, s, "alice", paint.Page{})
	if len(got) != len(cases) {
		t.Fatalf("got %d paints, want %d", len(got), len(cases))
	}
	for _, p := range got {
		if p.Actions != cases[p.ID] {
			t.Errorf("%s: actions changed (got %d bytes, want %d)", p.ID, len(p.Actions), len(cases[p.ID]))
		}
	}
}

func testSaveMovesRev(t *testing.T, s paint.Store) {
	now := ms(time.Now())
	for i := range 3 {
		save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: fmt.Sprintf("[%d]", i), CreatedAt: now, UpdatedAt: now}, paint.Limits{})
		if p := get(t, s, "alice", "p1"); p.Rev != int64(i+1) {
			t.Errorf("after save %d: got rev %d, want %d", i+1, p.Rev, i+1)
		}
	}
}

// testAppendConcatenates: 200 appends, then the paint (by Get and by
// List) is the concatenation of them, in order, at revision 200.
func testAppendConcatenates(t *testing.T, s paint.Store) {
	ctx := context.Background()
	var rev int64
	var parts []string
	for i := range 200 {
		a := fmt.Sprintf(`[{"method":"lineTo","data":[%d,%d]}]`, i, i+1)
		if i%50 == 7 {
			a = " [ ] " // an empty append still moves rev
		} else {
			parts = append(parts, a[1:len(a)-1])
		}
		next, err := s.Append(ctx, "alice", "p1", rev, a, time.Now(), paint.Limits{})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if next != rev+1 {
			t.Fatalf("append %d: got rev %d, want %d", i, next, rev+1)
		}
		rev = next
	}
	want := "[" + strings.Join(parts, ",") + "]"
	got := list(t, s, "alice", paint.Page{})
	if len(got) != 1 || got[0].Actions != want || got[0].Rev != 200 {
		t.Fatalf("list: got %+v, want one paint at rev 200 with %d bytes of actions", got, len(want))
	}
	if p := get(t, s, "alice", "p1"); p.Actions != want || p.Rev != 200 {
		t.Errorf("get: got rev %d, %d bytes, want rev 200, %d bytes", p.Rev, len(p.Actions), len(want))
	}
}

func testAppendConflict(t *testing.T, s paint.Store) {
	ctx := context.Background()
	now := time.Now()
	if _, err := s.Append(ctx, "alice", "p1", 0, "[1]", now, paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "alice", "p1", 1, "[2]", now, paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
		rev  int64
		want int64 // the current rev the conflict carries
	}{
		{"StaleRev", "p1", 1, 2},
		{"RevZeroExists", "p1", 0, 2},
		{"RevAhead", "p1", 3, 2},
		{"NoSuchPaint", "p2", 5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, "alice", tt.id, tt.rev, "[9]", now, paint.Limits{})
			if !isConflict(err, tt.want) {
				t.Errorf("got %v, want a conflict at rev %d", err, tt.want)
			}
		})
	}
	if p := get(t, s, "alice", "p1"); p.Actions != "[1,2]" || p.Rev != 2 {
		t.Errorf("after the conflicts: got %q at rev %d, want [1,2] at rev 2", p.Actions, p.Rev)
	}
}

func testAppendTooLarge(t *testing.T, s paint.Store) {
	ctx := context.Background()
	lim := paint.Limits{ActionsBytes: 20}
	if _, err := s.Append(ctx, "alice", "p1", 0, big(18), time.Now(), lim); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "alice", "p1", 1, `["ab"]`, time.Now(), lim); !errors.Is(err, paint.ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
	if p := get(t, s, "alice", "p1"); p.Rev != 1 || len(p.Actions) != 18 {
		t.Errorf("got rev %d, %d bytes, want rev 1, 18 bytes", p.Rev, len(p.Actions))
	}
}

func testSaveThenAppend(t *testing.T, s paint.Store) {
	now := ms(time.Now())
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1,2]", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	rev, err := s.Append(context.Background(), "alice", "p1", 1, "[3]", now.Add(time.Second), paint.Limits{})
	if err != nil || rev != 2 {
		t.Fatalf("got %d, %v, want 2, nil", rev, err)
	}
	want := paint.Paint{OpenID: "alice", ID: "p1", Actions: "[1,2,3]", Rev: 2, CreatedAt: now, UpdatedAt: now.Add(time.Second)}
	if got := get(t, s, "alice", "p1"); !same(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// testAppendToSpacedEmpty: a v1 save keeps the client's text as sent,
// whitespace included; an append to " []" must still store a JSON array
// (it once stored " [,2]").
func testAppendToSpacedEmpty(t *testing.T, s paint.Store) {
	now := ms(time.Now())
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: "\n [ ] ", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	if _, err := s.Append(context.Background(), "alice", "p1", 1, "[2]", now, paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), "alice", "p1", 2, "[3]", now, paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "alice", "p1").Actions; got != "[2,3]" {
		t.Errorf("got actions %q, want [2,3]", got)
	}
}

func testConcurrentDistinctIDs(t *testing.T, s paint.Store) {
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			now := ms(time.Now())
			_, err := s.Save(context.Background(), paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, paint.Limits{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("save: %v", err)
		}
	}
	if got := len(list(t, s, "alice", paint.Page{})); got != n {
		t.Errorf("got %d paints, want %d", got, n)
	}
}

func (su *suite) testConcurrentNearLimit(t *testing.T, s paint.Store) {
	const n, max = 24, 5
	var wg sync.WaitGroup
	var ok, limited atomic.Int32
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			now := ms(time.Now())
			_, err := s.Save(context.Background(), paint.Paint{OpenID: "alice", ID: fmt.Sprint("p", i), Actions: "[]", CreatedAt: now, UpdatedAt: now}, paint.Limits{Paints: max})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, paint.ErrLimit):
				limited.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("save: %v", err)
	}
	got := len(list(t, s, "alice", paint.Page{}))
	if got != int(ok.Load()) {
		t.Errorf("got %d paints, want %d (the saves that succeeded)", got, ok.Load())
	}
	if su.mayRefuse {
		if got > max || got < 1 {
			t.Errorf("got %d paints (%d limited), want 1 to %d", got, limited.Load(), max)
		}
	} else if got != max {
		t.Errorf("got %d paints (%d limited), want %d", got, limited.Load(), max)
	}
}

// testAppendRace: writers on two stores (two instances) on one database
// append to the same revision at once, several rounds: in each, exactly
// one wins and the others see a conflict carrying the winner's revision.
func (su *suite) testAppendRace(t *testing.T) {
	open := su.newDB(t)
	stores := []paint.Store{su.open(t, open), su.open(t, open)}
	ctx := context.Background()
	if _, err := stores[0].Append(ctx, "alice", "p1", 0, "[0]", time.Now(), paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	want := []string{"0"}
	for round := int64(1); round <= 10; round++ {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				_, errs[w] = stores[w%2].Append(ctx, "alice", "p1", round, fmt.Sprintf("[%d]", round*10+int64(w)), time.Now(), paint.Limits{})
			})
		}
		wg.Wait()
		won := 0
		for w, err := range errs {
			switch {
			case err == nil:
				won++
				want = append(want, fmt.Sprint(round*10+int64(w)))
			case !isConflict(err, round+1):
				t.Errorf("round %d writer %d: got %v, want nil or a conflict at rev %d", round, w, err, round+1)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d writers won, want exactly 1", round, won)
		}
	}
	for i, s := range stores {
		if p := get(t, s, "alice", "p1"); p.Actions != "["+strings.Join(want, ",")+"]" || p.Rev != 11 {
			t.Errorf("store %d: got %q at rev %d, want the winners' actions at rev 11", i, p.Actions, p.Rev)
		}
	}
}

func (su *suite) testDurable(t *testing.T) {
	reopen := su.newDB(t)
	s := reopen()
	now := ms(time.Now())
	save(t, s, paint.Paint{OpenID: "alice", ID: "p1", Actions: `["kept"]`, CreatedAt: now, UpdatedAt: now}, paint.Limits{})
	if _, err := s.Append(context.Background(), "alice", "p1", 1, `["too"]`, now, paint.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s = su.open(t, reopen)
	if p := get(t, s, "alice", "p1"); p.Actions != `["kept","too"]` || p.Rev != 2 {
		t.Errorf("after reopen: got %+v, want the saved and appended paint at rev 2", p)
	}
}

// ms truncates to milliseconds, the precision both stores keep.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

func same(a, b paint.Paint) bool {
	return a.OpenID == b.OpenID && a.ID == b.ID && a.Actions == b.Actions && a.Rev == b.Rev &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func isConflict(err error, rev int64) bool {
	var c *paint.ConflictError
	return errors.As(err, &c) && c.Rev == rev
}

func saveErr(s paint.Store, p paint.Paint, lim paint.Limits) error {
	_, err := s.Save(context.Background(), p, lim)
	return err
}

func appendErr(s paint.Store, openID, id string, rev int64, actions string, lim paint.Limits) error {
	_, err := s.Append(context.Background(), openID, id, rev, actions, time.Now(), lim)
	return err
}

func save(t *testing.T, s paint.Store, p paint.Paint, lim paint.Limits) {
	t.Helper()
	if err := saveErr(s, p, lim); err != nil {
		t.Fatalf("save %s/%s: %v", p.OpenID, p.ID, err)
	}
}

func get(t *testing.T, s paint.Store, openID, id string) paint.Paint {
	t.Helper()
	p, err := s.Get(context.Background(), openID, id)
	if err != nil {
		t.Fatalf("get %s/%s: %v", openID, id, err)
	}
	return p
}

func list(t *testing.T, s paint.Store, openID string, page paint.Page) []paint.Paint {
	t.Helper()
	var got []paint.Paint
	if err := s.List(context.Background(), openID, page, func(p paint.Paint) error { got = append(got, p); return nil }); err != nil {
		t.Fatalf("list %s: %v", openID, err)
	}
	return got
}

func ids(ps []paint.Paint) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.ID)
	}
	return b.String()
}

// big returns a JSON array of exactly n bytes (n >= 4).
func big(n int) string {
	return "[" + `"` + strings.Repeat("画", (n-4)/3) + strings.Repeat("x", (n-4)%3) + `"` + "]"
}
