package exporter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelred/otelred/exporter/redpage"
	"github.com/otelred/otelred/internal/otelenv"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// Provider is a MeterProvider built by [Setup], with the exporters that
// read it. It embeds the *sdkmetric.MeterProvider, so it is itself a
// metric.MeterProvider to hand to otelred.WithMeterProvider, and its
// ForceFlush pushes at once.
type Provider struct {
	*sdkmetric.MeterProvider

	// Resource is the resource Setup built and gave the MeterProvider.
	Resource *resource.Resource

	exp    *Exporter
	debug  *redpage.Handler // nil without a cumulative reader to read
	limit  int
	bounds map[otelred.Profile][]float64 // nil with native histograms

	shutdown    sync.Once
	shutdownErr error
}

// Setup builds, in one call, a MeterProvider with otelred's RED views (the
// duration histograms of both profiles, whichever the middleware records
// with, with Boundaries or the boundaries derived from the objectives
// ([Config.ObjectivesFile]), or as native histograms with
// [Config.Histogram] "native", and otelhttp's duration and body-size
// histograms dropped unless [Config.OtelhttpMetrics]; see [views.RED] and
// [views.Exponential]), the resource, and a reader for every exporter cfg
// lists, after applying the environment to cfg ([Config.WithEnv]); with
// [Config.RuntimeMetrics], it starts the Go runtime metrics on that
// provider. A standalone Prometheus listener ([Prometheus.ListenAddr])
// serves the RED page ([Provider.DebugHandler]) at /debug/red beside the
// metrics. The SDK's per-instrument cardinality limit is set above
// otelred's ([Config.CardinalityLimit]) and its overflow series, and never
// below the SDK's default of 2000; an sdkmetric.WithCardinalityLimit in
// opts overrides it. It never sets the global
// MeterProvider; pass the Provider to otelred.WithMeterProvider, or call
// otel.SetMeterProvider yourself.
//
// The resource has, from lowest to highest precedence: a
// service.instance.id that is a random UUID drawn at each call, so that
// the replicas of a service pushing OTLP are told apart (Prometheus's OTLP
// receiver makes it the instance label); service.name
// "unknown_service:<executable>", the telemetry.sdk.* attributes,
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, then
// cfg.ResourceAttributes and cfg.ServiceName. Empty entries of
// OTEL_RESOURCE_ATTRIBUTES (as a trailing comma makes) are skipped; a
// malformed entry, or a key or value of invalid UTF-8 in either variable,
// is an error wrapping [ErrInvalidConfig] that names the variable. Setup
// detects nothing else (no host.name, service.version, service.namespace
// or deployment.environment.name): set those, or a stable
// service.instance.id such as a UUID of the pod's name, in
// OTEL_RESOURCE_ATTRIBUTES or cfg.ResourceAttributes (see docs/fleets.md).
//
// opts are passed to sdkmetric.NewMeterProvider after Setup's own, for
// example more views (views.Otelhttp for a service that also uses otelhttp)
// or another reader.
//
// Like [New], Setup starts nothing half-way: on error, nothing it started
// is left running.
func Setup(ctx context.Context, cfg Config, opts ...sdkmetric.Option) (*Provider, error) {
	objectivesSource := "ObjectivesFile"
	if cfg.ObjectivesFile == "" {
		objectivesSource = envObjectives
	}
	cfg, err := cfg.WithEnv()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.readObjectives(objectivesSource); err != nil {
		return nil, err
	}
	red, err := cfg.redViews()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if cfg.OtelhttpMetrics {
		// otelhttp's histograms follow the semantic conventions.
		b, err := cfg.boundaries(otelred.Semconv)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		oh, err := views.Otelhttp(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		red = append(red, oh...)
	}
	res, err := cfg.resource(ctx)
	if err != nil {
		return nil, err
	}
	e, err := build(ctx, cfg)
	if err != nil {
		return nil, err
	}
	all := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithView(red...),
		sdkmetric.WithCardinalityLimit(sdkCardinalityLimit(cfg.cardinalityLimit()))}
	if cfg.RuntimeMetrics {
		all = append(all, sdkmetric.WithView(goroutines))
	}
	for _, r := range e.readers {
		all = append(all, sdkmetric.WithReader(r))
	}
	debug := e.cumulative
	if debug == nil && cfg.DebugPage {
		m := sdkmetric.NewManualReader()
		all = append(all, sdkmetric.WithReader(m))
		debug = m
	}
	all = append(all, opts...)
	p := &Provider{
		MeterProvider: sdkmetric.NewMeterProvider(all...),
		Resource:      res,
		exp:           e,
		limit:         cfg.cardinalityLimit(),
	}
	if cfg.Histogram != histogramNative {
		p.bounds = make(map[otelred.Profile][]float64, 2)
		for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			b, _ := cfg.boundaries(profile) // redViews succeeded with them
			if b == nil {
				b = views.Default(profile)
			}
			p.bounds[profile] = slices.Clone(b)
		}
	}
	if debug != nil {
		p.debug = redpage.New(debug, cfg.profile())
	}
	e.serve(cfg.Prometheus.Path, p.DebugHandler())
	if cfg.RuntimeMetrics {
		if err := otelruntime.Start(otelruntime.WithMeterProvider(p.MeterProvider)); err != nil {
			_ = p.Shutdown(ctx)
			return nil, fmt.Errorf("exporter: starting the runtime metrics: %w", err)
		}
	}
	return p, nil
}

