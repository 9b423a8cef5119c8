package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: every power of two is split into
// 2^subBits buckets, so a bucket is at most 1/128 of its values wide and a
// quantile read from the bucket's middle is within 0.4% of a recorded value.
const (
	subBits  = 7
	subCount = 1 << subBits
	// nBuckets covers every non-negative int64: values below subCount get
	// one exact bucket each, then (63-subBits) octaves of subCount buckets.
	nBuckets = (64 - subBits) * subCount
)

// Histogram records non-negative durations in log-linear buckets (the
// HdrHistogram idea): memory is fixed (about 58 KB) whatever the number of
// samples, and quantiles have a relative error below 1%. Min, max, count
// and sum are exact. The zero value is ready to use; it is not safe for
// concurrent use.
type Histogram struct {
	counts   []uint64
	n        uint64
	sum      float64
	min, max int64
}

// bucketOf returns the bucket index of v >= 0.
func bucketOf(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1 // v in [2^e, 2^(e+1)), e >= subBits
	sub := int(v>>(e-subBits)) - subCount
	return (e-subBits+1)*subCount + sub
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	e := i/subCount + subBits - 1
	sub := int64(i % subCount)
	shift := e - subBits
	lo = (subCount + sub) << shift
	hi = lo + (int64(1) << shift) - 1
	return lo, hi
}

// Record adds one sample; negative durations count as 0.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample, 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min returns the smallest sample, 0 when empty.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean returns the mean of the samples, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the q-quantile (0 <= q <= 1) of the samples: the value
// at rank ceil(q*n) in sorted order, approximated by the middle of its
// bucket and clamped to [Min, Max]. It returns 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	if q == 1 {
		return time.Duration(h.max)
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := lo + (hi-lo)/2
			v = max(h.min, min(h.max, v))
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
