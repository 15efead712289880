package red

import (
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
