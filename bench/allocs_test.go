//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

package bench

import (
	"net/http"
	"testing"
)

// TestAllocsAdded fails when otelred adds an allocation per request in
// steady state, on the success or the error path, compared with bare in
// the same process and on the same ServeMux as BenchmarkServer.
func TestAllocsAdded(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		mux := newMux(status)
		perRequest := func(im impl) float64 {
			h := im.wrap(t, mux, status)
			req := newRequest()
			warm(h, req)
			return testing.AllocsPerRun(1000, func() { serveOnce(h, req) })
		}
		base := perRequest(impls[0])
		for _, tc := range []struct {
			impl string
			want float64
		}{
			{otelredSemconv, 0},
			// Classic labels its in-flight gauge by route, so around a
			// ServeMux it asks the mux for the route before serving, and
			// net/http allocates the wildcard matches of that lookup. The
			// middleware inside the route adds nothing (otelred's own guard,
			// otelred/allocs_test.go, pins both).
			{otelredClassic, 1},
			{classicRoute, 0},
		} {
			t.Run(http.StatusText(status)+"/"+tc.impl, func(t *testing.T) {
				for _, im := range impls {
					if im.name != tc.impl {
						continue
					}
					if got := perRequest(im) - base; got != tc.want {
						t.Errorf("%s adds %v allocations per request to bare's %v, want %v", tc.impl, got, base, tc.want)
					}
				}
			})
		}
	}
}
