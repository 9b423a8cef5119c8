//go:build race

package render

// raceEnabled: the race detector slows rendering about fifteenfold.
const raceEnabled = true
