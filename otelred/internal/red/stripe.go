package red

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// maxStripes caps the stripes of one counter. Past 16, the cost that
// striping saves is already small next to the SDK's own histogram record
// (which serializes on its attribute set), while memory grows with every
// series: at most 16 × 64 bytes, 1 KiB, per series or gauge, so 1 MiB for
// a thousand attribute sets.
const maxStripes = 16

// cacheLine is the size that keeps two stripes from sharing a cache line
// on the machines Go runs on most (amd64, and arm64 but for Apple's).
const cacheLine = 64

// numStripes is how many stripes a counter built now gets: the smallest
// power of two at or above twice GOMAXPROCS, up to maxStripes. Each
// request picks a stripe at random; with two stripes per P, requests
// running at the same moment on different Ps rarely write to the same
// cache line, where one stripe per P would have them collide often (two
// Ps on two stripes pick the same one half the time). A power of two turns
// the pick into a mask.
func numStripes() int { return stripesFor(runtime.GOMAXPROCS(0)) }

// stripesFor is numStripes for procs Ps.
func stripesFor(procs int) int {
	n := 1
	for n < 2*procs && n < maxStripes {
		n <<= 1
	}
	return n
}

// Stripe picks the stripe a call counts in, from its start to its end. Any
// value does; it is reduced to a counter's stripes where it is used. It is
// random, from the runtime's per-thread generator: cheap, lock-free and
// free of allocation.
func Stripe() uint32 { return rand.Uint32() }

// counts is one stripe of a Series or Gauge, alone on its cache line.
type counts struct {
	n    atomic.Int64 // requests, or requests in flight
	errs atomic.Int64
	_    [cacheLine - 16]byte
}

// stripes is a counter split into stripes that different CPUs write
// without sharing a cache line, summed when it is read.
type stripes []counts

func newStripes() stripes { return make(stripes, numStripes()) }

// The padding keeps each stripe on its own cache line.
var _ [0]struct{} = [unsafe.Sizeof(counts{}) - cacheLine]struct{}{}

// at is the stripe of i.
func (s stripes) at(i uint32) *counts { return &s[i&uint32(len(s)-1)] }

// sum adds up the stripes. It reads errors before requests in each
// stripe, the reverse of the order they are counted in, so a sum read
// while requests are counted never has more errors than requests.
func (s stripes) sum() (n, errs int64) {
	for i := range s {
		errs += s[i].errs.Load()
		n += s[i].n.Load()
	}
	return n, errs
}
