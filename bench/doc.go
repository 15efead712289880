// Package bench measures otelred's cost per request side by side with the
// middlewares it competes with, in one process, on the same
// [net/http.ServeMux]. It is a module of its own, so the peers' dependencies
// never enter otelred's go.mod.
//
// # Implementations
//
// The request benchmarks serve GET /users/{id} with the request /users/42
// through one of:
//
//   - bare: the ServeMux alone, the baseline every "added" cost is taken from;
//   - otelred: the Semconv profile on an SDK MeterProvider with a ManualReader;
//   - otelred-classic: the Classic profile on the same kind of provider;
//   - otelred-classic-route: the Classic profile inside the route
//     (mux.Handle(pattern, mw(h))) rather than around the ServeMux, the
//     layout that lets Classic's in-flight gauge know the route before
//     serving without a second match;
//   - otelhttp: otelhttp.NewHandler, metrics only (a no-op tracer);
//   - promhttp: client_golang's InstrumentHandlerInFlight, Counter and
//     Duration, with the route as a label (WithLabelFromRequest);
//   - slok: github.com/slok/go-http-metrics with its Prometheus recorder on a
//     private registry;
//   - otelfloor: what the OpenTelemetry SDK itself costs: two clock readings
//     and one Float64Histogram.Record with a prebuilt []metric.RecordOption.
//
// Histograms have the same bucket boundaries everywhere (otelred's Semconv
// advice), so no implementation is cheaper for having fewer buckets.
//
// # Requests
//
// Each sub-benchmark builds one request, and one per goroutine in the
// parallel benchmark, and serves it once per iteration with a fresh
// httptest.ResponseRecorder. ServeMux writes the matched pattern into the
// request it serves, so before every iteration, for every implementation
// alike, the pattern is cleared: each iteration sees a request as fresh as
// one from net/http's server, and a middleware that must know the route
// before serving (otelred's Classic profile) pays for finding it every time.
// Building a new request per iteration would be fair too, but it would add
// the same few hundred nanoseconds and allocations to every implementation
// and blur the differences this package exists to show.
//
// Every instrumented handler serves a few requests before timing starts, so
// caches are warm and the figures are those of a service in steady state.
//
// # Benchmarks
//
//   - BenchmarkServer, BenchmarkServerError: one request on the success
//     path, and on the error path (the handler writes 500);
//   - BenchmarkServerParallel: the same from every P at once, for -cpu 1,2;
//   - BenchmarkClient, BenchmarkClientError: one request through a
//     RoundTripper over a base that answers at once with a prebuilt
//     response (200, and 503): bare (the base alone), otelred and
//     otelred-classic (otelred.NewTransport), otelhttp
//     (otelhttp.NewTransport, metrics only) and otelfloor;
//   - BenchmarkOperation, BenchmarkOperationError: one operation from
//     Operations.Start to Operation.End, succeeding and failing with a
//     sentinel error: bare (nothing), otelred, otelred-classic and
//     otelfloor;
//   - BenchmarkGRPCUnary, BenchmarkGRPCUnaryError: one call of
//     otelredgrpc's unary interceptor (grpc_test.go);
//   - BenchmarkScrape: one /metrics request over 1000 histogram series,
//     on otelred's exporter handler, on the upstream OpenTelemetry
//     Prometheus exporter with promhttp.HandlerFor, and on a native
//     client_golang histogram;
//   - BenchmarkSeriesHeap: the heap one distinct series costs.
//
// TestAllocsAdded fails if otelred adds an allocation per request,
// TestClientAllocsAdded if its Transport does, TestOperationAllocs if an
// operation allocates, and TestScrapeSameData checks that the scrape
// handlers serve the same data.
//
// # Running
//
// bench/run runs everything and prints the Markdown table the README shows.
// The smoke mode that CI runs is
//
//	go test -run . -bench . -benchtime 1x ./...
package bench
