package routertest_test

import (
	"net/http"
	"testing"

	"github.com/gorilla/mux"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
)

// gorillaRoute is the recipe's middleware: registered with router.Use, it
// runs once gorilla has matched a route, and hands the route's template to
// otelred, which wraps the router.
func gorillaRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t, err := mux.CurrentRoute(r).GetPathTemplate(); err == nil {
			otelred.SetRoute(w, t)
		}
		next.ServeHTTP(w, r)
	})
}

// newGorilla is a gorilla router with the recipe, routes for each case the
// tests send, and, when own is set, its own 404 and 405 handlers.
func newGorilla(own bool) *mux.Router {
	router := mux.NewRouter()
	router.Use(gorillaRoute)
	router.HandleFunc("/users/{id}", func(w http.ResponseWriter, _ *http.Request) {}).Methods("GET")
	router.HandleFunc("/orders/{id:[0-9]+}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}).Methods("POST")
	api := router.PathPrefix("/api").Subrouter()
	api.HandleFunc("/items/{name}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	router.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	router.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if own {
		router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "no such page", http.StatusNotFound)
		})
		router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "not here", http.StatusMethodNotAllowed)
		})
	}
	return router
}

// TestGorillaRecipeRecordsTemplatesAndUnmatched serves a gorilla router
// behind otelred, for each profile, with gorilla's own 404 and 405
// handlers and with the router's NotFoundHandler and
// MethodNotAllowedHandler set, and checks every series exactly.
func TestGorillaRecipeRecordsTemplatesAndUnmatched(t *testing.T) {
	requests := []struct {
		method, path string
		status       int // the status the client gets
	}{
		{"GET", "/users/1", 200},
		{"GET", "/users/2", 200},
		{"POST", "/orders/7", 202},
		{"POST", "/orders/seven", 404}, // the regexp does not match
		{"GET", "/api/items/pen", 503},
		{"GET", "/nowhere", 404},
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
			redtest.Semconv("GET", "/users/{id}", 200, ""):             2,
			redtest.Semconv("POST", "/orders/{id:[0-9]+}", 202, ""):    1,
			redtest.Semconv("POST", redtest.NoRoute, 404, ""):          1,
			redtest.Semconv("GET", "/api/items/{name}", 503, "503"):    1,
			redtest.Semconv("GET", redtest.NoRoute, 404, ""):           1,
			redtest.Semconv("DELETE", redtest.NoRoute, 405, ""):        1,
			redtest.Semconv("GET", "/boom", redtest.NoStatus, "panic"): 1,
		}},
		{otelred.Classic, []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}, map[string]uint64{
			redtest.Classic("GET", "/users/{id}", 200):          2,
			redtest.Classic("POST", "/orders/{id:[0-9]+}", 202): 1,
			redtest.Classic("POST", otelred.Unmatched, 404):     1,
			redtest.Classic("GET", "/api/items/{name}", 503):    1,
			redtest.Classic("GET", otelred.Unmatched, 404):      1,
			redtest.Classic("DELETE", otelred.Unmatched, 405):   1,
			redtest.Classic("GET", "/boom", 500):                1,
		}},
	} {
		for _, own := range []bool{false, true} {
			name := profile.p.String() + ", gorilla's 404 and 405"
			if own {
				name = profile.p.String() + ", the router's NotFoundHandler and MethodNotAllowedHandler"
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
				s := redtest.Serve(t, red(newGorilla(own)))
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
