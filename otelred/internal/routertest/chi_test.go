package routertest_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
)

// chiRoute is the recipe: chi keeps the matched route in a route context
// that its router puts in the request's context before the middlewares of
// r.Use run, and that every request derived from it shares. otelred reads
// it after the handler returns, whatever the middlewares between replaced.
func chiRoute(r *http.Request) string { return chi.RouteContext(r.Context()).RoutePattern() }

// newChi is a chi router with otelred first in r.Use, then chi's
// RequestID, which serves the rest with a new request, and Recoverer,
// which turns a panic into a 500: the ordering of the trap.
func newChi(red func(http.Handler) http.Handler) *chi.Mux {
	r := chi.NewRouter()
	r.Use(red, middleware.RequestID, middleware.Recoverer)
	r.Get("/users/{id}", func(http.ResponseWriter, *http.Request) {})
	r.Post("/orders/{id}/pay", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
	r.Route("/api", func(api chi.Router) {
		api.Get("/items/{name}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	})
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	return r
}

// TestChiRouteContextSurvivesRequestID serves real chi v5 with
// r.Use(red, middleware.RequestID, middleware.Recoverer), in each
// profile: without the recipe, RequestID's new request hides chi's match,
// every route is recorded with no route, and otelred reports it once;
// with it, otelred reads chi's shared route context and records every
// template, subrouter included, and reports nothing. Recoverer, inside
// otelred, turns the panic into the 500 the client gets.
func TestChiRouteContextSurvivesRequestID(t *testing.T) {
	requests := []struct {
		method, path string
		status, n    int
	}{
		{"GET", "/users/1", 200, 100}, // enough successes for the report
		{"POST", "/orders/7/pay", 202, 1},
		{"GET", "/api/items/pen", 503, 1},
		{"GET", "/boom", 500, 1},
		{"GET", "/nowhere", 404, 1},
		{"DELETE", "/users/3", 405, 1},
	}
	const noRoute = "otelred: successful requests are recorded with no route: 100 requests were answered 2xx with no route, and none has matched one: " +
		"a middleware between otelred and the router replaced the request (r.WithContext), so the router's match never reached otelred; " +
		"put otelred inside that middleware (first in chi's r.Use), or hand the route over with WithRoute or SetRoute. " +
		"A handler with no router names its route with WithRoute (see docs/middleware.md#requests-with-no-route)"
	classic := []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		opts    []otelred.Option
		want    map[string]uint64
		reports []string
	}{
		{"semconv, without the recipe", otelred.Semconv, nil, map[string]uint64{
			redtest.Semconv("GET", redtest.NoRoute, 200, ""):    100,
			redtest.Semconv("POST", redtest.NoRoute, 202, ""):   1,
			redtest.Semconv("GET", redtest.NoRoute, 503, "503"): 1,
			redtest.Semconv("GET", redtest.NoRoute, 500, "500"): 1,
			redtest.Semconv("GET", redtest.NoRoute, 404, ""):    1,
			redtest.Semconv("DELETE", redtest.NoRoute, 405, ""): 1,
		}, []string{noRoute}},
		{"semconv, with the recipe", otelred.Semconv, []otelred.Option{otelred.WithRoute(chiRoute)}, map[string]uint64{
			redtest.Semconv("GET", "/users/{id}", 200, ""):          100,
			redtest.Semconv("POST", "/orders/{id}/pay", 202, ""):    1,
			redtest.Semconv("GET", "/api/items/{name}", 503, "503"): 1,
			redtest.Semconv("GET", "/boom", 500, "500"):             1,
			redtest.Semconv("GET", redtest.NoRoute, 404, ""):        1,
			redtest.Semconv("DELETE", redtest.NoRoute, 405, ""):     1,
		}, nil},
		{"classic, without the recipe", otelred.Classic, classic, map[string]uint64{
			redtest.Classic("GET", otelred.Unmatched, 200):    100,
			redtest.Classic("POST", otelred.Unmatched, 202):   1,
			redtest.Classic("GET", otelred.Unmatched, 503):    1,
			redtest.Classic("GET", otelred.Unmatched, 500):    1,
			redtest.Classic("GET", otelred.Unmatched, 404):    1,
			redtest.Classic("DELETE", otelred.Unmatched, 405): 1,
		}, []string{noRoute}},
		{"classic, with the recipe", otelred.Classic, append([]otelred.Option{otelred.WithRoute(chiRoute)}, classic...), map[string]uint64{
			redtest.Classic("GET", "/users/{id}", 200):        100,
			redtest.Classic("POST", "/orders/{id}/pay", 202):  1,
			redtest.Classic("GET", "/api/items/{name}", 503):  1,
			redtest.Classic("GET", "/boom", 500):              1,
			redtest.Classic("GET", otelred.Unmatched, 404):    1,
			redtest.Classic("DELETE", otelred.Unmatched, 405): 1,
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := testsupport.CaptureReports(t)
			mp, reader := redtest.Provider(t)
			red, err := otelred.New(append([]otelred.Option{otelred.WithMeterProvider(mp)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			s := redtest.Serve(t, newChi(red))
			for _, rq := range requests {
				for range rq.n {
					if status := s.Do(rq.method, rq.path); status != rq.status {
						t.Fatalf("%s %s: client got %d, want %d", rq.method, rq.path, status, rq.status)
					}
				}
			}
			redtest.WantCounts(t, redtest.Counts(t, reader, tc.profile), tc.want)
			got.Want(t, otelred.ErrNoRoute, tc.reports...)
		})
	}
}
