//go:build race

package main

// raceEnabled reports whether the tests run with the race detector, so
// that the binary they build for exec tests is built the same way (it then
// reuses the compiled packages of the test, and is checked for races too).
const raceEnabled = true
