package loadgen

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxKinds bounds the distinct error kinds kept; later ones are counted
// under "other". Another implementation of the contract may put anything
// in a reason.
const maxKinds = 50

// stats collects what a run measures. Safe for concurrent use.
type stats struct {
	// requests and errors are read by the progress line without the lock.
	requests atomic.Int64
	errors   atomic.Int64

	mu       sync.Mutex
	hists    map[string]*Histogram
	opErrors map[string]int64
	kinds    map[string]*ErrorKind
	relogins map[string]int64
	// throttled counts 429 and 503 answers backed off from, by kind
	// (status and reason, as for errors; at most maxKinds).
	throttled map[string]int64
}

func newStats() *stats {
	return &stats{
		hists:     map[string]*Histogram{},
		opErrors:  map[string]int64{},
		kinds:     map[string]*ErrorKind{},
		relogins:  map[string]int64{},
		throttled: map[string]int64{},
	}
}

// record adds one request's latency under op. Server requests (not the
// simulator's, not the login subset) count toward the progress line.
func (s *stats) record(op string, d time.Duration) {
	if op != OpSim && op != OpLogin {
		s.requests.Add(1)
	}
	s.mu.Lock()
	h := s.hists[op]
	if h == nil {
		h = &Histogram{}
		s.hists[op] = h
	}
	h.Record(d)
	s.mu.Unlock()
}

// fail counts a failed operation.
func (s *stats) fail(op, kind, example string) {
	s.errors.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opErrors[op]++
	k := s.kinds[kind]
	if k == nil {
		if len(s.kinds) >= maxKinds {
			kind = "other"
			k = s.kinds[kind]
		}
		if k == nil {
			k = &ErrorKind{Kind: kind, Example: example}
			s.kinds[kind] = k
		}
	}
	k.Count++
}

func (s *stats) relogin(reason string) {
	s.mu.Lock()
	s.relogins[reason]++
	s.mu.Unlock()
}

// throttle counts an answer that asked for less load (429, 503).
func (s *stats) throttle(kind string) {
	s.mu.Lock()
	if _, ok := s.throttled[kind]; !ok && len(s.throttled) >= maxKinds {
		kind = "other"
	}
	s.throttled[kind]++
	s.mu.Unlock()
}
