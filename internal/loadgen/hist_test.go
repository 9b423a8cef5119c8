package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the reference: the sample at rank ceil(q*n).
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestHistogramQuantileAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 0-10ms", func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Millisecond))) }},
		{"exponential mean 2ms", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond)) }},
		{"lognormal wide", func() time.Duration { return time.Duration(math.Exp(rng.NormFloat64()*2+12)) + time.Microsecond }},
		{"bimodal 1ms and 2s", func() time.Duration {
			if rng.IntN(100) < 97 {
				return time.Millisecond + time.Duration(rng.Int64N(int64(time.Millisecond)))
			}
			return 2*time.Second + time.Duration(rng.Int64N(int64(time.Second)))
		}},
		{"tiny exact values", func() time.Duration { return time.Duration(rng.IntN(100)) }},
	}
	for _, d := range dists {
		t.Run(d.name+" within 1%", func(t *testing.T) {
			var h Histogram
			samples := make([]time.Duration, 20000)
			for i := range samples {
				samples[i] = d.gen()
				h.Record(samples[i])
			}
			slices.Sort(samples)
			for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), exactQuantile(samples, q)
				if err := math.Abs(float64(got-want)) / float64(max(want, 1)); err > 0.01 {
					t.Errorf("q%v: got %v, want %v (relative error %.4f)", q, got, want, err)
				}
			}
			if got, want := h.Max(), samples[len(samples)-1]; got != want {
				t.Errorf("max: got %v, want %v", got, want)
			}
			if got, want := h.Min(), samples[0]; got != want {
				t.Errorf("min: got %v, want %v", got, want)
			}
			if got, want := h.Count(), uint64(len(samples)); got != want {
				t.Errorf("count: got %v, want %v", got, want)
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h Histogram
	if got := h.Quantile(0.5); got != 0 {
		t.Errorf("got %v, want 0", got)
	}
	if got := h.Mean(); got != 0 {
		t.Errorf("mean: got %v, want 0", got)
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if got, want := a.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("q%v: got %v, want %v", q, got, want)
		}
	}
	if got, want := a.Mean(), all.Mean(); got != want {
		t.Errorf("mean: got %v, want %v", got, want)
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	values := []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, math.MaxInt64}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of [0,%d)", v, i, nBuckets)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("value %d: got bucket [%d,%d], want it inside", v, lo, hi)
		}
		if v >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Errorf("value %d: bucket [%d,%d] wider than 1/%d", v, lo, hi, subCount)
		}
	}
	// Adjacent buckets must tile the line without gaps or overlaps.
	for i := 1; i < nBuckets; i++ {
		_, prevHi := bucketRange(i - 1)
		lo, _ := bucketRange(i)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, prevHi+1)
		}
	}
}
