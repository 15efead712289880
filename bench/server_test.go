package bench

import (
	"net/http"
	"sync"
	"testing"
)

// BenchmarkServer is the cost of one successful request through each
// implementation. "Added" cost is an implementation's ns/op minus bare's
// from the same run.
func BenchmarkServer(b *testing.B) { benchServer(b, http.StatusOK) }

// BenchmarkServerError is BenchmarkServer on the error path: the handler
// writes 500.
func BenchmarkServerError(b *testing.B) { benchServer(b, http.StatusInternalServerError) }

func benchServer(b *testing.B, status int) {
	mux := newMux(status)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			h := im.wrap(b, mux, status)
			req := newRequest()
			warm(h, req)
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(h, req)
			}
		})
	}
}

// BenchmarkServerParallel is BenchmarkServer from every P at once. Run it
// with -cpu 1,2: an implementation with no shared lock or contended memory
// on the request path costs no more per op with two CPUs than with one.
func BenchmarkServerParallel(b *testing.B) {
	mux := newMux(http.StatusOK)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			h := im.wrap(b, mux, http.StatusOK)
			warm(h, newRequest())
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req := newRequest()
				for pb.Next() {
					serveOnce(h, req)
				}
			})
		})
	}
}

// BenchmarkServerContention is BenchmarkServer from 8 goroutines at once,
// all on the same route, whatever GOMAXPROCS is: more requests in flight
// than CPUs, each writing what the implementation shares between them.
// ns/op is the wall time over all requests.
func BenchmarkServerContention(b *testing.B) {
	const goroutines = 8
	mux := newMux(http.StatusOK)
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			h := im.wrap(b, mux, http.StatusOK)
			warm(h, newRequest())
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for g := range goroutines {
				n := b.N / goroutines
				if g < b.N%goroutines {
					n++
				}
				wg.Go(func() {
					req := newRequest()
					for range n {
						serveOnce(h, req)
					}
				})
			}
			wg.Wait()
		})
	}
}
