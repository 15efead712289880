//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it; CI runs this file in a pass of its
// own without -race.

package otelred_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// TestAllocsAdded guards the promise that the middleware adds no
// allocation per request in steady state, on a real SDK provider.
func TestAllocsAdded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		status  int
		inside  bool // the middleware wraps the route's handler, not the mux
		want    float64
	}{
		{"semconv success", otelred.Semconv, 200, false, 0},
		{"semconv error", otelred.Semconv, 500, false, 0},
		{"classic success inside the route", otelred.Classic, 200, true, 0},
		{"classic error inside the route", otelred.Classic, 500, true, 0},
		// Classic labels its in-flight gauge by path, so around a ServeMux
		// it asks the mux for the route before serving; net/http allocates
		// the wildcard matches of that lookup.
		{"classic around a ServeMux with a wildcard route", otelred.Classic, 200, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer mp.Shutdown(context.Background())
			mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(tc.profile))
			if err != nil {
				t.Fatal(err)
			}
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tc.status) })
			bareMux, mux := http.NewServeMux(), http.NewServeMux()
			bareMux.Handle("GET /users/{id}", h)
			var wrapped http.Handler
			if tc.inside {
				mux.Handle("GET /users/{id}", mw(h))
				wrapped = mux
			} else {
				mux.Handle("GET /users/{id}", h)
				wrapped = mw(mux)
			}
			req := httptest.NewRequest("GET", "/users/42", nil)
			// serve resets what the mux leaves on the request, so each run
			// sees a request as fresh as one from the server.
			serve := func(h http.Handler) func() {
				return func() {
					req.Pattern = ""
					h.ServeHTTP(httptest.NewRecorder(), req)
				}
			}
			for range 10 { // fill the caches
				serve(wrapped)()
			}
			bare := testing.AllocsPerRun(500, serve(bareMux))
			got := testing.AllocsPerRun(500, serve(wrapped))
			if got-bare != tc.want {
				t.Errorf("allocations per request: %v with the middleware, %v without: added %v, want %v", got, bare, got-bare, tc.want)
			}
		})
	}
}
