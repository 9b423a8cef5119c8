package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxLostDetails bounds Report.Verify.LostDetails.
const maxLostDetails = 20

// Report is the outcome of a run. Latencies are in milliseconds.
type Report struct {
	Target      string  `json:"target"`
	SimURL      string  `json:"sim_url"`
	Users       int     `json:"users"`
	Concurrency int     `json:"concurrency"`
	Mix         string  `json:"mix"`
	ElapsedSec  float64 `json:"elapsed_seconds"`
	// Requests is the number of requests sent to the server during the
	// run (re-sent ones included, verification not); RPS is per second.
	Requests int64   `json:"requests"`
	RPS      float64 `json:"rps"`
	// Ops has one row per operation: list, save, delete, then login (the
	// requests that carried a login, a subset of the others) and sim (the
	// simulator's wx.login plus wx.getUserInfo).
	Ops []OpReport `json:"ops"`
	// ErrorKinds groups the failed operations, most frequent first.
	ErrorKinds []ErrorKind `json:"error_kinds"`
	// Relogins counts requests re-sent after a fresh login, by the
	// session reason that caused it.
	Relogins map[string]int64 `json:"relogins"`
	// Throttled counts answers 429 (rate limited) and 503 (overloaded or
	// a store down), by kind (status and reason, as ErrorKinds), that the users backed off from and
	// re-sent (they are in Requests too). They are not errors: an
	// operation fails only when it is still refused after maxBackoffs
	// waits.
	Throttled map[string]int64 `json:"throttled"`
	Verify    VerifyReport     `json:"verify"`
	// Lost is Verify.Lost; Errors counts failed operations plus failed
	// verification lists. Both must be 0 for a passing run.
	Lost   int   `json:"lost"`
	Errors int64 `json:"errors"`
	// Interrupted is true when the run was cut short by its context; it
	// was then not verified.
	Interrupted bool `json:"interrupted"`
}

