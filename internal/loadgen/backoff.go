package loadgen

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// Back-off of a request the server answered 429 or 503: the server asks
// for less load, so a user waits before resending instead of asking again
// at once (which made a storm of 429s against a login rate limit).
const (
	// maxBackoffs bounds the waits of one operation; after that the
	// answer counts as a failure. With the delays below that is about
	// half a minute of asking.
	maxBackoffs = 10
	// backoffBase is the first wait; each next one doubles, up to
	// backoffCap.
	backoffBase = 100 * time.Millisecond
	backoffCap  = 5 * time.Second
	// maxRetryAfter bounds a Retry-After the server sends, so a server
	// asking for an hour cannot stall the run past its end.
	maxRetryAfter = 30 * time.Second
)

// throttled reports whether status asks the client to slow down.
func throttled(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// backoffDelay is the wait before resend n (0 first) of an answer with
// the given Retry-After header. It is "equal jitter": half of the
// exponential step for sure, the other half random, so users refused
// together come back spread out; and never less than Retry-After, which
// the server knows best. randN(k) returns a random number in [0, k).
func backoffDelay(n int, retryAfter string, randN func(int64) int64) time.Duration {
	step := backoffCap
	if n < 16 {
		step = min(backoffCap, backoffBase<<n)
	}
	d := step/2 + time.Duration(randN(int64(step/2)+1))
	if ra, ok := parseRetryAfter(retryAfter, time.Now()); ok && ra > d {
		// Spread those who got the same Retry-After over one more step.
		d = ra + time.Duration(randN(int64(step/2)+1))
	}
	return d
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date
// (RFC 9110 section 10.2.3), bounded by maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(0, t.Sub(now))
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// backOff waits before resend n. It returns false, without waiting the
// whole delay, when the run ends first (or ctx does): the request is then
// given up as throttled rather than kept going past the run.
func (r *runner) backOff(ctx context.Context, n int, retryAfter string, randN func(int64) int64) bool {
	t := time.NewTimer(backoffDelay(n, retryAfter, randN))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-r.runDone():
	}
	return false
}

// runDone is closed when the run's duration is over, nil (never) during
// verification, which bounds its waits with maxBackoffs alone.
func (r *runner) runDone() <-chan struct{} {
	if r.running == nil {
		return nil
	}
	return r.running.Done()
}
