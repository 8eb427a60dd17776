//go:build race

package sim_test

// raceEnabled says the race detector is on: the figures of the path
// tests that measure, not check, are left to runs without it.
const raceEnabled = true