// OpReport is the throughput and latency of one operation.
type OpReport struct {
	Op       string  `json:"op"`
	Requests uint64  `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	MeanMs   float64 `json:"mean_ms"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// ErrorKind counts failures of one kind: an HTTP status with the
// envelope's reason, "timeout", "transport: …", "sim …".
type ErrorKind struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

// VerifyReport is the outcome of the final check.
type VerifyReport struct {
	// Users is how many users were listed; Checked how many paints had a
	// known state (last save or delete acknowledged); Uncertain how many
	// did not and were skipped.
	Users     int `json:"users"`
	Checked   int `json:"checked"`
	Uncertain int `json:"uncertain"`
	// Lost: acknowledged paints missing or with other actions than the
	// last acknowledged save.
	Lost int `json:"lost"`
	// Undeleted: paints still listed after a delete answered success.
	Undeleted int `json:"undeleted"`
	// Errors: users whose list failed, so their paints went unchecked.
	Errors      int      `json:"errors"`
	LostDetails []string `json:"lost_details,omitempty"`
}

// Err returns nil for a passing run, else an error wrapping ErrLost or
// ErrFailures.
func (rep *Report) Err() error {
	switch {
	case rep.Lost > 0 || rep.Verify.Undeleted > 0:
		return fmt.Errorf("%w: %d lost, %d undeleted", ErrLost, rep.Lost, rep.Verify.Undeleted)
	case rep.Errors > 0:
		return fmt.Errorf("%w: %d errors", ErrFailures, rep.Errors)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// report builds the run's part of the report.
func (r *runner) report(elapsed time.Duration) *Report {
	s := r.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := &Report{
		Target:      r.opts.URL + r.opts.BasePath,
		SimURL:      r.opts.SimURL,
		Users:       r.opts.Users,
		Concurrency: r.opts.Concurrency,
		Mix:         r.opts.Mix.String(),
		ElapsedSec:  elapsed.Seconds(),
		Requests:    s.requests.Load(),
		Relogins:    map[string]int64{},
		Throttled:   map[string]int64{},
	}
	rep.RPS = float64(rep.Requests) / elapsed.Seconds()
	for _, op := range []string{OpList, OpSave, OpDelete, OpLogin, OpSim} {
		h := s.hists[op]
		if h == nil {
			h = &Histogram{}
		}
		rep.Ops = append(rep.Ops, OpReport{
			Op: op, Requests: h.Count(), Errors: s.opErrors[op],
			RPS:    float64(h.Count()) / elapsed.Seconds(),
			MeanMs: ms(h.Mean()), P50Ms: ms(h.Quantile(0.5)), P90Ms: ms(h.Quantile(0.9)),
			P99Ms: ms(h.Quantile(0.99)), MaxMs: ms(h.Max()),
		})
	}
	for _, k := range s.kinds {
		rep.ErrorKinds = append(rep.ErrorKinds, *k)
	}
	sortKinds(rep.ErrorKinds)
	for k, v := range s.relogins {
		rep.Relogins[k] = v
	}
	rep.Errors = s.errors.Load()
	maps.Copy(rep.Throttled, s.throttled)
	return rep
}

func sortKinds(ks []ErrorKind) {
	slices.SortFunc(ks, func(a, b ErrorKind) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Kind, b.Kind)
	})
}

// verifyConcurrency bounds the lists of the verification: it checks what
// the server kept, it is not more load.
const verifyConcurrency = 8

// verifyAttempts is how often verification asks for one user's list before
// it counts a failed list: a server that was overloaded by the run may
// still answer 503 for a moment.
const verifyAttempts = 3

// verify lists every user that has a paint of known state and compares.
func (r *runner) verify(ctx context.Context, rep *Report) {
	var mu sync.Mutex
	v := &rep.Verify
	queue := make(chan *user)
	var wg sync.WaitGroup
	for range min(r.opts.Concurrency, verifyConcurrency) {
		wg.Go(func() {
			for u := range queue {
				res := r.verifyUser(ctx, u)
				mu.Lock()
				if res.listed {
					v.Users++
				}
				v.Checked += res.checked
				v.Uncertain += res.uncertain
				v.Lost += res.lost
				v.Undeleted += res.undeleted
				v.Errors += res.errors
				for _, d := range res.details {
					if len(v.LostDetails) < maxLostDetails {
						v.LostDetails = append(v.LostDetails, d)
					}
				}
				mu.Unlock()
			}
		})
	}
	for _, u := range r.users {
		if len(u.paints) > 0 {
			queue <- u
		}
	}
	close(queue)
	wg.Wait()
	rep.Lost = v.Lost
	// Failed verification lists are counted with the run's failures.
	r.stats.mu.Lock()
	rep.ErrorKinds = rep.ErrorKinds[:0]
	for _, k := range r.stats.kinds {
		rep.ErrorKinds = append(rep.ErrorKinds, *k)
	}
	r.stats.mu.Unlock()
	sortKinds(rep.ErrorKinds)
	rep.Errors = r.stats.errors.Load()
	// Verification may have backed off too.
	r.stats.mu.Lock()
	maps.Copy(rep.Throttled, r.stats.throttled)
	r.stats.mu.Unlock()
}

type verifyResult struct {
	listed                                      bool
	checked, uncertain, lost, undeleted, errors int
	details                                     []string
}

func (r *runner) verifyUser(ctx context.Context, u *user) verifyResult {
	var res verifyResult
	for _, id := range u.order {
		if !u.paints[id].certain {
			res.uncertain++
		}
	}
	if res.uncertain == len(u.order) {
		return res
	}
	var out outcome
	for attempt := 1; ; attempt++ {
		out = r.do(ctx, u, "verify", http.MethodGet, "/list", nil)
		if out.ok || out.canceled || attempt == verifyAttempts {
			break
		}
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-ctx.Done():
		}
	}
	if !out.ok {
		if !out.canceled {
			r.stats.fail("verify", "verify: "+out.kind, out.example)
			res.errors++
		}
		return res
	}
	var items []struct {
		ID      string `json:"id"`
		Actions string `json:"actions"`
	}
	if err := json.Unmarshal(out.data, &items); err != nil {
		r.stats.fail("verify", "verify: list data is not an array of {id, actions}", snippet(out.data))
		res.errors++
		return res
	}
	res.listed = true
	listed := make(map[string]string, len(items))
	for _, it := range items {
		listed[it.ID] = it.Actions
	}
	for _, id := range u.order {
		t := u.paints[id]
		if !t.certain {
			continue
		}
		res.checked++
		got, ok := listed[id]
		switch {
		case t.present && !ok:
			res.lost++
			res.details = append(res.details, fmt.Sprintf("%s paint %s: missing", u.name, id))
		case t.present && got != t.actions:
			res.lost++
			res.details = append(res.details, fmt.Sprintf("%s paint %s: listed with %d bytes of actions, last acknowledged save had %d",
				u.name, id, len(got), len(t.actions)))
		case !t.present && ok:
			res.undeleted++
			res.details = append(res.details, fmt.Sprintf("%s paint %s: still listed after its delete succeeded", u.name, id))
		}
	}
	return res
}

