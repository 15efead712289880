package routertest_test

import (
	"net/http"
	"testing"

	"github.com/julienschmidt/httprouter"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
)

// handle is the recipe: it registers h on router for method and path,
// and hands path, the route's template, to otelred, which wraps the
// router.
func handle(router *httprouter.Router, method, path string, h httprouter.Handle) {
	router.Handle(method, path, func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) {
		otelred.SetRoute(w, path)
		h(w, r, ps)
	})
}

// newHTTPRouter is an httprouter with the recipe, routes for each case the
// tests send, and, when own is set, its own 404 and 405 handlers.
func newHTTPRouter(own bool) *httprouter.Router {
	router := httprouter.New() // HandleMethodNotAllowed is on by default
	handle(router, "GET", "/users/:id", func(http.ResponseWriter, *http.Request, httprouter.Params) {})
	handle(router, "POST", "/orders/:id/pay", func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
		w.WriteHeader(http.StatusAccepted)
	})
	handle(router, "GET", "/files/*path", func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	handle(router, "GET", "/boom", func(http.ResponseWriter, *http.Request, httprouter.Params) { panic("boom") })
	handle(router, "GET", "/healthz", func(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) {
		w.WriteHeader(http.StatusNoContent)
	})
	if own {
		router.NotFound = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no such page", http.StatusNotFound)
		})
		router.MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "not here", http.StatusMethodNotAllowed)
		})
	}
	return router
}

// TestHTTPRouterRecipeRecordsTemplatesAndUnmatched serves an httprouter
// behind otelred, for each profile, with httprouter's own 404 and 405
// answers and with the router's NotFound and MethodNotAllowed set, and
// checks every series exactly.
func TestHTTPRouterRecipeRecordsTemplatesAndUnmatched(t *testing.T) {
	requests := []struct {
		method, path string
		status       int // the status the client gets
	}{
		{"GET", "/users/1", 200},
		{"GET", "/users/2", 200},
		{"POST", "/orders/7/pay", 202},
		{"GET", "/files/a/b/c.txt", 503},
		{"GET", "/nowhere/at/all", 404},
		{"DELETE", "/users/3", 405},
		{"GET", "/boom", 0}, // the panic reaches net/http, which drops the connection
		{"GET", "/healthz", 204},
	}
	for _, profile := range []struct {
		p    otelred.Profile
		opts []otelred.Option
		want map[string]uint64
	}{
		{otelred.Semconv, nil, map[string]uint64{
			redtest.Semconv("GET", "/users/:id", 200, ""):              2,
			redtest.Semconv("POST", "/orders/:id/pay", 202, ""):        1,
			redtest.Semconv("GET", "/files/*path", 503, "503"):         1,
			redtest.Semconv("GET", redtest.NoRoute, 404, ""):           1,
			redtest.Semconv("DELETE", redtest.NoRoute, 405, ""):        1,
			redtest.Semconv("GET", "/boom", redtest.NoStatus, "panic"): 1,
		}},
		{otelred.Classic, []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}, map[string]uint64{
			redtest.Classic("GET", "/users/:id", 200):         2,
			redtest.Classic("POST", "/orders/:id/pay", 202):   1,
			redtest.Classic("GET", "/files/*path", 503):       1,
			redtest.Classic("GET", otelred.Unmatched, 404):    1,
			redtest.Classic("DELETE", otelred.Unmatched, 405): 1,
			redtest.Classic("GET", "/boom", 500):              1,
		}},
	} {
		for _, own := range []bool{false, true} {
			name := profile.p.String() + ", httprouter's 404 and 405"
			if own {
				name = profile.p.String() + ", the router's NotFound and MethodNotAllowed"
			}
			t.Run(name, func(t *testing.T) {
				mp, reader := redtest.Provider(t)
				red, err := otelred.New(append([]otelred.Option{
					otelred.WithMeterProvider(mp),
					otelred.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
				}, profile.opts...)...)
				if err != nil {
					t.Fatal(err)
				}
				s := redtest.Serve(t, red(newHTTPRouter(own)))
				for _, rq := range requests {
					if got := s.Do(rq.method, rq.path); got != rq.status {
						t.Errorf("%s %s: client got %d, want %d", rq.method, rq.path, got, rq.status)
					}
				}
				redtest.WantCounts(t, redtest.Counts(t, reader, profile.p), profile.want)
			})
		}
	}
}
