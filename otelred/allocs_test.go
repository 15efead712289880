//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts are only meaningful without it; CI runs this file in a pass of its
// own without -race.

package otelred_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/internal/testsupport"
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
			mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(tc.profile), otelred.WithService("shop"))
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

// TestAllocsAddedByTheTransport guards the client path: a round trip through
// the Transport allocates what its base does, and nothing more, for a
// response and for an error.
func TestAllocsAddedByTheTransport(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		base http.RoundTripper
	}{
		{"response", roundTripFunc(func(*http.Request) (*http.Response, error) { return okResponse, nil })},
		{"error response", roundTripFunc(func(*http.Request) (*http.Response, error) { return failedResponse, nil })},
		{"connection refused", roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, refused })},
	} {
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			t.Run(tc.name+"/"+p.String(), func(t *testing.T) {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				tr, err := otelred.NewTransport(tc.base, otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"))
				if err != nil {
					t.Fatal(err)
				}
				req := httptest.NewRequest("GET", "http://api.example/users/42", nil)
				for range 10 {
					tr.RoundTrip(req)
				}
				bare := testing.AllocsPerRun(500, func() { tc.base.RoundTrip(req) })
				got := testing.AllocsPerRun(500, func() { tr.RoundTrip(req) })
				if got != bare {
					t.Errorf("allocations per round trip: %v with the Transport, %v without", got, bare)
				}
			})
		}
	}
}

var (
	okResponse     = &http.Response{StatusCode: 200, Body: http.NoBody}
	failedResponse = &http.Response{StatusCode: 503, Body: http.NoBody}
)

// TestAllocsOfOperations guards Start and End: nothing once the name and
// the error type have been seen.
func TestAllocsOfOperations(t *testing.T) {
	errStock := errors.New("no stock")
	_, pathErr := os.Open("/no/such/file")
	for _, tc := range []struct {
		name string
		err  error
	}{{"success", nil}, {"anonymous error", errStock}, {"typed error", pathErr}, {"canceled", context.Canceled}} {
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			t.Run(tc.name+"/"+p.String(), func(t *testing.T) {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				ops, err := otelred.NewOperations(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"))
				if err != nil {
					t.Fatal(err)
				}
				ctx := context.Background()
				run := func() { ops.Start(ctx, "orders.process").End(tc.err) }
				for range 10 {
					run()
				}
				if got := testing.AllocsPerRun(500, run); got != 0 {
					t.Errorf("allocations per operation: %v, want 0", got)
				}
			})
		}
	}
}

// TestAllocsRouterAndAdapterPaths guards the paths of routers that hand
// the route over with SetRoute, and of framework adapters built on
// Server: no allocation per request in steady state, in both profiles.
func TestAllocsRouterAndAdapterPaths(t *testing.T) {
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		opts := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(profile), otelred.WithService("shop")}
		mw, err := otelred.New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := otelred.NewServer(opts...)
		if err != nil {
			t.Fatal(err)
		}
		routed := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			otelred.SetRoute(w, "/users/{id}")
			w.WriteHeader(http.StatusOK)
		}))
		req := httptest.NewRequest("GET", "/users/42", nil)
		rec := httptest.NewRecorder()
		for _, tc := range []struct {
			name string
			run  func()
		}{
			{"SetRoute", func() { routed.ServeHTTP(rec, req) }},
			{"Server", func() { srv.Start(req, "/users/:id").End("/users/:id", 200, false) }},
		} {
			for range 10 { // fill the caches
				tc.run()
			}
			if got := testing.AllocsPerRun(500, tc.run); got != 0 {
				t.Errorf("%v, %s: %v allocations per request, want 0", profile, tc.name, got)
			}
		}
	}
}

// TestAllocsWithBodySizes guards WithBodySizes: counting the request body
// and the response adds no allocation, on the server (the counter is
// pooled with the writer) and on the client.
func TestAllocsWithBodySizes(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			opts := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"), otelred.WithBodySizes()}
			mw, err := otelred.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 512)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, _ := r.Body.Read(buf)
				w.Write(buf[:n])
			})
			wrapped := mw(h)
			body := strings.NewReader(strings.Repeat("x", 300))
			req := httptest.NewRequest("POST", "/orders", nil)
			rc := io.NopCloser(body)
			rec := httptest.NewRecorder()
			serve := func(h http.Handler) func() {
				return func() {
					body.Seek(0, io.SeekStart)
					req.Body = rc
					rec.Body.Reset()
					h.ServeHTTP(rec, req)
				}
			}
			for range 10 {
				serve(wrapped)()
			}
			bare := testing.AllocsPerRun(500, serve(h))
			got := testing.AllocsPerRun(500, serve(wrapped))
			if got != bare {
				t.Errorf("server: %v allocations per request with the middleware, %v without", got, bare)
			}

			tr, err := otelred.NewTransport(roundTripFunc(func(*http.Request) (*http.Response, error) { return okResponse, nil }),
				otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"), otelred.WithBodySizes())
			if err != nil {
				t.Fatal(err)
			}
			creq := httptest.NewRequest("POST", "http://api.example/orders", strings.NewReader("abc"))
			for range 10 {
				tr.RoundTrip(creq)
			}
			if got := testing.AllocsPerRun(500, func() { tr.RoundTrip(creq) }); got != 0 {
				t.Errorf("client: %v allocations per round trip, want 0", got)
			}
		})
	}
}

