package red

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkInFlight is one call's increment and decrement of an in-flight
// count from every P at once (run it with -cpu 1,2): in one shared atomic,
// as the count was before it was striped, and in a Gauge, with a stripe
// picked per call by Stripe (as Server.Start and Operations.Start do) or
// held per goroutine (as a pooled writer holds one).
func BenchmarkInFlight(b *testing.B) {
	b.Run("shared", func(b *testing.B) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				n.Add(1)
				n.Add(-1)
			}
		})
	})
	b.Run("stripe per call", func(b *testing.B) {
		g := NewGauge(true)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s := Stripe()
				g.Inc(s)
				g.Dec(s)
			}
		})
	})
	b.Run("stripe per goroutine", func(b *testing.B) {
		g := NewGauge(true)
		var made atomic.Uint32
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			s := made.Add(1)
			for pb.Next() {
				g.Inc(s)
				g.Dec(s)
			}
		})
	})
}

// TestGaugeReadWhileCountingIsNeverNegative counts calls in flight from
// many goroutines, each call in a stripe of its own choosing, while the
// gauge is read without pause: a call decrements the stripe it
// incremented, so no read is negative, and the gauge ends at 0.
func TestGaugeReadWhileCountingIsNeverNegative(t *testing.T) {
	const goroutines, each = 8, 20000
	g := NewGauge(false)
	stop := make(chan struct{})
	var reads sync.WaitGroup
	reads.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := g.Value(); n < 0 || n > goroutines {
				t.Errorf("gauge read %d while %d goroutines count in it", n, goroutines)
				return
			}
		}
	})
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				s := Stripe()
				g.Inc(s)
				g.Dec(s)
			}
		})
	}
	wg.Wait()
	close(stop)
	reads.Wait()
	if n := g.Value(); n != 0 {
		t.Errorf("gauge after every call ended = %d, want 0", n)
	}
	if !g.Used() {
		t.Error("gauge not used after counting")
	}
}

// TestSeriesCountsAreExact counts requests and errors from many goroutines
// in random stripes, and reads them while they are counted: errors never
// exceed requests (and, in a series where every request fails, always
// equal them, so error ratios taken from two collections are exact), and
// the totals are exact.
func TestSeriesCountsAreExact(t *testing.T) {
	const goroutines, each = 8, 20000
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing=%v", failing), func(t *testing.T) {
			fails := func(w, i int) bool { return failing || (w+i)%3 == 0 }
			s := NewSeries(failing)
			stop := make(chan struct{})
			var reads sync.WaitGroup
			reads.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if n, errs := s.Counts(); errs > n || (failing && errs != n) {
						t.Errorf("read %d errors of %d requests", errs, n)
						return
					}
				}
			})
			var wg sync.WaitGroup
			for w := range goroutines {
				wg.Go(func() {
					for i := range each {
						s.Count(Stripe(), fails(w, i))
					}
				})
			}
			wg.Wait()
			close(stop)
			reads.Wait()
			n, errs := s.Counts()
			var wantErrs int64
			for w := range goroutines {
				for i := range each {
					if fails(w, i) {
						wantErrs++
					}
				}
			}
			if n != goroutines*each || errs != wantErrs {
				t.Errorf("counts = %d requests, %d errors; want %d, %d", n, errs, goroutines*each, wantErrs)
			}
		})
	}
}

// TestStripesFitGOMAXPROCS checks the stripe count: a power of two, at
// least twice GOMAXPROCS up to the cap, and each stripe on a cache line
// of its own.
func TestStripesFitGOMAXPROCS(t *testing.T) {
	for _, tc := range []struct {
		procs, want int
	}{{1, 2}, {2, 4}, {3, 8}, {4, 8}, {8, 16}, {64, 16}} {
		if got := stripesFor(tc.procs); got != tc.want {
			t.Errorf("stripesFor(%d) = %d, want %d", tc.procs, got, tc.want)
		}
	}
	if n := len(newStripes()); n&(n-1) != 0 {
		t.Errorf("%d stripes: not a power of two", n)
	}
}

// TestGaugeDecrementsTheStripeItIncremented checks, stripe by stripe, what
// keeps every read of a gauge non-negative: Dec undoes Inc of the same
// stripe value in the same stripe, whatever the value.
func TestGaugeDecrementsTheStripeItIncremented(t *testing.T) {
	g := NewGauge(false)
	for _, s := range []uint32{0, 1, 2, 3, 15, 16, 17, 1<<31 + 5, 1<<32 - 1} {
		g.Inc(s)
		if c := g.n.at(s).n.Load(); c != 1 || g.Value() != 1 {
			t.Errorf("after Inc(%d): its stripe = %d, gauge = %d; want 1, 1", s, c, g.Value())
		}
		g.Dec(s)
		for i := range g.n {
			if c := g.n[i].n.Load(); c != 0 {
				t.Errorf("after Inc(%d) and Dec(%d): stripe %d = %d, want 0", s, s, i, c)
			}
		}
	}
}
