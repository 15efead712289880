//go:build !race

// The race detector makes sync.Pool (gin's contexts) drop items at random,
// so allocation counts are only meaningful without it; CI runs this file
// in a pass of its own without -race.

package otelredgin_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
	"github.com/otelred/otelred/otelred/otelredgin"
)

// TestMiddlewareAllocs guards the hot path: on the same route, gin with
// the middleware allocates no more per request than gin alone.
func TestMiddlewareAllocs(t *testing.T) {
	mp, _ := redtest.Provider(t)
	for _, tc := range []struct {
		name string
		opts []otelred.Option
	}{
		{"Semconv", nil},
		{"Classic", []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := func(mw ...gin.HandlerFunc) float64 {
				r := gin.New()
				r.Use(mw...)
				r.GET("/users/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
				req, _ := http.NewRequest("GET", "/users/42", nil)
				w := redtest.NewDiscard()
				return testing.AllocsPerRun(1000, func() { r.ServeHTTP(w, req) })
			}
			alone := allocs()
			with := allocs(otelredgin.Middleware(append([]otelred.Option{otelred.WithMeterProvider(mp)}, tc.opts...)...))
			t.Logf("allocations per request: gin alone %v, with otelredgin %v", alone, with)
			if with != alone {
				t.Errorf("allocations per request: gin alone %v, with otelredgin %v; want the same", alone, with)
			}
		})
	}
}
