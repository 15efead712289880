package bench

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/otelred"
)

// The client benchmarks send one request through a RoundTripper whose base
// answers at once with a response built in advance, so that only the
// instrumentation is measured: a real call adds the same connection, write
// and read whatever wraps it. The implementations are
//
//   - bare: the base alone;
//   - otelred, otelred-classic: otelred.NewTransport, Semconv and Classic
//     profiles, on an SDK MeterProvider with a ManualReader;
//   - otelhttp: otelhttp.NewTransport, metrics only (a no-op tracer);
//   - otelfloor: two clock readings and one Float64Histogram.Record with
//     the attribute set otelred's Semconv profile records, built in
//     advance.
//
// The operation benchmarks start and end one operation: bare does
// nothing, otelred and otelred-classic are Operations.Start and
// Operation.End, and otelfloor is two clock readings and one Record, as
// above.

// clientURL is the URL every client benchmark requests.
const clientURL = "http://api.example:8080/users/42"

// base answers every request with resp, its body reset: otelhttp wraps
// the body of the response it returns, so a shared response would grow a
// chain of wrappers.
type base struct{ resp *http.Response }

func (b *base) RoundTrip(*http.Request) (*http.Response, error) {
	b.resp.Body = http.NoBody
	return b.resp, nil
}

func newBase(status int) *base {
	return &base{resp: &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}}
}

// clientImpl is one way of instrumenting the same base.
type clientImpl struct {
	name string
	wrap func(tb testing.TB, base http.RoundTripper, status int) http.RoundTripper
}

var clientImpls = []clientImpl{
	{bare, func(_ testing.TB, base http.RoundTripper, _ int) http.RoundTripper { return base }},
	{otelredSemconv, func(tb testing.TB, base http.RoundTripper, _ int) http.RoundTripper {
		return withOtelredTransport(tb, base, otelred.Semconv)
	}},
	{otelredClassic, func(tb testing.TB, base http.RoundTripper, _ int) http.RoundTripper {
		return withOtelredTransport(tb, base, otelred.Classic)
	}},
	{otelhttpName, func(tb testing.TB, base http.RoundTripper, _ int) http.RoundTripper {
		return otelhttp.NewTransport(base,
			otelhttp.WithMeterProvider(newProvider(tb)),
			otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()))
	}},
	{otelfloor, withFloorTransport},
}

func withOtelredTransport(tb testing.TB, base http.RoundTripper, p otelred.Profile) http.RoundTripper {
	rt, err := otelred.NewTransport(base, otelred.WithMeterProvider(newProvider(tb)), otelred.WithProfile(p), otelred.WithService("bench"))
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// roundTripFunc makes a function a RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// withFloorTransport is the least an OpenTelemetry-based RoundTripper can
// cost: two clock readings and one histogram record with options built in
// advance, for the attribute set otelred's Semconv profile records.
func withFloorTransport(tb testing.TB, base http.RoundTripper, status int) http.RoundTripper {
	hist, err := newProvider(tb).Meter("floor").Float64Histogram("http.client.request.duration",
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...))
	if err != nil {
		tb.Fatal(err)
	}
	kv := []attribute.KeyValue{
		attribute.String("http.request.method", http.MethodGet),
		attribute.String("server.address", "api.example"),
		attribute.Int("server.port", 8080),
		attribute.Int("http.response.status_code", status),
	}
	if status >= http.StatusBadRequest {
		kv = append(kv, attribute.String("error.type", "503"))
	}
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		start := time.Now()
		resp, err := base.RoundTrip(r)
		hist.Record(r.Context(), time.Since(start).Seconds(), opts...)
		return resp, err
	})
}

// newClientRequest is the request every client benchmark sends, built once.
func newClientRequest(tb testing.TB) *http.Request {
	req, err := http.NewRequest(http.MethodGet, clientURL, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// roundTripOnce sends req through rt, as http.Client does, and closes the
// body.
func roundTripOnce(tb testing.TB, rt http.RoundTripper, req *http.Request) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		tb.Fatal(err)
	}
	_ = resp.Body.Close()
}

// BenchmarkClient is the cost of one successful client request through
// each implementation. "Added" cost is an implementation's ns/op minus
// bare's from the same run.
func BenchmarkClient(b *testing.B) { benchClient(b, http.StatusOK) }

// BenchmarkClientError is BenchmarkClient on the error path: the server
// answers 503.
func BenchmarkClientError(b *testing.B) { benchClient(b, http.StatusServiceUnavailable) }

func benchClient(b *testing.B, status int) {
	for _, im := range clientImpls {
		b.Run(im.name, func(b *testing.B) {
			rt := im.wrap(b, newBase(status), status)
			req := newClientRequest(b)
			for range 16 { // warm the caches
				roundTripOnce(b, rt, req)
			}
			b.ReportAllocs()
			for b.Loop() {
				roundTripOnce(b, rt, req)
			}
		})
	}
}

// operationName is the operation every operation benchmark runs.
const operationName = "orders.process"

// errOutOfStock is the failure of BenchmarkOperationError, a sentinel
// built once, as a service's are.
var errOutOfStock = errors.New("out of stock")

// opImpl is one way of recording an operation; run records one that ends
// with err.
type opImpl struct {
	name string
	new  func(tb testing.TB, err error) func(ctx context.Context)
}

var opImpls = []opImpl{
	{bare, func(testing.TB, error) func(context.Context) { return func(context.Context) {} }},
	{otelredSemconv, func(tb testing.TB, err error) func(context.Context) {
		ops, e := otelred.NewOperations(otelred.WithMeterProvider(newProvider(tb)), otelred.WithService("bench"))
		if e != nil {
			tb.Fatal(e)
		}
		return func(ctx context.Context) { ops.Start(ctx, operationName).End(err) }
	}},
	{otelredClassic, func(tb testing.TB, err error) func(context.Context) {
		ops, e := otelred.NewOperations(otelred.WithMeterProvider(newProvider(tb)), otelred.WithProfile(otelred.Classic), otelred.WithService("bench"))
		if e != nil {
			tb.Fatal(e)
		}
		return func(ctx context.Context) { ops.Start(ctx, operationName).End(err) }
	}},
	{otelfloor, func(tb testing.TB, err error) func(context.Context) {
		hist, e := newProvider(tb).Meter("floor").Float64Histogram("operation.duration",
			metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...))
		if e != nil {
			tb.Fatal(e)
		}
		kv := []attribute.KeyValue{attribute.String("operation.name", operationName)}
		if err != nil {
			kv = append(kv, attribute.String("error.type", "_OTHER"))
		}
		opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
		return func(ctx context.Context) {
			start := time.Now()
			hist.Record(ctx, time.Since(start).Seconds(), opts...)
		}
	}},
}

// BenchmarkOperation is the cost of one operation, from Start to End,
// that succeeds.
func BenchmarkOperation(b *testing.B) { benchOperation(b, nil) }

// BenchmarkOperationError is BenchmarkOperation for an operation that
// fails with a sentinel error.
func BenchmarkOperationError(b *testing.B) { benchOperation(b, errOutOfStock) }

func benchOperation(b *testing.B, err error) {
	ctx := context.Background()
	for _, im := range opImpls {
		b.Run(im.name, func(b *testing.B) {
			run := im.new(b, err)
			for range 16 {
				run(ctx)
			}
			b.ReportAllocs()
			for b.Loop() {
				run(ctx)
			}
		})
	}
}
