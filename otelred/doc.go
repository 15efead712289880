// Package otelred records RED metrics (rate, errors and duration) and the
// number of requests in flight through the OpenTelemetry metric API: for
// HTTP servers ([New]), HTTP clients ([NewTransport]) and any other
// operation, such as a job, a database call or a queue consumer
// ([NewOperations]). The otelredgrpc package does the same for gRPC
// servers.
//
// It sees only the API (go.opentelemetry.io/otel/metric), never the SDK, so
// it takes any [metric.MeterProvider] (by default, the global one) and drops
// into an OpenTelemetry setup a service already has:
//
//	mw, err := otelred.New(otelred.WithMeterProvider(provider))
//	if err != nil {
//		return err
//	}
//	http.ListenAndServe(addr, mw(mux))
//
// # Metrics
//
// A [Profile] names the instruments. [Semconv], the default, follows the
// OpenTelemetry HTTP semantic conventions ([SemconvVersion]), with every
// attribute they require:
//
//   - http.server.request.duration, a histogram in seconds, with
//     http.request.method, url.scheme, http.route (only when a route
//     matched, as the conventions say), http.response.status_code (only
//     when a status was sent: a handler that panicked before sending one
//     has error.type "panic" alone), network.protocol.version and, on
//     failed requests only, error.type;
//   - http.server.active_requests, with http.request.method and url.scheme.
//
// url.scheme is "https" when the request came over TLS (r.TLS is set) and
// "http" otherwise; forwarding headers are never read.
// network.protocol.version is "1.0", "1.1", "2" or "3", and is left out for
// any other version a hand-built request may carry.
//
// Rate is the histogram's count, errors are the count where error.type is
// set, duration comes from its buckets. Through the Prometheus exporter they
// become http_server_request_duration_seconds_{bucket,sum,count} and
// http_server_active_requests.
//
// [Classic] mirrors the RED tutorial's four metrics exactly:
// http_requests_total, http_request_duration_seconds, http_errors_total and
// http_requests_active, labelled method, path, status_code and service.
//
// Clients and operations have instruments of their own in each profile
// ([Profile.ClientNames], [Profile.OperationNames]): with Semconv,
// http.client.request.duration and operation.duration; with Classic,
// http_client_requests_total, operations_total and their kin. They share the
// buckets, views and SLO machinery of the server's.
//
// Request counts and in-flight gauges are asynchronous instruments read from
// otelred's own atomic counters when metrics are collected, so the only SDK
// call per request is the histogram record.
//
// # Cardinality
//
// No label value comes from raw request input. Methods outside the ten
// standard ones (RFC 9110's, PATCH and QUERY) become _OTHER; the variable
// OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS, a comma-separated list of at
// most 15 case-sensitive methods read when a middleware or Transport is
// built, replaces them, as the semantic conventions ask. Routes are
// templates ("/users/{id}") read from [http.Request.Pattern] or
// [WithRoute]; requests that match no route have no http.route in
// Semconv, and share the path [Unmatched] in Classic. Request hosts, user agents, query strings and
// raw paths are never recorded; a client's server.address is the host it
// calls, bounded by [WithHosts]. Each attribute set is built once and kept in a cache
// with a hard limit ([WithCardinalityLimit]); what does not fit is recorded
// in an overflow series, so memory stays bounded and no request is lost.
//
// Attributes of a service's own, such as a tenant, are declared up front
// with [WithAttribute] and set per request with [SetAttribute] (server) or
// [ContextWithAttribute] (client); their values are bounded by an
// allow-list or by the same limit.
//
// Each value is bounded too. Every string that comes from outside the
// program (attribute values, hosts, routes, operation and gRPC method
// names) is made valid UTF-8, each run of invalid bytes becoming U+FFFD,
// before it is stored: protobuf refuses invalid UTF-8, and a single such
// value would make every OTLP export fail. A value longer than
// [MaxValueLength] (128 bytes) is recorded as "_OTHER", never cut short.
// Both happen before the value is looked up, so values that differ only in
// their invalid bytes share one series, and no long value is ever kept.
// Valid values cost nothing; configured values that break either rule are
// an error from the constructor.
//
// # Middleware ordering
//
// The route is read from the request after the wrapped handler returns, so
// the middleware can wrap the router itself (mw(mux), or first in chi's
// r.Use). A middleware between otelred and the router that replaces the
// request (r.WithContext, as chi's middleware.RequestID does) hides the
// router's pattern from otelred, and every request is then recorded with
// no route, which otelred reports ([ErrNoRoute]): put otelred inside it, or
// use [WithRoute] (with chi, read chi.RouteContext(r.Context()).RoutePattern(),
// which survives such a middleware). Two otelred middlewares around one
// request, on one MeterProvider and in one profile, count it once: the
// outer one records it, and the inner one passes it through. [http.TimeoutHandler] is such a middleware: wrap each
// route's handler in it (mux.Handle(p, http.TimeoutHandler(h, ...))), not
// the whole mux, and keep otelred outside it, so that a timed-out request
// is recorded with the 503 the client gets.
//
// Put a tracing middleware (otelhttp.NewHandler) outside otelred, so the
// request context otelred records with carries the span and the SDK can
// attach exemplars, with the span's trace id, to the duration histogram.
// Likewise on the client: pass the Transport [NewTransport] returns to
// otelhttp.NewTransport, not the other way round. Put a panic-recovering
// middleware outside otelred too: otelred records the panic and lets it
// continue; a recoverer inside it would turn the panic into whatever status
// it writes.
//
// # Warnings
//
// A set-up that would record nothing, too little or too much is reported
// once through [otel.Handle], with an error that wraps one of
// [ErrNoMeterProvider] (no provider, and the global one still
// OpenTelemetry's default), [ErrNoRoute] (successes keep coming back with
// no route), [ErrCountedTwice] (otelhttp may record the same histogram
// into the same provider) and [ErrCardinalityLimit] (the limit folded a
// new attribute set into the overflow series), and that names the fix and
// a section of docs/middleware.md. The request path never fails because of
// them.
//
// # Exporters
//
// otelred creates instruments only. The exporter package turns configuration
// into metric readers (Prometheus, OTLP, console) and the views package sets
// the histogram's buckets; both use the SDK, which this package never
// imports.
package otelred
