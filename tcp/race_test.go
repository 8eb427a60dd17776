//go:build race

package tcp_test

// raceEnabled: the race detector changes allocation, so memory figures
// are not checked under it.
const raceEnabled = true
