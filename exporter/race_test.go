//go:build race

package exporter_test

// raceEnabled reports whether the tests run with the race detector, whose
// bookkeeping makes heap figures meaningless: tests that check the live
// heap skip that check under it.
const raceEnabled = true
