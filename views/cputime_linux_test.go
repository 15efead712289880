package views_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling goroutine's thread has used,
// and true. The caller must have locked the goroutine to its thread. On a
// busy machine it is a steadier measure of cost than the wall clock, which
// also counts the time other processes hold the CPU.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
