//go:build !linux

package views_test

import "time"

// threadCPU is not available here: only Linux reports a thread's CPU time.
func threadCPU() (time.Duration, bool) { return 0, false }
