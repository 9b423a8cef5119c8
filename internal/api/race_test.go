//go:build race

package api

// raceEnabled: the race detector multiplies a process's memory, so
// TestListMemory reports its peak without holding it to the bound.
const raceEnabled = true
