//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it.

package bench

import (
	"context"
	"net/http"
	"testing"
)

// TestClientAllocsAdded fails when otelred's Transport adds an allocation
// per request in steady state, on the success or the error path, compared
// with the bare base in the same process, as BenchmarkClient runs them.
func TestClientAllocsAdded(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusServiceUnavailable} {
		perRequest := func(im clientImpl) float64 {
			rt := im.wrap(t, newBase(status), status)
			req := newClientRequest(t)
			for range 16 {
				roundTripOnce(t, rt, req)
			}
			return testing.AllocsPerRun(1000, func() { roundTripOnce(t, rt, req) })
		}
		base := perRequest(clientImpls[0])
		for _, im := range clientImpls {
			if im.name != otelredSemconv && im.name != otelredClassic {
				continue
			}
			t.Run(http.StatusText(status)+"/"+im.name, func(t *testing.T) {
				if got := perRequest(im) - base; got != 0 {
					t.Errorf("%s adds %v allocations per request to bare's %v, want 0", im.name, got, base)
				}
			})
		}
	}
}

// TestOperationAllocs fails when an operation, from Start to End, that
// succeeds or fails with a sentinel error allocates in steady state.
func TestOperationAllocs(t *testing.T) {
	ctx := context.Background()
	for _, err := range []error{nil, errOutOfStock} {
		for _, im := range opImpls {
			if im.name != otelredSemconv && im.name != otelredClassic {
				continue
			}
			name := im.name + "/success"
			if err != nil {
				name = im.name + "/failure"
			}
			t.Run(name, func(t *testing.T) {
				run := im.new(t, err)
				for range 16 {
					run(ctx)
				}
				if got := testing.AllocsPerRun(1000, func() { run(ctx) }); got != 0 {
					t.Errorf("%s: %v allocations per operation, want 0", name, got)
				}
			})
		}
	}
}
