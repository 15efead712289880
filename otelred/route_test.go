package otelred_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/otelred/otelred/otelred"
)

// TestRoutes checks the route recorded for each kind of ServeMux pattern,
// for unmatched requests, and that no raw path becomes a value.
func TestRoutes(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	ok := func(http.ResponseWriter, *http.Request) {}
	mux.HandleFunc("GET /users/{id}", ok)
	mux.HandleFunc("/static/", ok)
	mux.HandleFunc("example.com/hosted", ok)
	mux.HandleFunc("GET example.com/files/{path...}", ok)
	mux.HandleFunc("GET /{$}", ok)
	s := h.server(mux)

	for _, r := range []struct{ method, host, path string }{
		{"GET", "", "/users/42"},
		{"GET", "", "/users/43"},
		{"GET", "", "/static/app.js"},
		{"GET", "example.com", "/hosted"},
		{"GET", "example.com", "/files/a/b/c.txt"},
		{"GET", "", "/"},
		{"GET", "", "/no/such/page-123"},
		{"DELETE", "", "/users/42"},
	} {
		req, _ := http.NewRequest(r.method, s.URL+r.path, nil)
		if r.host != "" {
			req.Host = r.host
		}
		resp := h.send(s, req)
		if resp == nil {
			t.Fatal("no response")
		}
	}
	got := h.counts(duration)
	wantCounts(t, got, map[string]uint64{
		series("GET", "/users/{id}", 200, ""):      2,
		series("GET", "/static/", 200, ""):         1,
		series("GET", "/hosted", 200, ""):          1,
		series("GET", "/files/{path...}", 200, ""): 1,
		series("GET", "/{$}", 200, ""):             1,
		series("GET", noRoute, 404, ""):            1,
		series("DELETE", noRoute, 405, ""):         1,
	})
	for k := range got {
		for _, raw := range []string{"/users/42", "page-123", "a/b/c.txt", "example.com"} {
			if strings.Contains(k, raw) {
				t.Errorf("series %q carries raw request input %q", k, raw)
			}
		}
	}
}

// routeKey carries a route from a router that does not set r.Pattern.
type routeKey struct{}

// TestWithRouteNamesRoutesForOtherRouters uses a toy router that records
// its route in a holder the outer layer put in the context, as routers
// with their own route context do.
func TestWithRouteNamesRoutesForOtherRouters(t *testing.T) {
	h := newHarness(t, otelred.WithRoute(func(r *http.Request) string {
		if p, ok := r.Context().Value(routeKey{}).(*string); ok {
			return *p
		}
		return ""
	}))
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/orders/") {
			*r.Context().Value(routeKey{}).(*string) = "PUT /orders/:id"
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.NotFound(w, r)
	})
	withHolder := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, new(string))))
		})
	}
	s := h.serverAround(withHolder, router)
	h.do(s, "PUT", "/orders/7")
	h.do(s, "PUT", "/nope")
	wantCounts(t, h.counts(duration), map[string]uint64{
		series("PUT", "/orders/:id", 204, ""): 1,
		series("PUT", noRoute, 404, ""):       1,
	})
}

// TestInFlight holds requests inside handlers and reads the in-flight
// instrument while they wait and after they finish.
func TestInFlight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		mux     bool // wrap the ServeMux itself, so the route is known early
		during  map[string]int64
		after   map[string]int64
	}{
		{
			name:    "semconv counts in flight by method",
			profile: otelred.Semconv,
			mux:     true,
			during:  map[string]int64{"http.request.method=GET,url.scheme=http": 2},
			after:   map[string]int64{"http.request.method=GET,url.scheme=http": 0},
		},
		{
			name:    "classic resolves the route before serving when it wraps a ServeMux",
			profile: otelred.Classic,
			mux:     true,
			during:  map[string]int64{"method=GET,path=/hold/{id},service=svc": 2},
			after:   map[string]int64{"method=GET,path=/hold/{id},service=svc": 0},
		},
		{
			name:    "classic counts under unmatched when the route is not known before serving",
			profile: otelred.Classic,
			mux:     false,
			during:  map[string]int64{"method=GET,path=unmatched,service=svc": 2},
			after:   map[string]int64{"method=GET,path=unmatched,service=svc": 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(tc.profile), otelred.WithService("svc"))
			entered := make(chan struct{})
			release := make(chan struct{})
			mux := http.NewServeMux()
			mux.HandleFunc("GET /hold/{id}", func(http.ResponseWriter, *http.Request) {
				entered <- struct{}{}
				<-release
			})
			var next http.Handler = mux
			if !tc.mux {
				// Hide the ServeMux behind a plain handler.
				next = http.HandlerFunc(mux.ServeHTTP)
			}
			s := h.server(next)
			done := make(chan struct{})
			for _, p := range []string{"/hold/1", "/hold/2"} {
				h.served.Add(1)
				go func() {
					defer func() { done <- struct{}{} }()
					if resp, err := s.Client().Get(s.URL + p); err == nil {
						resp.Body.Close()
					}
				}()
			}
			<-entered
			<-entered
			active := tc.profile.Names().Active
			if got := h.sums(active); render(got) != render(tc.during) {
				t.Errorf("in flight while held = %s, want %s", render(got), render(tc.during))
			}
			close(release)
			<-done
			<-done
			h.served.Wait()
			if got := h.sums(active); render(got) != render(tc.after) {
				t.Errorf("in flight after = %s, want %s", render(got), render(tc.after))
			}
		})
	}
}
