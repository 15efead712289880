//go:build !race

// Allocation counts are only meaningful without the race detector (see
// otelred/allocs_test.go).

package exporter

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

// countingExporter counts its exports and keeps the last, allocating
// nothing.
type countingExporter struct {
	sdkmetric.Exporter
	n    int
	last *metricdata.ResourceMetrics
}

func (e *countingExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	e.n++
	e.last = rm
	return nil
}

// TestAllocsExportUnderTheBudget guards the promise that an export under
// the budget costs its estimate and nothing more: no allocation, for
// points of every kind with exemplars and a resource of strings, as Setup
// builds it, and rm passed on itself. (Reading an attribute value that is
// a slice allocates a copy of it.)
func TestAllocsExportUnderTheBudget(t *testing.T) {
	rm := everyKind(20, 128, true)
	rm.Resource = resource.NewSchemaless(attribute.String("service.name", "shop"), attribute.String("telemetry.sdk.language", "go"))
	c := &countingExporter{}
	e := splittingExporter{Exporter: c, budget: maxExportBytes}
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { _ = e.Export(ctx, rm) }); n != 0 {
		t.Errorf("Export under the budget allocates %.1f times, want 0", n)
	}
	if c.n != 101 || c.last != rm {
		t.Errorf("the wrapped exporter got %d exports, want 101, each rm itself", c.n)
	}
}
