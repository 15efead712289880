package redgen

import (
	"fmt"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// strategy is the translation from OpenTelemetry to Prometheus names that
// exporter.Setup gives the Prometheus exporter (and the exporter's own
// default): dots and other characters a legacy name cannot have become
// underscores, a unit becomes a suffix (_seconds for "s", _bytes for "By";
// annotations such as {request} add none), and a counter ends in _total.
var strategy = otlptranslator.UnderscoreEscapingWithSuffixes

// grpcMethodKey is the attribute key of otelredgrpc's method, from the
// OpenTelemetry RPC semantic conventions.
const grpcMethodKey attribute.Key = "rpc.method"

// translator writes OpenTelemetry instrument and attribute names as the
// Prometheus exporter does, with the exporter's namespace. The first error
// sticks in err, so a plan checks it once, when every name is built.
type translator struct {
	metrics otlptranslator.MetricNamer
	labels  otlptranslator.LabelNamer
	err     error
}

// newTranslator returns the translator for the exporter's namespace ns,
// which the exporter escapes as a label name before it prefixes a name
// with it.
func newTranslator(ns string) (*translator, error) {
	t := &translator{labels: otlptranslator.LabelNamer{UTF8Allowed: !strategy.ShouldEscape()}}
	escaped := ns
	if ns != "" {
		var err error
		if escaped, err = t.labels.Build(ns); err != nil {
			return nil, fmt.Errorf("%w: Namespace = %q: %w", ErrInvalidConfig, ns, err)
		}
	}
	t.metrics = otlptranslator.NewMetricNamer(escaped, strategy)
	return t, nil
}

// metric returns the Prometheus name of the instrument name of type typ in
// unit, or "" for no instrument.
func (t *translator) metric(name string, typ otlptranslator.MetricType, unit string) string {
	if name == "" {
		return ""
	}
	s, err := t.metrics.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("%w: instrument %q: %w", ErrInvalidConfig, name, err)
	}
	return s
}

// label returns the Prometheus name of the attribute key k, or "" for no
// key.
func (t *translator) label(k attribute.Key) string {
	if k == "" {
		return ""
	}
	s, err := t.labels.Build(string(k))
	if err != nil && t.err == nil {
		t.err = fmt.Errorf("%w: attribute %q: %w", ErrInvalidConfig, k, err)
	}
	return s
}

// redNames are the Prometheus names of the RED series of one signal.
type redNames struct {
	requests string // counter of all requests
	errors   string // counter of failed requests, with errMatch
	errLabel string // the error type's label, which marks failures on errors, or ""
	errMatch string // extra matcher selecting failures on errors, or ""
	bucket   string // duration histogram buckets
	count    string // duration histogram count
	active   string // in-flight gauge, or ""
	// native says bucket and count name a native histogram, and so do
	// requests and errors where they count its observations.
	native bool
}

// red translates the instruments of one otelred signal, as otelred
// creates them (see [otelred.Names]): Duration is a histogram in seconds,
// Requests and Errors are counters, Active is an up-down counter; the
// counts' units are annotations, which add no suffix. A signal without a
// request counter counts its requests with the histogram's count; one
// without an error counter marks failures with the error type.
func (t *translator) red(n otelred.Names) redNames {
	duration := t.metric(n.Duration, otlptranslator.MetricTypeHistogram, "s")
	r := redNames{
		requests: duration + "_count",
		errors:   duration + "_count",
		bucket:   duration + "_bucket",
		count:    duration + "_count",
		active:   t.metric(n.Active, otlptranslator.MetricTypeNonMonotonicCounter, ""),
	}
	if n.Requests != "" {
		r.requests = t.metric(n.Requests, otlptranslator.MetricTypeMonotonicCounter, "")
	}
	if n.Errors != "" {
		r.errors = t.metric(n.Errors, otlptranslator.MetricTypeMonotonicCounter, "")
	} else {
		r.errLabel = t.label(n.ErrorType)
		r.errMatch = r.errLabel + `!=""`
		if r.errLabel == "" && t.err == nil {
			t.err = fmt.Errorf("%w: instrument %q: no error counter and no error type", ErrInvalidConfig, n.Duration)
		}
	}
	return r
}

// grpcNames are the names of otelredgrpc's instruments and of the
// attributes redgen reads, in the shape of a profile's. They follow the
// semantic conventions in every profile.
func grpcNames() otelred.Names {
	return otelred.Names{
		Duration:  otelredgrpc.DurationName,
		Active:    otelredgrpc.ActiveName,
		ErrorType: otelred.Semconv.Names().ErrorType,
		Method:    grpcMethodKey,
	}
}

// serverNames are the Prometheus names of the HTTP server's RED in profile
// p. The in-flight gauge carries the route where the profile keeps
// counters of its own, as the RED tutorial's gauge does; the semantic
// conventions' gauge has the method only.
func (t *translator) serverNames(p otelred.Profile) names {
	pn := p.Names()
	n := names{
		redNames:  t.red(pn),
		route:     t.label(pn.Route),
		method:    t.label(pn.Method),
		status:    t.label(pn.Status),
		unmatched: pn.Unmatched,
	}
	n.activeRte = pn.Requests != ""
	n.activeBy = []string{n.method}
	if n.activeRte {
		n.activeBy = []string{n.route}
	}
	return n
}

// signalNames are the names of the client's, the operations' and the gRPC
// server's RED in profile p. The gRPC server's series have no service
// label of their own (grpcSvc groups them).
func (t *translator) signalNames(p otelred.Profile, svc, grpcSvc string) (client, ops, grpc signalNames) {
	cn := p.ClientNames()
	client = signalNames{
		redNames: t.red(cn), svc: svc, by: t.label(cn.ServerAddress),
		signal: signalClient, group: "otelred_http_client",
		record: "http_client_requests", errRecord: "http_client_errors", durationRecord: "http_client_request_duration_seconds",
	}
	on := p.OperationNames()
	ops = signalNames{
		redNames: t.red(on), svc: svc, by: t.label(on.Operation),
		signal: signalOperation, group: "otelred_operations",
		record: "operations", errRecord: "operation_errors", durationRecord: "operation_duration_seconds",
	}
	gn := grpcNames()
	grpc = signalNames{
		redNames: t.red(gn), svc: grpcSvc, by: t.label(gn.Method),
		signal: SignalGRPC, group: "otelred_grpc_server",
		record: "rpc_server_calls", errRecord: "rpc_server_errors", durationRecord: "rpc_server_call_duration_seconds",
	}
	return client, ops, grpc
}

// runtimeNames are the Prometheus names of the Go runtime's metrics, as
// exporter.Config.RuntimeMetrics records them: go.goroutines (renamed by
// exporter.Setup from go.goroutine.count), go.memory.used and
// go.memory.gc.goal (up-down counters in bytes) and go.memory.allocated (a
// counter in bytes).
func (t *translator) runtimeNames() runtimeNames {
	return runtimeNames{
		goroutines: t.metric("go.goroutines", otlptranslator.MetricTypeNonMonotonicCounter, "{goroutine}"),
		memoryUsed: t.metric("go.memory.used", otlptranslator.MetricTypeNonMonotonicCounter, "By"),
		gcGoal:     t.metric("go.memory.gc.goal", otlptranslator.MetricTypeNonMonotonicCounter, "By"),
		allocated:  t.metric("go.memory.allocated", otlptranslator.MetricTypeMonotonicCounter, "By"),
	}
}