// goroutines renames the runtime instrumentation's go.goroutine.count to
// go.goroutines: promtool's lint rejects a gauge named with a _count suffix,
// and go_goroutines is the name client_golang's Go collector gives it.
var goroutines = sdkmetric.NewView(
	sdkmetric.Instrument{Name: "go.goroutine.count", Scope: instrumentation.Scope{Name: otelruntime.ScopeName}},
	sdkmetric.Stream{Name: "go.goroutines"},
)

// ServiceName returns the service.name of the Provider's resource. otelred
// reads it through this method to name the Classic profile's service
// label, so that it agrees with target_info and with what OTLP receives.
func (p *Provider) ServiceName() string {
	v, _ := p.Resource.Set().Value("service.name")
	return v.AsString()
}

// Boundaries returns the bucket boundaries, in seconds, that Setup gave
// the duration histograms of profile p: [Config.Boundaries], or p's
// [views.Default] with the latency thresholds of the objectives
// ([Config.ObjectivesFile]) added. It is nil with native histograms
// ([Config.Histogram] "native"), which have none, and for an unknown
// profile. The slice is the caller's.
func (p *Provider) Boundaries(profile otelred.Profile) []float64 {
	return slices.Clone(p.bounds[profile])
}

// CardinalityLimit returns otelred's per-instrument limit,
// [Config.CardinalityLimit] with the default applied. otelred reads it
// through this method when it is given no limit of its own, as it reads
// [Provider.ServiceName].
func (p *Provider) CardinalityLimit() int { return p.limit }

// Handler returns the Prometheus handler, as [Exporter.Handler] does: nil
// when the Prometheus exporter does not run.
func (p *Provider) Handler() http.Handler { return p.exp.Handler() }

// DebugHandler returns the handler of the live RED page, a debug page
// like /debug/pprof: for each route, peer and operation, the request rate,
// error ratio, p50 and p99 latency and requests in flight, with a chart of
// the last minutes, refreshed every second (see package
// [github.com/otelred/otelred/exporter/redpage]).
//
// The standalone Prometheus listener ([Prometheus.ListenAddr]), when
// there is one, serves it already at /debug/red, beside the metrics: both
// are for operators. Without one, mount it on your own server, where only
// those who may see it can reach it:
//
//	mux.Handle("GET /debug/red", p.DebugHandler())
//
// The page reads the same instruments the exporters send, in process,
// from the Prometheus exporter's reader, or from the reader that
// [Config.DebugPage] adds. It is nil when there is neither.
func (p *Provider) DebugHandler() http.Handler {
	if p.debug == nil {
		return nil
	}
	return p.debug
}

