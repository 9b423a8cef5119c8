package wxsession

import (
	"context"
	"errors"
	"sync"
)

// errFlightPanic is what waiters of a shared login get when its function
// panicked (the panic itself goes on in the leader's goroutine).
var errFlightPanic = errors.New("wxsession: shared login panicked")

// flightGroup runs one function per key at a time and hands its result to
// every caller that asked for the same key meanwhile: a minimal,
// standard-library-only singleflight.
type flightGroup[T any] struct {
	mu sync.Mutex
	m  map[string]*flight[T]
}

type flight[T any] struct {
	done chan struct{}
	res  T
	err  error
}

// do runs fn for key unless a call for key is already running, in which
// case it waits for that call's result, or for ctx to be done. The key is
// forgotten as soon as fn returns, so a later call runs fn again.
func (g *flightGroup[T]) do(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	g.mu.Lock()
	if f, ok := g.m[key]; ok {
		g.mu.Unlock()
		select {
		case <-f.done:
			return f.res, f.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	if g.m == nil {
		g.m = make(map[string]*flight[T])
	}
	f := &flight[T]{done: make(chan struct{})}
	g.m[key] = f
	g.mu.Unlock()

	finished := false
	defer func() {
		if !finished {
			f.err = errFlightPanic
		}
		g.mu.Lock()
		delete(g.m, key)
		g.mu.Unlock()
		close(f.done)
	}()
	f.res, f.err = fn()
	finished = true
	return f.res, f.err
}
