// Package exporter turns configuration into OpenTelemetry metric readers,
// so that the same RED instruments otelred records are scraped by
// Prometheus, pushed over OTLP, printed, or all of these at once.
//
// There are two ways in. [Setup] builds a complete MeterProvider in one
// call, with otelred's bucket views and a resource:
//
//	p, err := exporter.Setup(ctx, exporter.Config{ServiceName: "checkout"})
//	if err != nil {
//		return err
//	}
//	defer p.Shutdown(context.Background()) // flushes the last push
//	mw, err := otelred.New(otelred.WithMeterProvider(p))
//	...
//	mux.Handle("GET /metrics", p.Handler())
//
// A service that already builds its own MeterProvider calls [New] instead
// and registers [Exporter.Readers] with it; the Prometheus handler is
// [Exporter.Handler].
//
// The package never touches the global MeterProvider nor Prometheus's
// global registry.
//
// # Exporters
//
// [Config.Exporters], or OTEL_METRICS_EXPORTER, lists any combination of
// "prometheus" (pull, the default), "otlp" (push over gRPC or HTTP) and
// "console" (JSON lines, for debugging); "none" alone runs none. Unlike the
// contrib autoexport package, the variable is a comma list, so one process
// can be scraped and push at the same time.
//
// # Environment
//
// The standard variables are read: OTEL_METRICS_EXPORTER,
// OTEL_EXPORTER_OTLP_[METRICS_]{ENDPOINT,PROTOCOL,HEADERS,INSECURE,TIMEOUT,COMPRESSION},
// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
// OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT (whole
// milliseconds), OTEL_EXPORTER_PROMETHEUS_HOST and _PORT, and, for the
// resource [Setup] builds, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
// otelred's own are OTELRED_HISTOGRAM, OTELRED_CARDINALITY_LIMIT,
// OTELRED_OTELHTTP_METRICS and OTELRED_OBJECTIVES (the objectives file from
// which [Setup] derives the buckets).
// Each [Config] field's documentation names its variables. A malformed
// variable is an error wrapping [ErrInvalidConfig] that names it; the
// variables of an exporter that does not run are not read.
//
// # Precedence
//
// As in the OpenTelemetry SDK: defaults, then the environment, then
// explicit configuration. A [Config] field left at its zero value is filled
// from its variable, and one that is set wins over it; [Config.WithEnv]
// returns the result, and [New] and [Setup] apply it themselves. Where a
// signal-specific variable (OTEL_EXPORTER_OTLP_METRICS_*) and a generic one
// are both set, the signal-specific one wins.
//
// # Resource
//
// [Setup]'s resource names the service (service.name) and this instance of
// it: service.instance.id is a random UUID drawn at each Setup, unless
// OTEL_RESOURCE_ATTRIBUTES or [Config.ResourceAttributes] sets one, so that
// replicas pushing OTLP to one backend keep series of their own
// (Prometheus 3's OTLP receiver makes it the instance label, and
// service.name the job). docs/fleets.md has stable ids and the other
// resource attributes.
//
// # Prometheus
//
// The Prometheus exporter registers on a private registry unless
// [Prometheus.Registerer] names one, so two Setups in one process do not
// collide; a Registerer serves one exporter at a time, and a second New on
// it fails. Series carry their own labels only (scope labels are opt-in),
// so the Classic profile's metrics have exactly the tutorial's names and
// labels, and target_info carries the resource. The handler negotiates
// OpenMetrics, which keeps exemplars (trace ids on histogram buckets for
// requests made under a sampled span), and serves the text format 0.0.4 to
// scrapers that do not ask for it. A metric that fails to gather is
// reported through otel.Handle, and the rest of the scrape is served.
//
// A standalone listener, [Prometheus.ListenAddr] or
// OTEL_EXPORTER_PROMETHEUS_HOST/_PORT (either one alone is enough; the
// other defaults to localhost or 9464), binds in New and Setup, so a port
// in use is an error there, and is closed by Shutdown. Setup's also serves
// the debug page (below) at /debug/red: the endpoints for operators, off
// the application's port. Without one, mount the handler on your own
// server.
//
// # Debug page
//
// [Provider.DebugHandler] serves a live RED page, as /debug/pprof does for
// profiles: per route, peer and operation, the rate, error ratio, p50, p99
// and requests in flight, refreshed every second (package
// [github.com/otelred/otelred/exporter/redpage]). It reads the Prometheus
// exporter's reader, so it costs nothing per request; without that
// exporter, [Config.DebugPage] adds a reader for it. The standalone
// Prometheus listener serves it; otherwise nothing does unless you mount
// it.
//
// # OTLP
//
// The OTLP exporter pushes every [OTLP.Interval] over "grpc" or
// "http/protobuf" (the default), to an endpoint given as a URL whose scheme
// decides transport security. Per the specification, the generic
// OTEL_EXPORTER_OTLP_ENDPOINT gets "/v1/metrics" appended for
// http/protobuf, while OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as-is.
// Headers follow the specification's "key=value,..." format with
// URL-encoded values; they are secrets, and no error or log prints them.
// The SDK's exporters read every OTEL_EXPORTER_OTLP_* variable themselves,
// and log one they cannot use, value and all: each is checked before they
// do, those otelred does not use as well (a generic variable shadowed by
// its signal-specific one), and a bad one is an error from New and Setup.
// An export error that carries a header value or the endpoint's password,
// as when a collector echoes the credential it refuses, reaches
// otel.Handle and the callers of ForceFlush and Shutdown with it replaced
// by REDACTED.
//
// Exports run in the background: a collector that is down, hangs or
// answers 503 never slows a request. Each export is bounded by
// [OTLP.Timeout]; its error goes to otel.Handle; memory does not grow with
// failed exports, and with cumulative temporality (the default) the next
// export that succeeds carries the totals. [Provider.Shutdown] flushes a
// last export, within its context's deadline and OTLP.Timeout; when that
// push fails, its error wraps [ErrLastPushFailed] and says what was lost:
// the measurements since the last push that succeeded, and when that was.
//
// # Buckets and objectives
//
// [Setup] gives otelred's duration histograms of both naming profiles
// their buckets, so that they land on whichever profile the middleware
// records with: [Config.Boundaries], or each profile's defaults. Given the
// service level objectives that redgen reads ([Objectives], from
// [Config.ObjectivesFile] or OTELRED_OBJECTIVES, decoded by
// [ParseObjectives], or [Config.Objectives]), it adds every latency
// threshold to the defaults, exactly, or, when Boundaries are given,
// checks that each threshold is one of them: so one file yields the
// buckets, the rules, the alerts and the dashboard, and a latency SLO
// always reads one bucket. [Config.Naming] decides which profile the live
// RED page reads. See docs/dashboards-and-slos.md.
//
// An export is sent in several requests when it would be larger than
// 2 MiB, by an estimate never below its encoded size, so that a collector
// at gRPC's default 4 MiB message limit takes it: each request carries
// the resource and whole data points, each point goes in exactly one
// request, and one that fails does not stop the others.
//
// # Runtime metrics
//
// [Config.RuntimeMetrics] (off by default) starts the Go runtime
// instrumentation of go.opentelemetry.io/contrib/instrumentation/runtime on
// the provider [Setup] builds, never on the global one: goroutines
// (go_goroutines), memory in use by kind (go_memory_used_bytes),
// heap allocations (go_memory_allocated_bytes_total,
// go_memory_allocations_total), the GC's heap goal
// (go_memory_gc_goal_bytes), GOMAXPROCS (go_processor_limit), GOGC and, when
// GOMEMLIMIT is set, the memory limit. They are observed at collection
// time, at most every 15 s, so they cost nothing per request. The
// semantic conventions name the goroutine gauge go.goroutine.count, which
// promtool's lint rejects for its _count suffix; Setup renames it
// go.goroutines, the name client_golang's Go collector uses, so the scrape
// passes the lint.
//
// # Native histograms
//
// [Config.Histogram] "native" (or OTELRED_HISTOGRAM=native) gives otelred's
// duration histograms a base-2 exponential aggregation
// ([views.Exponential]) instead of explicit buckets. The handler serves
// them as Prometheus native histograms when the scrape negotiates the
// protobuf format, as Prometheus 3 does with scrape_native_histograms: true
// in its configuration and Prometheus 2 with
// --enable-feature=native-histograms; OTLP pushes them as exponential
// histograms. The text formats carry only their count and sum. See
// docs/native-histograms.md.
//
// # Cardinality
//
// [Config.CardinalityLimit] is otelred's per-instrument limit, which
// otelred reads from the [Provider] ([Provider.CardinalityLimit]). [Setup]
// sets the SDK's own per-instrument limit to at least that limit plus 3
// (otelred's two overflow series and the SDK's own), and never below the
// SDK's default of 2000, so that what does not fit goes to otelred's
// overflow series, where failures stay apart, rather than to the SDK's.
package exporter
