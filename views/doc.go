// Package views builds OpenTelemetry SDK views for RED metrics: the bucket
// boundaries of otelred's duration histogram, boundaries placed on SLO
// thresholds, attribute filters that keep cardinality bounded, and views that
// re-bucket and trim otelhttp's instruments for services that already use
// otelhttp.
//
// Views belong to the SDK's MeterProvider, not to the instrumentation, so
// this package imports the SDK ([go.opentelemetry.io/otel/sdk/metric]) and
// the otelred package never imports it. A service registers the views once,
// where it builds its MeterProvider:
//
//	b, err := views.SLOBoundaries(views.Default(otelred.Semconv), 0.3)
//	if err != nil { … }
//	red, err := views.RED(otelred.Semconv, b)
//	if err != nil { … }
//	hv, err := views.Otelhttp(b) // only if the service also uses otelhttp
//	if err != nil { … }
//	mp := metric.NewMeterProvider(
//		metric.WithReader(reader),
//		metric.WithView(append(red, hv...)...),
//	)
//
// # Buckets
//
// [Default] returns the boundaries otelred advises for each profile: the
// OpenTelemetry advice (5 ms to 10 s) for Semconv, the tutorial's SLA buckets
// (5 ms to 5 s) for Classic. [SLOBoundaries] adds SLO latency thresholds to
// them, each one exactly, so the share of requests within the SLO is one
// bucket's count divided by the total, not an interpolation; the
// objectives file's type, exporter.Objectives, lists the thresholds and
// adds them (its Boundaries method).
//
// The SDK's own check of explicit boundaries is weak: [metric.NewView] only
// checks that they increase strictly, and when they do not it logs "not
// using aggregation with view" at error level and keeps the view without its
// aggregation, so the instrument quietly falls back to its bucket advice or
// the reader's default. NaN, ±Inf, negative values and an empty slice pass
// unchecked. Here every constructor calls [Validate] first and returns an
// error wrapping [ErrInvalidBoundaries] that names the bad element.
//
// A view with an explicit aggregation, as [Duration] and [Otelhttp] build,
// overrides the bucket advice an instrument is created with
// (metric.WithExplicitBucketBoundaries): the SDK uses the advice only in
// place of the reader's default explicit-bucket aggregation, that is, when no
// matching view sets an aggregation. [Drop] and [Keep] set none, so the
// advice survives them.
//
// # Cardinality
//
// Every distinct attribute set is a series, in the SDK's memory and in the
// backend. [Drop] removes listed keys (a deny-list) and [Keep] keeps only
// listed keys (an allow-list) before aggregation; measurements that then
// carry the same attributes share one series. Keys removed this way may
// still appear on exemplars, where the SDK keeps the filtered attributes;
// exemplars add no series.
//
// The SDK caps each instrument at 2000 attribute sets by default and sends
// the rest to one series labelled otel.metric.overflow=true, which never
// frees under cumulative temporality. otelred bounds its own attributes
// below that cap; the filters here are for the instruments of other
// libraries.
//
// # View precedence
//
// The SDK does not merge views. For each new instrument it runs every
// registered view in registration order ([metric.WithView] appends), and
// each matching view yields a stream; if no view matches, the instrument gets
// its default stream. Streams are told apart, within one instrumentation
// scope and one reader, by name (case-insensitively), description, unit,
// kind and number type, but not by aggregation or attribute filter. So when
// a later view yields the same stream as an earlier one (the usual case: a
// view that sets only an aggregation or a filter keeps the instrument's
// name, description and unit), the earlier view's aggregation and filter are
// used and the later view is ignored, with no log at any verbosity. If the
// later stream differs in description or unit, both are exported under the
// same name and the SDK logs "duplicate metric stream definitions" at
// warning level (logr V(1), which the SDK's default logger does not show).
//
// Two rules follow for the views of this package:
//
//   - Register [RED] and [Otelhttp] before any [Drop] or [Keep]. They match
//     by instrumentation scope, so the filters, which match by name in every
//     scope, then reach only the instruments those views do not cover. A
//     filter registered first would silently take the buckets away.
//   - One instrument gets buckets or a filter from this package, not both.
//     To re-bucket and filter the same instrument, build a single view with
//     [metric.NewView], setting both Aggregation and AttributeFilter in its
//     [metric.Stream], as [Otelhttp] does.
//
// Renames have a trap of their own: [metric.NewView] with "*" or "?" in the
// instrument name and a non-empty Stream.Name returns a view that matches
// nothing, and says so only in a log line ("dropping view", error "name
// replacement for multiple instruments"). No view here renames, which is why
// [Drop] and [Keep] may take wildcards.
//
// # otelhttp
//
// otelhttp (v0.72) records http.server.request.duration, the very name
// otelred's Semconv profile uses, in its own instrumentation scope, with the
// same advice buckets, plus request and response body-size histograms, and
// http.client.request.duration and a request body-size histogram from its
// Transport. On the server it sets server.address and server.port from the
// Host header, which any client controls: each new Host value is a new
// series, up to the SDK's overflow cap.
//
// [Otelhttp] matches otelhttp's scope, never otelred's, and gives otelhttp's
// durations the requested buckets while removing server.address,
// server.port and every other request-derived key. [OtelhttpWithoutBodySize]
// also drops the body-size histograms. Both leave otelred's instruments
// alone, and [Duration] leaves otelhttp's alone, so a service can run both
// instrumentations side by side.
//
// Side by side, each request is counted twice, once per scope, and through
// the Prometheus exporter both streams land in one family,
// http_server_request_duration_seconds. With scope labels (otel_scope_name)
// they stay apart; without them, a sum over the family counts every request
// twice, and two streams trimmed to the same labels (a [Keep] by name, which
// reaches both scopes) are the same series twice, which fails the whole
// scrape ("was collected before with the same name and label values").
// That is why [RED] drops otelhttp's duration and body-size histograms: a
// service that registers it (or uses exporter.Setup, which does) and keeps
// otelhttp for traces counts each request once. [WithoutOtelhttp] drops
// every instrument otelhttp creates. To keep otelhttp's histograms beside
// otelred's, register [Otelhttp]'s views too, and tell the two apart by
// scope in every query.
package views
