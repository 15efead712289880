package red

import "go.opentelemetry.io/otel/metric"

// Settings is what the options of an adapter in another package of the
// module set (otelredgrpc's Server): those it shares with every
// instrumentation, which otelred's own options set through their Adapt
// method, and its own.
type Settings struct {
	// Ctor names the adapter's constructor in errors
	// ("otelredgrpc.NewServer").
	Ctor string

	Provider metric.MeterProvider // nil: the global MeterProvider
	Limit    int

	// Own is the adapter's own configuration, which only its options set.
	Own any
}
