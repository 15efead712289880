//go:build !race

// The race detector makes sync.Pool (echo's contexts) drop items at
// random, so allocation counts are only meaningful without it; CI runs
// this file in a pass of its own without -race.

package otelredecho_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
	"github.com/otelred/otelred/otelred/otelredecho"
)

// TestMiddlewareAllocs guards the hot path: on the same route, echo with
// the middleware allocates no more per request than echo with a
// middleware that only calls the next handler. echo applies its middleware
// functions to each request anew, so every middleware's handler closure
// costs echo one allocation per request; recording adds none.
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
			allocs := func(mw ...echo.MiddlewareFunc) float64 {
				e := echo.New()
				e.Use(mw...)
				e.GET("/users/:id", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
				req, _ := http.NewRequest("GET", "/users/42", nil)
				w := redtest.NewDiscard()
				return testing.AllocsPerRun(1000, func() { e.ServeHTTP(w, req) })
			}
			alone := allocs()
			passing := allocs(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error { return next(c) }
			})
			with := allocs(otelredecho.Middleware(append([]otelred.Option{otelred.WithMeterProvider(mp)}, tc.opts...)...))
			t.Logf("allocations per request: echo alone %v, with a middleware that passes on %v, with otelredecho %v", alone, passing, with)
			if with != passing {
				t.Errorf("allocations per request: echo with a middleware that passes on %v, with otelredecho %v; want the same", passing, with)
			}
		})
	}
}
