//go:build !race

// The race detector makes sync.Pool (otelred's writers) drop items at
// random, so allocation counts are only meaningful without it; CI runs
// this file in a pass of its own without -race.

package routertest_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/mux"
	"github.com/julienschmidt/httprouter"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
)

// allocs is the allocations per request h serves on the same request.
func allocs(h http.Handler, method, path string) float64 {
	req, _ := http.NewRequest(method, path, nil)
	w := redtest.NewDiscard()
	return testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, req) })
}

// profiles are the options of each profile the guards run.
var profiles = []struct {
	name string
	opts []otelred.Option
}{
	{"Semconv", nil},
	{"Classic", []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}},
}

func newRED(t *testing.T, opts []otelred.Option) func(http.Handler) http.Handler {
	t.Helper()
	mp, _ := redtest.Provider(t)
	red, err := otelred.New(append([]otelred.Option{otelred.WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return red
}

// TestGorillaRecipeAllocs guards the gorilla recipe: otelred around the
// router and the recipe's middleware allocate no more per request than
// the router with a middleware that only calls the next handler. gorilla
// applies its middleware to each matched request anew, so every
// middleware's handler closure costs gorilla one allocation per request;
// recording and SetRoute add none.
func TestGorillaRecipeAllocs(t *testing.T) {
	for _, tc := range profiles {
		t.Run(tc.name, func(t *testing.T) {
			router := func(mw mux.MiddlewareFunc) *mux.Router {
				r := mux.NewRouter()
				if mw != nil {
					r.Use(mw)
				}
				r.HandleFunc("/users/{id}", func(http.ResponseWriter, *http.Request) {}).Methods("GET")
				return r
			}
			alone := allocs(router(nil), "GET", "/users/42")
			passing := allocs(router(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
			}), "GET", "/users/42")
			with := allocs(newRED(t, tc.opts)(router(gorillaRoute)), "GET", "/users/42")
			t.Logf("allocations per request: gorilla alone %v, with a middleware that passes on %v, with otelred and the recipe %v", alone, passing, with)
			if with != passing {
				t.Errorf("allocations per request: gorilla with a middleware that passes on %v, with otelred and the recipe %v; want the same", passing, with)
			}
		})
	}
}

// TestHTTPRouterRecipeAllocs guards the httprouter recipe: otelred around
// the router and handles registered through the recipe allocate no more
// per request than the router alone with plain handles.
func TestHTTPRouterRecipeAllocs(t *testing.T) {
	for _, tc := range profiles {
		t.Run(tc.name, func(t *testing.T) {
			h := func(http.ResponseWriter, *http.Request, httprouter.Params) {}
			plain := httprouter.New()
			plain.GET("/users/:id", h)
			recipe := httprouter.New()
			handle(recipe, "GET", "/users/:id", h)
			alone := allocs(plain, "GET", "/users/42")
			with := allocs(newRED(t, tc.opts)(recipe), "GET", "/users/42")
			t.Logf("allocations per request: httprouter alone %v, with otelred and the recipe %v", alone, with)
			if with != alone {
				t.Errorf("allocations per request: httprouter alone %v, with otelred and the recipe %v; want the same", alone, with)
			}
		})
	}
}

// TestChiRecipeAllocs guards the chi recipe: otelred first in r.Use, with
// RequestID after it, allocates no more per request than chi with a
// middleware that only calls the next handler in otelred's place, for a
// route of the router itself. (For a subrouter's route, chi's own
// RoutePattern joins the patterns, which allocates in chi.)
func TestChiRecipeAllocs(t *testing.T) {
	// RequestID formats a sequence number, whose first 256 values box
	// without allocating: start past them, so both routers pay the same.
	for middleware.NextRequestID() < 256 {
	}
	for _, tc := range profiles {
		t.Run(tc.name, func(t *testing.T) {
			router := func(first func(http.Handler) http.Handler) *chi.Mux {
				r := chi.NewRouter()
				r.Use(first, middleware.RequestID)
				r.Get("/users/{id}", func(http.ResponseWriter, *http.Request) {})
				return r
			}
			passing := allocs(router(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { next.ServeHTTP(w, r) })
			}), "GET", "/users/42")
			with := allocs(router(newRED(t, append([]otelred.Option{otelred.WithRoute(chiRoute)}, tc.opts...))), "GET", "/users/42")
			t.Logf("allocations per request: chi and RequestID with a middleware that passes on %v, with otelred and the recipe %v", passing, with)
			if with != passing {
				t.Errorf("allocations per request: chi with a middleware that passes on %v, with otelred and the recipe %v; want the same", passing, with)
			}
		})
	}
}
