package otelred

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/otelred/internal/red"
)

// otelhttpModule is otelhttp's module path, which is also its
// instrumentation scope name.
const otelhttpModule = "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

// otelhttpLinked reports whether otelhttp is built into the program.
var otelhttpLinked = sync.OnceValue(func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, d := range bi.Deps {
		if d.Path == otelhttpModule {
			return true
		}
	}
	return false
})

// checkOtelhttp reports, through otel.Handle, a program that links
// otelhttp and whose MeterProvider mp would record otelhttp's duration
// histogram name (http.server.request.duration or
// http.client.request.duration) beside otelred's: where otelhttp records
// into the same provider, both land in one Prometheus family, where every
// rate counts each request twice. It asks mp through a probe instrument in
// otelhttp's scope (under a version of its own, so it never clashes with
// otelhttp's instrument), which a view that drops otelhttp's instrument,
// as views.RED's does, disables. The probe records nothing.
//
// Which provider otelhttp records into, otelred cannot see: otelhttp takes
// the global one unless given another. So the report says the case is
// likely when mp is the global provider (global: otelred was given no
// other), and only possible when it is not.
func checkOtelhttp(mp metric.MeterProvider, global bool, name string) {
	if !otelhttpLinked() {
		return
	}
	probe, err := mp.Meter(otelhttpModule, metric.WithInstrumentationVersion("otelred-probe")).
		Float64Histogram(name, metric.WithUnit("s"))
	if err != nil || !probe.Enabled(context.Background()) {
		return
	}
	const fixes = "Register views.RED's views on the provider (exporter.Setup does), which drop otelhttp's duration histograms, " +
		"or give otelhttp a MeterProvider of its own with otelhttp.WithMeterProvider (a no-op one to keep its traces only)"
	if global || red.SameProvider(mp, otel.GetMeterProvider()) {
		otel.Handle(fmt.Errorf("%w: otelhttp is built into this program, and the global MeterProvider, which otelred records into, "+
			"would record otelhttp's %s too; otelhttp records into the global MeterProvider unless it is given another, "+
			"so each request is counted twice in that family wherever otelhttp runs with its default. %s (see %s)",
			ErrCountedTwice, name, fixes, red.DocCountedTwice))
		return
	}
	otel.Handle(fmt.Errorf("%w: otelhttp is built into this program, and the MeterProvider given to otelred would record "+
		"otelhttp's %s too; if otelhttp is given this provider (otelhttp.WithMeterProvider), each request is counted twice in that family, "+
		"and if it records into another one, as by default into the global MeterProvider, nothing is counted twice. %s (see %s)",
		ErrCountedTwice, name, fixes, red.DocCountedTwice))
}
