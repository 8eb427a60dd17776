//go:build race

package wgnet_test

const raceEnabled = true
