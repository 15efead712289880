package bench

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// durationSets serves one request on h, and returns the attribute sets of
// the server duration histogram reader has collected.
func durationSets(t *testing.T, reader *sdkmetric.ManualReader, h http.Handler) []string {
	t.Helper()
	serveOnce(h, newRequest())
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == otelred.Semconv.Names().Duration {
				for _, dp := range h.DataPoints {
					sets = append(sets, dp.Attributes.Encoded(attribute.DefaultEncoder()))
				}
			}
		}
	}
	slices.Sort(sets)
	return sets
}

// TestFloorRecordsWhatOtelredRecords checks that the floor the server
// benchmarks compare with records the very attribute set otelred's Semconv
// profile records, on the success and the error path: a floor with fewer
// attributes would cost the SDK less, and flatter every ratio to it.
func TestFloorRecordsWhatOtelredRecords(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		mux := newMux(status)
		floorReader, redReader := sdkmetric.NewManualReader(), sdkmetric.NewManualReader()
		floorMP := sdkmetric.NewMeterProvider(sdkmetric.WithReader(floorReader))
		redMP := sdkmetric.NewMeterProvider(sdkmetric.WithReader(redReader))
		t.Cleanup(func() { _ = floorMP.Shutdown(context.Background()); _ = redMP.Shutdown(context.Background()) })
		red, err := otelred.New(otelred.WithMeterProvider(redMP))
		if err != nil {
			t.Fatal(err)
		}
		floor := durationSets(t, floorReader, floorOn(t, floorMP, mux, status))
		got := durationSets(t, redReader, red(mux))
		if len(got) != 1 || !slices.Equal(floor, got) {
			t.Errorf("status %d: the floor records %q, otelred %q", status, floor, got)
		}
	}
}
