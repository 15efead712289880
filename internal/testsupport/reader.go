package testsupport

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Reader is a MeterProvider with a ManualReader, shut down when the test
// ends. Its methods read the metrics of one instrumentation scope, per
// attribute set.
type Reader struct {
	Provider *sdkmetric.MeterProvider
	Manual   *sdkmetric.ManualReader

	t     testing.TB
	scope string
}

// NewReader returns a Reader of the metrics of scope.
func NewReader(t testing.TB, scope string) *Reader {
	t.Helper()
	manual := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(manual))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return &Reader{Provider: mp, Manual: manual, t: t, scope: scope}
}

// Build returns a Reader of scope and what build makes with its
// MeterProvider, or fails the test.
func Build[T any](t testing.TB, scope string, build func(metric.MeterProvider) (T, error)) (*Reader, T) {
	t.Helper()
	r := NewReader(t, scope)
	v, err := build(r.Provider)
	if err != nil {
		t.Fatalf("building on the test's MeterProvider: %v", err)
	}
	return r, v
}

// Collect collects once, or fails the test.
func (r *Reader) Collect() metricdata.ResourceMetrics {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Manual.Collect(context.Background(), &rm); err != nil {
		r.t.Fatalf("collect: %v", err)
	}
	return rm
}

// Counts collects and returns the named histogram's count per attribute
// set.
func (r *Reader) Counts(name string) map[string]uint64 {
	r.t.Helper()
	got := map[string]uint64{}
	for _, dp := range collected[metricdata.Histogram[float64]](r, name).DataPoints {
		got[Attrs(dp.Attributes)] += dp.Count
	}
	return got
}

// Sums collects and returns the named Int64 sum's value per attribute set.
func (r *Reader) Sums(name string) map[string]int64 {
	r.t.Helper()
	got := map[string]int64{}
	for _, dp := range collected[metricdata.Sum[int64]](r, name).DataPoints {
		got[Attrs(dp.Attributes)] += dp.Value
	}
	return got
}

// collected collects and returns the data of the named metric, which must
// be a D.
func collected[D any](r *Reader, name string) D {
	r.t.Helper()
	m := Find(r.t, r.Collect(), r.scope, name)
	d, ok := m.Data.(D)
	if !ok {
		r.t.Fatalf("%s is %T, want %T", name, m.Data, d)
	}
	return d
}

// Find returns the metric named name of scope in rm, or fails the test.
func Find(t testing.TB, rm metricdata.ResourceMetrics, scope, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != scope {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("metric %q not collected", name)
	return metricdata.Metrics{}
}

// Attrs renders an attribute set as "k=v,k=v", sorted by key.
func Attrs(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// WantEqual fails the test when got and want differ, showing both; what
// names the values ("counts", "in flight").
func WantEqual[V any](t testing.TB, what string, got, want map[string]V) {
	t.Helper()
	if Render(got) != Render(want) {
		t.Errorf("%s per series:\n got  %s\n want %s", what, Render(got), Render(want))
	}
}

// Render renders m one entry a line, sorted, for a test's message.
func Render[V any](m map[string]V) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, fmt.Sprintf("%s => %v", k, v))
	}
	slices.Sort(lines)
	return "{\n\t" + strings.Join(lines, "\n\t") + "\n}"
}
