package main

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// traceIDHeader is the response header that carries, with -tracing, the
// trace id of the request's span: the id to look for in the exemplars of
// /metrics (in OpenMetrics) and of Prometheus.
const traceIDHeader = "X-Trace-Id"

// tracing is the demo's in-process tracing, with -tracing: an SDK
// TracerProvider that samples every request and exports nowhere (its spans
// exist only so that the metrics can carry their trace ids as exemplars),
// and otelhttp around otelred, on the server and on the client.
type tracing struct {
	provider *sdktrace.TracerProvider
	options  []otelhttp.Option
}

func newTracing(res *resource.Resource) *tracing {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithResource(res),
	)
	return &tracing{
		provider: tp,
		options: []otelhttp.Option{
			otelhttp.WithTracerProvider(tp),
			// otelred records the metrics; otelhttp's would count every
			// request a second time.
			otelhttp.WithMeterProvider(noop.NewMeterProvider()),
			// The outbound call carries the trace to the server it calls
			// (the demo itself), which continues it.
			otelhttp.WithPropagators(propagation.TraceContext{}),
		},
	}
}

// handler puts otelhttp's server span around h, which is otelred's
// middleware around the routes: otelred then records with a context that
// holds the span, and the SDK keeps its trace id as the exemplar. Every
// traced response carries the trace id in X-Trace-Id. Scrapes of /metrics
// are not traced.
func (t *tracing) handler(h http.Handler) http.Handler {
	return otelhttp.NewHandler(withTraceID(h), "example",
		append(t.options, otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/metrics" }))...)
}

// transport puts otelhttp's client span around rt, which is otelred's
// Transport: otelhttp.NewTransport(otelred.NewTransport(base)).
func (t *tracing) transport(rt http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(rt, t.options...)
}

func (t *tracing) shutdown(ctx context.Context) error { return t.provider.Shutdown(ctx) }

// withTraceID writes the trace id of the request's span, if it has one,
// in the X-Trace-Id response header.
func withTraceID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			w.Header().Set(traceIDHeader, sc.TraceID().String())
		}
		next.ServeHTTP(w, r)
	})
}
