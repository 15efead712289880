// Package redpage serves a live RED page, as net/http/pprof serves
// /debug/pprof: one HTML page that shows, for every route, the request
// rate, the error ratio, the p50 and p99 latency and the requests in
// flight, with a chart of rate, error ratio and p99 over the last minutes,
// refreshed every second.
//
// With [github.com/otelred/otelred/exporter.Setup], mount the Provider's
// handler on your own server:
//
//	mux.Handle("GET /debug/red", provider.DebugHandler())
//
// With a MeterProvider of your own, give the page a cumulative reader of
// it and the profile otelred records with:
//
//	reader := sdkmetric.NewManualReader()
//	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), ...)
//	mux.Handle("GET /debug/red", redpage.New(reader, otelred.Semconv))
//
// # Sections
//
// The page has a section for each kind of call that has data: the HTTP
// server (a row per route), the HTTP client (a row per peer), operations
// (a row per name) and gRPC server calls of package otelredgrpc (a row per
// method). The names of the instruments and attributes come from the
// profile ([otelred.Profile.Names], [otelred.Profile.ClientNames] and
// [otelred.Profile.OperationNames]), and only otelred's instrumentation
// scopes are read, so that same-named instruments of otelhttp are not
// counted twice.
//
// Requests and latency come from the duration histogram, explicit or
// exponential. Failures are the requests with an error type (Semconv) or
// the errors counter (Classic). In-flight requests are the active
// up-down counter: per row where the profile labels it so (Classic's
// routes, operations, gRPC methods), otherwise for the section alone
// (Semconv counts server requests in flight by method).
//
// # Numbers
//
// The table's numbers cover the last [Window]: the differences of the
// cumulative counts between the newest collection and the oldest one kept,
// divided by the seconds between them, as Prometheus's rate does. A count
// that went down counts from zero. Quantiles are interpolated linearly
// inside the bucket that holds the rank, as histogram_quantile does: the
// first explicit bucket starts at 0, a rank in the +Inf bucket gives the
// highest finite bound, and a rank in an exponential histogram's zero
// bucket gives 0. The chart has one point per collection, for all the rows
// of a section together.
//
// The feed behind the page is JSON, at the same path with the query
// format=json. Numbers that do not exist yet (a rate before the second
// collection, a ratio or quantile of no requests) are null.
//
// Two kinds of row are not one route, peer, operation or method, and the
// feed gives them a note that the page shows beside the name: the row of
// the requests that matched no route (named "" in the Semconv profile,
// which records no http.route for them, and shown as "(no route)";
// "unmatched" in Classic), and the row of the overflow series
// (otel.metric.overflow=true, named "overflow"), which holds the
// attribute sets past otelred's cardinality limit and names the options
// that raise it.
//
// # Readers and cost
//
// The page reads the instruments in process, from a reader of the same
// MeterProvider, so it shows what the exporters get, with no bookkeeping
// of its own. Every reader aggregates each measurement on its own, so a
// reader added for the page alone doubles the cost of recording; the
// exporter package's Provider.DebugHandler reads the Prometheus
// exporter's reader instead, and adds one only when asked to
// ([github.com/otelred/otelred/exporter.Config.DebugPage]).
//
// The reader must keep cumulative counts. Collecting a reader with delta
// temporality would take the counts from the exporter it feeds; the page
// reports such a reader and never collects it again.
//
// Nothing runs in the background. The handler collects when the feed is
// asked for, at most once per [Interval] whatever the number of viewers,
// so the page costs nothing while no one looks at it, and its chart starts
// when it is first opened.
//
// # Memory
//
// The handler keeps the collections of the last [Window], each summed per
// row, and [HistoryLen] chart points per section. The number of rows is
// bounded by otelred's cardinality limit, so memory is bounded too.
//
// # Security
//
// The page loads nothing but its own feed: its script and style are
// embedded in the binary and inline, and its Content-Security-Policy
// allows only those, by hash, and fetches to its own origin. Route
// templates, peers and operation names are data: the feed is JSON (with
// <, > and & escaped), and the page puts them in the document as text,
// never as markup. The page shows the service's traffic to whoever reaches
// it: mount it where only operators can, as you would /debug/pprof.
package redpage
