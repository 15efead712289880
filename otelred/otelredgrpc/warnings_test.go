package otelredgrpc_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestNoMeterProviderIsReported builds a Server with no
// otelred.WithMeterProvider while OpenTelemetry's global MeterProvider is
// the one the process starts with: it reports it once, naming the fix;
// the global provider set later gets the calls.
func TestNoMeterProviderIsReported(t *testing.T) {
	if !testsupport.InChild(t) {
		return
	}
	got := testsupport.CaptureReports(t)
	s, err := otelredgrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	got.Want(t, otelred.ErrNoMeterProvider, "otelred: no MeterProvider: the global one is still OpenTelemetry's default, which records nothing: "+
		"otelredgrpc.NewServer was given no otelred.WithMeterProvider, and records nothing until otel.SetMeterProvider is called "+
		"(from then on it records into the provider set). Pass otelred.WithMeterProvider(provider), the Provider of exporter.Setup say, "+
		"or call otel.SetMeterProvider before serving (see docs/middleware.md#no-meterprovider)")
	r := testsupport.NewReader(t, otelredgrpc.ScopeName)
	otel.SetMeterProvider(r.Provider)
	callUnary(context.Background(), s, "/a.S/M", nil)
	wantCounts(t, "calls", r.Counts(otelredgrpc.DurationName), map[string]uint64{series("a.S/M", "OK", ""): 1})
}

// TestCardinalityLimitIsReported calls more methods, and more outcomes,
// than the limit holds: the duration histogram, whose methods and series
// share the limit, reports it once, naming the option that raises it.
func TestCardinalityLimitIsReported(t *testing.T) {
	got := testsupport.CaptureReports(t)
	h := newHarness(t, otelred.WithCardinalityLimit(2))
	for _, m := range []string{"/a.S/M1", "/a.S/M2", "/a.S/M3", "/a.S/M4"} {
		callUnary(context.Background(), h.red, m, nil)
	}
	got.Want(t, otelred.ErrCardinalityLimit, "otelred: the cardinality limit folds attribute sets into the overflow series: "+
		"rpc.server.call.duration of otelredgrpc.NewServer has reached its limit of 2 attribute sets, with 3 asked for so far: "+
		"the new ones are recorded in the overflow series (rpc.method=\"overflow\", otel.metric.overflow=true), so nothing is lost, "+
		"but they are not told apart. Raise the limit with otelred.WithCardinalityLimit, given to otelredgrpc.NewServer, "+
		"or bound the values (see docs/middleware.md#the-cardinality-limit)")
	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series("a.S/M1", "OK", ""): 1,
		series("a.S/M2", "OK", ""): 1,
		overflowed("OK", ""):       2,
	})
}
