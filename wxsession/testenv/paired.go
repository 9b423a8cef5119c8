package testenv

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"
	"time"
)

// PairNames names what Paired reports: the two mean latencies (µs) and the
// throughput ratio (subject over base); the latency ratio is "ratio".
// BaseLabel and SubjectLabel, when set, label each side's goroutines in a
// CPU profile (`go tool pprof -tags`: side=<BaseLabel>, side=<SubjectLabel>).
type PairNames struct {
	Base, Subject, RPS string
	BaseLabel          string // empty = no label
	SubjectLabel       string // empty = no label
}

// Paired runs b.N calls of base and b.N calls of subject, conc at a time,
// alternating between the two in blocks of 25 calls per goroutine, so that
// the load of a shared machine hits both alike. It reports the mean
// latency of each side, their ratio and the throughput ratio. Two warm-up
// calls per goroutine of each side open connections and fill caches off
// the clock.
func Paired(b *testing.B, conc int, base, subject func() error, names PairNames) {
	b.Helper()
	for range 2 * conc {
		if err := base(); err != nil {
			b.Fatal(err)
		}
		if err := subject(); err != nil {
			b.Fatal(err)
		}
	}
	const perBlock = 25 // calls per goroutine per block
	labels := [2]string{names.BaseLabel, names.SubjectLabel}
	var lat, wall [2]time.Duration
	var n [2]int
	b.ResetTimer()
	for done := 0; done < b.N; {
		k := min(perBlock*conc, b.N-done)
		for side, f := range []func() error{base, subject} {
			l, w, err := block(k, conc, f, labels[side])
			if err != nil {
				b.Fatal(err)
			}
			lat[side] += l
			wall[side] += w
			n[side] += k
		}
		done += k
	}
	b.StopTimer()
	us := func(side int) float64 { return lat[side].Seconds() * 1e6 / float64(n[side]) }
	b.ReportMetric(us(0), names.Base)
	b.ReportMetric(us(1), names.Subject)
	b.ReportMetric(us(1)/us(0), "ratio")
	b.ReportMetric(float64(wall[0])/float64(wall[1]), names.RPS)
}

// block makes k calls of f, conc at a time, and returns the sum of their
// latencies and the wall time of the block.
func block(k, conc int, f func() error, label string) (lat, wall time.Duration, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for g := range conc {
		calls := k / conc
		if g < k%conc {
			calls++
		}
		wg.Go(func() {
			if label != "" {
				pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", label)))
			}
			var sum time.Duration
			var ferr error
			for range calls {
				t0 := time.Now()
				if e := f(); e != nil && ferr == nil {
					ferr = e
				}
				sum += time.Since(t0)
			}
			mu.Lock()
			lat += sum
			if err == nil {
				err = ferr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat, time.Since(start), err
}