// WriteText writes the report for people. Its last two lines are exactly
// "lost: N" and "errors: N".
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target: %s (simulator %s)\n", rep.Target, rep.SimURL)
	fmt.Fprintf(&b, "users: %d, concurrency: %d, mix: %s\n", rep.Users, rep.Concurrency, rep.Mix)
	fmt.Fprintf(&b, "elapsed: %.1fs, requests: %d, throughput: %.1f/s\n", rep.ElapsedSec, rep.Requests, rep.RPS)
	fmt.Fprintf(&b, "\n%-8s %9s %7s %9s %9s %9s %9s %9s %9s\n", "op", "requests", "errors", "rps", "mean", "p50", "p90", "p99", "max")
	for _, o := range rep.Ops {
		fmt.Fprintf(&b, "%-8s %9d %7d %9.1f %7.2fms %7.2fms %7.2fms %7.2fms %7.2fms\n",
			o.Op, o.Requests, o.Errors, o.RPS, o.MeanMs, o.P50Ms, o.P90Ms, o.P99Ms, o.MaxMs)
	}
	if len(rep.ErrorKinds) > 0 {
		b.WriteString("\nerrors by kind:\n")
		for _, k := range rep.ErrorKinds {
			fmt.Fprintf(&b, "  %6d  %s  (e.g. %s)\n", k.Count, k.Kind, k.Example)
		}
	}
	writeCounts(&b, "re-logins", rep.Relogins)
	if len(rep.Throttled) > 0 {
		b.WriteString("\nthrottled (backed off and re-sent, not errors):\n")
		for _, k := range slices.Sorted(maps.Keys(rep.Throttled)) {
			fmt.Fprintf(&b, "  %6d  %s\n", rep.Throttled[k], k)
		}
	}
	v := rep.Verify
	if rep.Interrupted {
		b.WriteString("\nverify: skipped, the run was interrupted\n")
	} else {
		fmt.Fprintf(&b, "\nverify: %d users listed, %d paints checked, %d uncertain skipped, %d undeleted, %d failed lists\n",
			v.Users, v.Checked, v.Uncertain, v.Undeleted, v.Errors)
		for _, d := range v.LostDetails {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	fmt.Fprintf(&b, "lost: %d\nerrors: %d\n", rep.Lost, rep.Errors)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCounts writes "\ntitle: k1=n1 k2=n2\n" in key order, or nothing
// for an empty m.
func writeCounts(b *strings.Builder, title string, m map[string]int64) {
	if len(m) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:", title)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(b, " %s=%d", k, m[k])
	}
	b.WriteString("\n")
}
