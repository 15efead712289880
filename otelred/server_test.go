package otelred_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// newRouter is a router that, like gorilla/mux, serves the matched route
// with a new request (so r.Pattern never reaches otelred) and hands the
// template over with SetRoute. Paths other than /items/{id} get 404, other
// methods 405, from handlers that never call SetRoute.
func newRouter(t *testing.T, wrapW func(http.ResponseWriter) http.ResponseWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) <= len("/items/") || r.URL.Path[:len("/items/")] != "/items/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), routerKey{}, "/items/{id}"))
		if wrapW != nil {
			w = wrapW(w)
		}
		if !otelred.SetRoute(w, "/items/{id}") {
			t.Error("SetRoute found no otelred writer")
		}
		if r.URL.Path == "/items/boom" {
			panic("boom")
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

type routerKey struct{}

// unwrapping is an outer wrapper of the kind middleware chains add, which
// SetRoute must see through.
type unwrapping struct{ http.ResponseWriter }

func (u unwrapping) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestSetRouteNamesTheRouteOfARouterThatPassesANewRequest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrapW func(http.ResponseWriter) http.ResponseWriter
	}{
		{"the writer otelred gave", nil},
		{"a writer that unwraps to it", func(w http.ResponseWriter) http.ResponseWriter { return unwrapping{w} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			s := h.server(newRouter(t, tc.wrapW))
			// First, on a fresh connection: the client would retry a GET
			// whose reused connection broke.
			h.do(s, "GET", "/items/boom")
			for range 3 {
				h.do(s, "GET", "/items/42")
			}
			h.do(s, "GET", "/elsewhere")
			h.do(s, "POST", "/items/42")
			wantCounts(t, h.counts(duration), map[string]uint64{
				series("GET", "/items/{id}", 202, ""):           3,
				series("GET", noRoute, 404, ""):                 1,
				series("POST", noRoute, 405, ""):                1,
				series("GET", "/items/{id}", noStatus, "panic"): 1,
			})
		})
	}
}

func TestSetRouteOnClassicCountsInFlightToZero(t *testing.T) {
	h := newHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
	s := h.server(newRouter(t, nil))
	h.do(s, "GET", "/items/1")
	h.do(s, "GET", "/nope")
	wantCounts(t, h.counts("http_request_duration_seconds"), map[string]uint64{
		"method=GET,path=/items/{id},service=shop,status_code=202": 1,
		"method=GET,path=unmatched,service=shop,status_code=404":   1,
	})
	// The route is known only once the router has matched, so the request
	// is in flight under unmatched, and returns to zero there.
	if got := h.sums("http_requests_active"); len(got) != 1 || got["method=GET,path=unmatched,service=shop"] != 0 {
		t.Errorf("in flight = %v, want only GET unmatched at 0", got)
	}
}

func TestSetRouteWithoutOtelred(t *testing.T) {
	rec := httptest.NewRecorder()
	if otelred.SetRoute(rec, "/x") {
		t.Error("SetRoute on a writer otelred did not give = true")
	}
	if otelred.SetRoute(unwrapping{rec}, "/x") {
		t.Error("SetRoute through Unwrap to a plain writer = true")
	}
}

// TestServerRecordsWhatAnAdapterReports drives Server as a framework
// adapter does, and checks that it records exactly what the middleware
// records for the same requests.
func TestServerRecordsWhatAnAdapterReports(t *testing.T) {
	type call struct {
		method, path, route string
		status              int
		panicked            bool
	}
	calls := []call{
		{"GET", "/users/1", "/users/:id", 200, false},
		{"GET", "/users/2", "/users/:id", 0, false}, // nothing sent: 200
		{"GET", "/users/3", "/users/:id", 503, false},
		{"GET", "/users/4", "/users/:id", 0, true}, // panicked before sending: none (Semconv), 500 (Classic)
		{"GET", "/users/5", "/users/:id", 201, true},
		{"GET", "/nowhere", "", 404, false},
		{"BREW", "/users/6", "GET /users/:id", 200, false}, // method and pattern reduced
		{"GET", "/metrics", "/metrics", 200, false},        // filtered by default
	}
	for _, tc := range []struct {
		profile otelred.Profile
		name    string
		want    map[string]uint64
	}{
		{otelred.Semconv, duration, map[string]uint64{
			series("GET", "/users/:id", 200, ""):           2,
			series("GET", "/users/:id", 503, "503"):        1,
			series("GET", "/users/:id", noStatus, "panic"): 1,
			series("GET", "/users/:id", 201, "panic"):      1,
			series("GET", noRoute, 404, ""):                1,
			series("_OTHER", "/users/:id", 200, ""):        1,
		}},
		{otelred.Classic, "http_request_duration_seconds", map[string]uint64{
			"method=GET,path=/users/:id,service=shop,status_code=200":    2,
			"method=GET,path=/users/:id,service=shop,status_code=503":    1,
			"method=GET,path=/users/:id,service=shop,status_code=500":    1,
			"method=GET,path=/users/:id,service=shop,status_code=201":    1,
			"method=GET,path=unmatched,service=shop,status_code=404":     1,
			"method=_OTHER,path=/users/:id,service=shop,status_code=200": 1,
		}},
	} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			t.Cleanup(func() { mp.Shutdown(context.Background()) })
			s, err := otelred.NewServer(otelred.WithMeterProvider(mp), otelred.WithProfile(tc.profile), otelred.WithService("shop"))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range calls {
				q := s.Start(httptest.NewRequest(c.method, c.path, nil), c.route)
				q.End(c.route, c.status, c.panicked)
			}
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			var active map[string]int64
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					switch d := m.Data.(type) {
					case metricdata.Histogram[float64]:
						if m.Name == tc.name {
							for _, dp := range d.DataPoints {
								got[attrs(dp.Attributes)] += dp.Count
							}
						}
					case metricdata.Sum[int64]:
						if m.Name == tc.profile.Names().Active {
							active = map[string]int64{}
							for _, dp := range d.DataPoints {
								active[attrs(dp.Attributes)] = dp.Value
							}
						}
					}
				}
			}
			wantCounts(t, got, tc.want)
			for k, v := range active {
				if v != 0 {
					t.Errorf("in flight %s = %d after every End, want 0", k, v)
				}
			}
			if len(active) == 0 {
				t.Error("no in-flight series")
			}
		})
	}
}

func TestServerTakesTheMiddlewaresOptionsOnly(t *testing.T) {
	if _, err := otelred.NewServer(otelred.WithHosts("api.example")); err == nil || err.Error() != "otelred: invalid option: WithHosts does not apply to NewServer" {
		t.Errorf("NewServer(WithHosts) error = %v", err)
	}
	var zero otelred.Request
	zero.End("/x", 200, false) // a zero Request records nothing, and does not panic
}
