package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// TestChiRouter installs otelred with chi's r.Use, as the README says it
// fits, and checks the route chi matched is recorded: chi sets r.Pattern,
// and its own route context serves routers that do not.
func TestChiRouter(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []otelred.Option
	}{
		{"r.Pattern", nil},
		{"WithRoute from chi's route context", []otelred.Option{otelred.WithRoute(func(r *http.Request) string {
			return chi.RouteContext(r.Context()).RoutePattern()
		})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			defer mp.Shutdown(context.Background())
			mw, err := otelred.New(append([]otelred.Option{otelred.WithMeterProvider(mp)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			r := chi.NewRouter()
			r.Use(mw)
			r.Get("/users/{id}", func(http.ResponseWriter, *http.Request) {})
			r.Route("/orders", func(r chi.Router) {
				r.Post("/{id}/pay", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
			})
			srv := httptest.NewServer(r)
			defer srv.Close()
			for _, req := range []struct{ method, path string }{{"GET", "/users/42"}, {"POST", "/orders/7/pay"}, {"GET", "/nope"}} {
				rq, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
				resp, err := srv.Client().Do(rq)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "http.server.request.duration" {
						for _, dp := range h.DataPoints {
							got[dp.Attributes.Encoded(attribute.DefaultEncoder())] += dp.Count
						}
					}
				}
			}
			want := map[string]uint64{
				"http.request.method=GET,http.response.status_code=200,http.route=/users/{id},network.protocol.version=1.1,url.scheme=http":       1,
				"http.request.method=POST,http.response.status_code=202,http.route=/orders/{id}/pay,network.protocol.version=1.1,url.scheme=http": 1,
				"http.request.method=GET,http.response.status_code=404,network.protocol.version=1.1,url.scheme=http":                              1, // no route: no http.route
			}
			if len(got) != len(want) {
				t.Errorf("series %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %d, want %d (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}