// Addr returns the address of the standalone Prometheus listener, or nil
// when there is none. It serves the metrics at [Prometheus.Path] and the
// RED page ([Provider.DebugHandler]) at /debug/red.
func (p *Provider) Addr() net.Addr { return p.exp.Addr() }

// Shutdown flushes the last push of every push exporter, stops every
// reader and closes the standalone listener, and returns all their errors
// joined. ctx bounds the whole of it: with a collector that does not
// answer, Shutdown returns when ctx ends (or the export's
// [OTLP.Timeout] does, if sooner), with the export's error. When the last
// OTLP push fails, the error wraps [ErrLastPushFailed] and says what was
// lost: the measurements since the last push that succeeded, with its
// time, or since Setup when none did. Calls after the first return the
// first one's result.
func (p *Provider) Shutdown(ctx context.Context) error {
	p.shutdown.Do(func() {
		var mark int
		if p.exp.push != nil {
			mark = p.exp.push.count()
		}
		err := p.MeterProvider.Shutdown(ctx)
		if err != nil && p.exp.push != nil {
			if lost := p.exp.push.lost(mark, err); lost != nil {
				err = lost
			}
		}
		p.shutdownErr = errors.Join(err, p.exp.Shutdown(ctx))
	})
	return p.shutdownErr
}

// resource builds the resource: defaults, then the environment, then c.
// OTEL_RESOURCE_ATTRIBUTES is read with otelred's parser, not with the
// SDK's resource.WithFromEnv, which parses it again by other rules: it
// fails on an empty entry ("a=1,") that otelred skips, and it applies a
// malformed list in part, only logging about it.
func (c Config) resource(ctx context.Context) (*resource.Resource, error) {
	env, err := otelenv.ResourceAttributes.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := checkAttributes(otelenv.ResourceAttributes.Name, env); err != nil {
		return nil, err
	}
	envName := strings.TrimSpace(os.Getenv(otelenv.ServiceNameVariable))
	if !utf8.ValidString(envName) {
		return nil, fmt.Errorf("%w: %s %q: not valid UTF-8", ErrInvalidConfig, otelenv.ServiceNameVariable, envName)
	}
	// Later attributes win over earlier ones with the same key.
	attrs := sortedAttributes(env)
	if envName != "" {
		attrs = append(attrs, attribute.String("service.name", envName))
	}
	attrs = append(attrs, sortedAttributes(c.ResourceAttributes)...)
	if c.ServiceName != "" {
		attrs = append(attrs, attribute.String("service.name", c.ServiceName))
	}
	res, err := resource.New(ctx,
		resource.WithDetectors(instanceID),
		resource.WithDetectors(resource.StringDetector("", "service.name", unknownService)),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("exporter: building the resource: %w", err)
	}
	return res, nil
}

// sortedAttributes returns m as string attributes, sorted by key.
func sortedAttributes(m map[string]string) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		attrs = append(attrs, attribute.String(k, m[k]))
	}
	return attrs
}

// checkAttributes reports a key or value of m, the resource attributes of
// source, that is not valid UTF-8: protobuf refuses to encode it, and one
// such attribute of the resource would fail every OTLP export.
func checkAttributes(source string, m map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !utf8.ValidString(k) {
			return fmt.Errorf("%w: %s: the key %q is not valid UTF-8", ErrInvalidConfig, source, k)
		}
		if !utf8.ValidString(m[k]) {
			return fmt.Errorf("%w: %s: the value of %q, %q, is not valid UTF-8", ErrInvalidConfig, source, k, m[k])
		}
	}
	return nil
}

// debugPath is where the standalone listener of a Provider serves its RED
// page.
const debugPath = "/debug/red"

// unknownService is the OpenTelemetry SDK's default service.name.
func unknownService() (string, error) { return otelenv.UnknownService(), nil }
