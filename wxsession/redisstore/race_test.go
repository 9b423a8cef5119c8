//go:build race

package redisstore_test

// raceEnabled: the race detector slows every goroutine several times, so
// timing bounds measured against wall time are loosened under it.
const raceEnabled = true
