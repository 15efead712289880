package exporter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
)

// TestProviderReportsTheCardinalityLimit: the Provider reports
// Config.CardinalityLimit, with the default and the environment applied,
// for otelred to read.
func TestProviderReportsTheCardinalityLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   exporter.Config
		env   string
		limit int
	}{
		{"the default", exporter.Config{}, "", otelred.DefaultCardinalityLimit},
		{"from the config", exporter.Config{CardinalityLimit: 50}, "", 50},
		{"from OTELRED_CARDINALITY_LIMIT", exporter.Config{}, "70", 70},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("OTELRED_CARDINALITY_LIMIT", tc.env)
			tc.cfg.Exporters = []string{"none"}
			if got := setup(t, tc.cfg).CardinalityLimit(); got != tc.limit {
				t.Errorf("CardinalityLimit() = %d, want %d", got, tc.limit)
			}
		})
	}
}

// TestOtelredOverflowAppliesAtTheLimit runs otelred, with no limit of its
// own, on a Provider whose CardinalityLimit is above the SDK's default of
// 2000 attribute sets per instrument: exactly limit routes get a series of
// their own, the next ones go to otelred's two overflow series (failures
// apart), and nothing goes to the SDK's own overflow series. With the
// SDK's limit forced back to its default, the SDK's overflow takes over,
// which is what Setup prevents.
func TestOtelredOverflowAppliesAtTheLimit(t *testing.T) {
	const (
		limit     = 2100
		okPast    = 7 // distinct routes past the limit that succeed
		failsPast = 4 // distinct routes past the limit that fail
	)
	for _, tc := range []struct {
		name     string
		opts     []sdkmetric.Option
		sdkTakes bool // whether the SDK's own overflow takes over
	}{
		{"with Setup's SDK limit", nil, false},
		{"with the SDK's default limit instead", []sdkmetric.Option{sdkmetric.WithCardinalityLimit(2000)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			reader := sdkmetric.NewManualReader()
			p, err := exporter.Setup(context.Background(),
				exporter.Config{Exporters: []string{"none"}, CardinalityLimit: limit},
				append([]sdkmetric.Option{sdkmetric.WithReader(reader)}, tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
			// Every path is its own route, so each one is a new series.
			mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithRoute(func(r *http.Request) string { return r.URL.Path }))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Has("fail") {
					w.WriteHeader(http.StatusInternalServerError)
				}
			})))
			t.Cleanup(srv.Close)
			get := func(path string) {
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			for i := range limit + okPast {
				get("/r/" + strconv.Itoa(i))
			}
			for i := range failsPast {
				get("/f/" + strconv.Itoa(i) + "?fail")
			}

			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			var dps []metricdata.HistogramDataPoint[float64]
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if sm.Scope.Name == otelred.ScopeName && m.Name == otelred.Semconv.Names().Duration {
						dps = m.Data.(metricdata.Histogram[float64]).DataPoints
					}
				}
			}
			own, otelredOverflow, sdkOverflow := 0, map[string]uint64{}, uint64(0)
			for _, dp := range dps {
				route, _ := dp.Attributes.Value("http.route")
				overflow, _ := dp.Attributes.Value("otel.metric.overflow")
				switch {
				case overflow.AsBool() && route.AsString() == otelred.Overflow:
					errType, _ := dp.Attributes.Value("error.type")
					otelredOverflow[errType.AsString()] += dp.Count
				case overflow.AsBool():
					sdkOverflow += dp.Count
				default:
					own++
				}
			}
			if tc.sdkTakes {
				if sdkOverflow == 0 {
					t.Errorf("the SDK's own overflow series is empty with its limit at 2000: the test proves nothing")
				}
				return
			}
			want := map[string]uint64{"": okPast, "_OTHER": failsPast}
			if own != limit || sdkOverflow != 0 || len(otelredOverflow) != 2 || otelredOverflow[""] != want[""] || otelredOverflow["_OTHER"] != want["_OTHER"] {
				t.Errorf("%d series of their own, otelred's overflow %v, the SDK's overflow %d requests; want %d, %v and 0",
					own, otelredOverflow, sdkOverflow, limit, want)
			}
		})
	}
}
