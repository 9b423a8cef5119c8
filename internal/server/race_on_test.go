//go:build race

package server

// raceEnabled: the race detector makes rendering about five times slower,
// so the render bound is checked at a smaller width under it.
const raceEnabled = true
