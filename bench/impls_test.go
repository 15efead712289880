package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	slokprom "github.com/slok/go-http-metrics/metrics/prometheus"
	slok "github.com/slok/go-http-metrics/middleware"
	slokstd "github.com/slok/go-http-metrics/middleware/std"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/otelred"
)

// pattern and path are the route every benchmark serves, and the request.
const (
	pattern = "GET /users/{id}"
	route   = "/users/{id}"
	path    = "/users/42"
)

// buckets are the duration boundaries every histogram here uses.
var buckets = otelred.Semconv.Boundaries()

// impl is one way of instrumenting the same ServeMux.
type impl struct {
	name string
	// wrap returns mux instrumented, with its metrics state released at the
	// end of tb. status is what mux's only handler writes.
	wrap func(tb testing.TB, mux *http.ServeMux, status int) http.Handler
}

// The implementation names, as they appear in benchmark names and tables.
const (
	bare           = "bare"
	otelredSemconv = "otelred"
	otelredClassic = "otelred-classic"
	classicRoute   = "otelred-classic-route"
	otelhttpName   = "otelhttp"
	promhttpName   = "promhttp"
	slokName       = "slok"
	otelfloor      = "otelfloor"
)

// impls is every implementation, in the order of the tables.
var impls = []impl{
	{bare, func(_ testing.TB, mux *http.ServeMux, _ int) http.Handler { return mux }},
	{otelredSemconv, func(tb testing.TB, mux *http.ServeMux, _ int) http.Handler {
		return withOtelred(tb, mux, otelred.Semconv)
	}},
	{otelredClassic, func(tb testing.TB, mux *http.ServeMux, _ int) http.Handler {
		return withOtelred(tb, mux, otelred.Classic)
	}},
	{classicRoute, withClassicInRoute},
	{otelhttpName, withOtelhttp},
	{promhttpName, withPromhttp},
	{slokName, withSlok},
	{otelfloor, withFloor},
}

// newMux is the application every implementation instruments: one route
// whose handler writes status and nothing else.
func newMux(status int) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(pattern, writeStatus(status))
	return mux
}

// writeStatus is the route's handler.
func writeStatus(status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
}

// newProvider is an SDK MeterProvider with a ManualReader, shut down at the
// end of tb: the reader keeps every instrument's aggregation live, as a
// Prometheus or OTLP reader would, without exporting during the benchmark.
func newProvider(tb testing.TB) *sdkmetric.MeterProvider {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tb.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

func withOtelred(tb testing.TB, mux *http.ServeMux, p otelred.Profile) http.Handler {
	return newOtelred(tb, p)(mux)
}

func newOtelred(tb testing.TB, p otelred.Profile) func(http.Handler) http.Handler {
	mw, err := otelred.New(otelred.WithMeterProvider(newProvider(tb)), otelred.WithProfile(p), otelred.WithService("bench"))
	if err != nil {
		tb.Fatal(err)
	}
	return mw
}

// withClassicInRoute is the layout that suits the Classic profile on a
// ServeMux: the middleware inside the route, on a ServeMux with the same
// route and handler as newMux's, rather than around the mux. The route is
// then known before serving, where Classic's in-flight gauge needs it,
// without asking the mux a second time.
func withClassicInRoute(tb testing.TB, _ *http.ServeMux, status int) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(pattern, newOtelred(tb, otelred.Classic)(writeStatus(status)))
	return mux
}

// withOtelhttp records metrics only: the tracer is a no-op, and so is the
// default propagator.
func withOtelhttp(tb testing.TB, mux *http.ServeMux, _ int) http.Handler {
	return otelhttp.NewHandler(mux, "server",
		otelhttp.WithMeterProvider(newProvider(tb)),
		otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()))
}

// withPromhttp is client_golang's own RED: a gauge of requests in flight, a
// counter and a histogram by code, method and route, on a private registry.
func withPromhttp(_ testing.TB, mux *http.ServeMux, _ int) http.Handler {
	reg := prometheus.NewRegistry()
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "http_requests_in_flight", Help: "Requests being served.",
	})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "Requests served.",
	}, []string{"code", "method", "route"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "Request latency.", Buckets: buckets,
	}, []string{"code", "method", "route"})
	reg.MustRegister(inflight, requests, duration)
	byRoute := promhttp.WithLabelFromRequest("route", routeOf)
	return promhttp.InstrumentHandlerInFlight(inflight,
		promhttp.InstrumentHandlerCounter(requests,
			promhttp.InstrumentHandlerDuration(duration, mux, byRoute), byRoute))
}

// routeOf is the route template ServeMux matched, as otelred records it.
func routeOf(r *http.Request) string {
	if i := strings.IndexByte(r.Pattern, '/'); i > 0 {
		return r.Pattern[i:]
	}
	return r.Pattern
}

// withSlok wraps the mux as go-http-metrics' std package is meant to be
// used, on a private registry. With no handler ID, it labels requests by
// their raw URL path (one series here, since the path never changes); a
// route label needs one std.Handler per route inside the mux, at the same
// cost per request.
func withSlok(_ testing.TB, mux *http.ServeMux, _ int) http.Handler {
	mdlw := slok.New(slok.Config{
		Recorder: slokprom.NewRecorder(slokprom.Config{
			Registry:        prometheus.NewRegistry(),
			DurationBuckets: buckets,
		}),
	})
	return slokstd.Handler("", mdlw, mux)
}

// withFloor is the least an OpenTelemetry-based middleware can cost: two
// clock readings and one histogram record with options built in advance.
// It does not wrap the writer: it records the attribute set otelred's
// Semconv profile records for the status it knows mux writes.
func withFloor(tb testing.TB, mux *http.ServeMux, status int) http.Handler {
	return floorOn(tb, newProvider(tb), mux, status)
}

// floorOn is withFloor on the MeterProvider mp.
func floorOn(tb testing.TB, mp metric.MeterProvider, mux *http.ServeMux, status int) http.Handler {
	hist, err := mp.Meter("floor").Float64Histogram("http.server.request.duration",
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...))
	if err != nil {
		tb.Fatal(err)
	}
	// The attributes otelred's Semconv profile records for this request,
	// an HTTP/1.1 request in the clear (as httptest.NewRequest makes).
	kv := []attribute.KeyValue{
		attribute.String("http.request.method", http.MethodGet),
		attribute.String("http.route", route),
		attribute.Int("http.response.status_code", status),
		attribute.String("network.protocol.version", "1.1"),
		attribute.String("url.scheme", "http"),
	}
	if status >= http.StatusInternalServerError {
		kv = append(kv, attribute.String("error.type", strconv.Itoa(status)))
	}
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		mux.ServeHTTP(w, r)
		hist.Record(r.Context(), time.Since(start).Seconds(), opts...)
	})
}

// newRequest is the request every benchmark serves, built once.
func newRequest() *http.Request {
	return httptest.NewRequest(http.MethodGet, path, nil)
}

// serveOnce serves req on h as if it had just arrived: ServeMux writes the
// matched pattern into the request it serves, so it is cleared first.
func serveOnce(h http.Handler, req *http.Request) {
	req.Pattern = ""
	h.ServeHTTP(httptest.NewRecorder(), req)
}

// warm serves a few requests so caches are filled before anything is
// measured.
func warm(h http.Handler, req *http.Request) {
	for range 16 {
		serveOnce(h, req)
	}
}
