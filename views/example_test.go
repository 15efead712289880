package views_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	api "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
	"github.com/otelred/otelred/views"
)

func ExampleSLOBoundaries() {
	// An SLO of "99% of requests within 300 ms" and an alert at 1.2 s.
	b, err := views.SLOBoundaries(views.Default(otelred.Semconv), 0.3, 1.2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b)
	// Output:
	// [0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.3 0.5 0.75 1 1.2 2.5 5 7.5 10]
}

// One call gives every otelred histogram the same buckets: the HTTP
// server's, the HTTP client's, the operations' and otelredgrpc's. Here the
// buckets are those of a 500 ms objective, and every call takes far less.
func ExampleRED() {
	vs, err := views.RED(otelred.Semconv, []float64{0.5, 1, 5})
	if err != nil {
		fmt.Println(err)
		return
	}
	reader := metric.NewManualReader()
	provider := metric.NewMeterProvider(metric.WithReader(reader), metric.WithView(vs...))
	defer func() { _ = provider.Shutdown(context.Background()) }()
	ctx := context.Background()

	// An HTTP server, served twice.
	mw, err := otelred.New(otelred.WithMeterProvider(provider))
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(http.ResponseWriter, *http.Request) {})
	for range 2 {
		mw(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/hello", nil))
	}

	// An HTTP client, whose requests the handler above answers.
	transport, err := otelred.NewTransport(roundTripper{mux}, otelred.WithMeterProvider(provider))
	if err != nil {
		fmt.Println(err)
		return
	}
	if resp, err := (&http.Client{Transport: transport}).Get("http://api.internal/hello"); err == nil {
		resp.Body.Close()
	}

	// An operation.
	ops, err := otelred.NewOperations(otelred.WithMeterProvider(provider))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = ops.Track(ctx, "orders.process", func(context.Context) error { return nil })

	// A gRPC call, through the interceptor.
	rpc, err := otelredgrpc.NewServer(otelred.WithMeterProvider(provider))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = rpc.UnaryInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/shop.v1.Orders/Get"},
		func(context.Context, any) (any, error) { return nil, nil })

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					lines = append(lines, fmt.Sprint(m.Name, " bounds ", dp.Bounds, " counts ", dp.BucketCounts))
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// http.client.request.duration bounds [0.5 1 5] counts [1 0 0 0]
	// http.server.request.duration bounds [0.5 1 5] counts [2 0 0 0]
	// operation.duration bounds [0.5 1 5] counts [1 0 0 0]
	// rpc.server.call.duration bounds [0.5 1 5] counts [1 0 0 0]
}

// roundTripper serves client requests with a handler, without a network.
type roundTripper struct{ h http.Handler }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func ExampleValidate() {
	err := views.Validate([]float64{0.005, 0.05, 0.25, 0.1, 1})
	fmt.Println(err)
	// Output:
	// views: invalid boundaries: boundaries[3] = 0.1 is not greater than boundaries[2] = 0.25
}

func ExampleDuration() {
	v, err := views.Duration(otelred.Semconv, []float64{0.1, 0.3, 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	reader := metric.NewManualReader()
	provider := metric.NewMeterProvider(metric.WithReader(reader), metric.WithView(v))
	defer func() { _ = provider.Shutdown(context.Background()) }()

	// The histogram otelred records, in otelred's scope.
	h, err := provider.Meter(otelred.ScopeName).Float64Histogram(
		otelred.Semconv.Names().Duration,
		api.WithUnit("s"),
		api.WithExplicitBucketBoundaries(views.Default(otelred.Semconv)...), // advice, overridden
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range []float64{0.05, 0.2, 0.25, 3} {
		h.Record(context.Background(), d)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	m := rm.ScopeMetrics[0].Metrics[0]
	dp := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
	fmt.Println(m.Name)
	fmt.Println("bounds:", dp.Bounds)
	fmt.Println("counts:", dp.BucketCounts)
	// Output:
	// http.server.request.duration
	// bounds: [0.1 0.3 1]
	// counts: [1 2 0 1]
}

func ExampleDrop() {
	reader := metric.NewManualReader()
	provider := metric.NewMeterProvider(
		metric.WithReader(reader),
		metric.WithView(views.Drop("app.jobs", "job.id")),
	)
	defer func() { _ = provider.Shutdown(context.Background()) }()

	c, err := provider.Meter("example").Int64Counter("app.jobs")
	if err != nil {
		fmt.Println(err)
		return
	}
	for id := range 3 {
		c.Add(context.Background(), 1, api.WithAttributes(
			attribute.String("job.kind", "email"),
			attribute.Int("job.id", id), // one series per job without the view
		))
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, dp := range rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64]).DataPoints {
		fmt.Println(dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
	}
	// Output:
	// job.kind=email 3
}

func ExampleOtelhttp() {
	hv, err := views.Otelhttp(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	reader := metric.NewManualReader()
	provider := metric.NewMeterProvider(metric.WithReader(reader), metric.WithView(hv...))
	defer func() { _ = provider.Shutdown(context.Background()) }()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello", r.PathValue("name"))
	})
	handler := otelhttp.NewHandler(mux, "server",
		otelhttp.WithMeterProvider(provider),
		otelhttp.WithTracerProvider(noop.NewTracerProvider()),
	)

	// A client-chosen Host header, which otelhttp would record as
	// server.address and server.port.
	req := httptest.NewRequest(http.MethodGet, "/hello/world", nil)
	req.Host = "evil.example:1234"
	handler.ServeHTTP(httptest.NewRecorder(), req)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "http.server.request.duration" {
			continue
		}
		dp := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
		fmt.Println(dp.Attributes.Encoded(attribute.DefaultEncoder()))
		fmt.Println(dp.Bounds)
	}
	// Output:
	// http.request.method=GET,http.response.status_code=200,http.route=/hello/{name},network.protocol.name=http,network.protocol.version=1.1,url.scheme=http
	// [0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.5 0.75 1 2.5 5 7.5 10]
}

// A service that keeps otelhttp for tracing drops its metrics, so otelred's
// http.server.request.duration is the only one.
func ExampleWithoutOtelhttp() {
	reader := metric.NewManualReader()
	provider := metric.NewMeterProvider(metric.WithReader(reader), metric.WithView(views.WithoutOtelhttp()))
	defer provider.Shutdown(context.Background())

	mw, err := otelred.New(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
	handler := otelhttp.NewHandler(mw(mux), "users",
		otelhttp.WithMeterProvider(provider),
		otelhttp.WithTracerProvider(noop.NewTracerProvider()))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/1", nil))

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			fmt.Println(sm.Scope.Name, m.Name)
		}
	}
	// Unordered output:
	// github.com/otelred/otelred/otelred http.server.request.duration
	// github.com/otelred/otelred/otelred http.server.active_requests
}
