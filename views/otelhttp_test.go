package views_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// TestREDDropsOtelhttpHistograms serves and sends requests through real
// otelhttp on a provider with RED's views, and checks which of otelhttp's
// instruments are recorded: by RED alone, none of its durations and body
// sizes (otelred records those requests); with Otelhttp's views registered
// before or after RED's, the durations with Otelhttp's buckets, and the
// body sizes without the Host-derived server.address.
func TestREDDropsOtelhttpHistograms(t *testing.T) {
	red := must(views.RED(otelred.Semconv, nil))
	oh := must(views.Otelhttp([]float64{1, 2, 4}))
	for _, tc := range []struct {
		name  string
		views []metric.View
		kept  bool
	}{
		{"RED alone", red, false},
		{"Otelhttp before RED", slices.Concat(oh, red), true},
		{"RED before Otelhttp", slices.Concat(red, oh), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp, r := newProvider(t, tc.views...)
			opts := []otelhttp.Option{otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(tracenoop.NewTracerProvider())}
			srv := httptest.NewServer(otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Write([]byte("ok"))
			}), "server", opts...))
			t.Cleanup(srv.Close)
			client := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, opts...)}
			const n = 3
			for range n {
				resp, err := client.Get(srv.URL + "/x")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			got := collect(t, r)
			for _, name := range []string{"http.server.request.duration", "http.client.request.duration",
				"http.server.request.body.size", "http.server.response.body.size", "http.client.request.body.size"} {
				m, ok := got[stream{otelhttp.ScopeName, name}]
				if ok != tc.kept {
					t.Errorf("otelhttp's %s recorded = %v, want %v", name, ok, tc.kept)
					continue
				}
				switch d := m.Data.(type) {
				case nil: // dropped
				case metricdata.Histogram[float64]: // a duration, re-bucketed
					if dp := d.DataPoints; len(dp) != 1 || dp[0].Count != n || !slices.Equal(dp[0].Bounds, []float64{1, 2, 4}) {
						t.Errorf("otelhttp's %s = %+v, want one series of %d requests in buckets [1 2 4]", name, dp, n)
					}
				case metricdata.Histogram[int64]: // a body size, trimmed
					if dp := d.DataPoints; len(dp) != 1 || dp[0].Count != n || dp[0].Attributes.HasValue("server.address") {
						t.Errorf("otelhttp's %s = %+v, want one series of %d requests without server.address", name, dp, n)
					}
				default:
					t.Errorf("otelhttp's %s is a %T", name, m.Data)
				}
			}
		})
	}
}
