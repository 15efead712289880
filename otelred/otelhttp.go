package otelred

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// ErrCountedTwice is wrapped by the error otelred reports through
// [otel.Handle] when the MeterProvider it is given would also record
// otelhttp's duration histogram of the same requests.
var ErrCountedTwice = errors.New("otelred: each request would be counted twice")

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
// http.client.request.duration) beside otelred's: both land in one
// Prometheus family, where every rate counts each request twice. It asks
// mp through a probe instrument in otelhttp's scope (under a version of
// its own, so it never clashes with otelhttp's instrument), which a view
// that drops otelhttp's instrument, as views.RED's does, disables. The
// probe records nothing.
func checkOtelhttp(mp metric.MeterProvider, name string) {
	if !otelhttpLinked() {
		return
	}
	probe, err := mp.Meter(otelhttpModule, metric.WithInstrumentationVersion("otelred-probe")).
		Float64Histogram(name, metric.WithUnit("s"))
	if err != nil || !probe.Enabled(context.Background()) {
		return
	}
	otel.Handle(fmt.Errorf("%w: otelhttp is built into this program, and the MeterProvider given to otelred "+
		"would record otelhttp's %s too; register views.RED's views on it (exporter.Setup does), "+
		"or give otelhttp a no-op MeterProvider", ErrCountedTwice, name))
}