// TestAllocsWithAttributes guards WithAttribute: declared and unused, it
// adds no allocation; set by the handler, or in the client request's
// context, it adds none once the combination of values has been seen,
// multi-byte values and values too long to keep (_OTHER) included, and
// neither does a host too long to keep.
func TestAllocsWithAttributes(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		for _, set := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/set=%v", p, set), func(t *testing.T) {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				opts := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"),
					otelred.WithAttribute("tenant"), otelred.WithAttribute("plan", "gold", "free")}
				mw, err := otelred.New(opts...)
				if err != nil {
					t.Fatal(err)
				}
				tenants := []string{"acme", "globex", "initech", "café-東京", strings.Repeat("x", otelred.MaxValueLength+1)}
				i := 0
				h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					if set {
						i++
						otelred.SetAttribute(w, "tenant", tenants[i%len(tenants)])
						otelred.SetAttribute(w, "plan", "platinum") // _OTHER
					}
				})
				wrapped := mw(h)
				req := httptest.NewRequest("GET", "/orders", nil)
				serve := func(h http.Handler) func() {
					return func() { h.ServeHTTP(httptest.NewRecorder(), req) }
				}
				for range 10 {
					serve(wrapped)()
				}
				bare := testing.AllocsPerRun(500, serve(h))
				if got := testing.AllocsPerRun(500, serve(wrapped)); got != bare {
					t.Errorf("server: %v allocations per request with the middleware, %v without", got, bare)
				}

				tr, err := otelred.NewTransport(roundTripFunc(func(*http.Request) (*http.Response, error) { return okResponse, nil }), opts[1:]...)
				if err != nil {
					t.Fatal(err)
				}
				var reqs []*http.Request
				for _, tenant := range tenants {
					ctx := context.Background()
					if set {
						ctx = otelred.ContextWithAttribute(otelred.ContextWithAttribute(ctx, "plan", "gold"), "tenant", tenant)
					}
					reqs = append(reqs, httptest.NewRequestWithContext(ctx, "GET", "http://api.example/orders", nil))
				}
				reqs = append(reqs, httptest.NewRequest("GET", "http://"+strings.Repeat("h", otelred.MaxValueLength+1)+"/orders", nil))
				for _, r := range reqs {
					tr.RoundTrip(r)
				}
				j := 0
				if got := testing.AllocsPerRun(500, func() { j++; tr.RoundTrip(reqs[j%len(reqs)]) }); got != 0 {
					t.Errorf("client: %v allocations per round trip, want 0", got)
				}
			})
		}
	}
}

// TestAllocsOfTheWarningPaths guards the paths the warnings watch: a
// success with no route while it still counts toward the report and after
// it, a request through two nested middlewares, and requests past the
// cardinality limit after the first fold was reported. Each allocates
// what the handler alone does.
func TestAllocsOfTheWarningPaths(t *testing.T) {
	testsupport.CaptureReports(t) // the reports are not the test's
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(context.Background())
	build := func(opts ...otelred.Option) func(http.Handler) http.Handler {
		mw, err := otelred.New(append([]otelred.Option{otelred.WithMeterProvider(mp), otelred.WithService("shop")}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return mw
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mux := http.NewServeMux()
	for _, p := range []string{"/a", "/b", "/c"} {
		mux.Handle("GET "+p, ok)
	}
	req := httptest.NewRequest("GET", "/c", nil)
	serve := func(h http.Handler) func() {
		return func() {
			req.Pattern = ""
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
	bare := testing.AllocsPerRun(50, serve(mux))
	for _, tc := range []struct {
		name    string
		handler http.Handler
		warm    int // requests before measuring
	}{
		{"no route, counting toward the report", build()(ok), 10},
		{"no route, after the report", build()(ok), 200},
		{"nested on one provider", build()(build()(mux)), 10},
		{"nested in Classic", build(otelred.WithProfile(otelred.Classic))(build(otelred.WithProfile(otelred.Classic))(mux)), 10},
		{"past the cardinality limit", build(otelred.WithCardinalityLimit(1))(mux), 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "past the cardinality limit" {
				for _, p := range []string{"/a", "/b"} { // /a fills the limit, /b is the first fold
					r := httptest.NewRequest("GET", p, nil)
					tc.handler.ServeHTTP(httptest.NewRecorder(), r)
				}
			}
			for range tc.warm {
				serve(tc.handler)()
			}
			if got := testing.AllocsPerRun(50, serve(tc.handler)); got != bare {
				t.Errorf("allocations per request: %v with the middleware, %v without", got, bare)
			}
		})
	}
}
