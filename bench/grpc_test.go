package bench

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// The gRPC benchmarks call a unary server interceptor directly, as grpc-go
// does for each call, with a handler that does nothing, so that only the
// interceptor's own cost is measured: a real call adds the same transport
// and codec work whatever the interceptor. The implementations are
//
//   - bare: the handler alone;
//   - otelred: otelredgrpc's interceptor on an SDK MeterProvider with a
//     ManualReader;
//   - otelfloor: two clock readings and one Float64Histogram.Record with
//     the attribute set otelredgrpc records, built in advance.
//
// No peer is compared: go-grpc-middleware's Prometheus provider and
// contrib's otelgrpc are not in this module's graph.

// grpcMethod is the method every gRPC benchmark calls.
const grpcMethod = "/shop.Orders/Get"

// BenchmarkGRPCUnary is the cost of one successful unary call.
func BenchmarkGRPCUnary(b *testing.B) { benchGRPCUnary(b, nil) }

// BenchmarkGRPCUnaryError is BenchmarkGRPCUnary on the error path: the
// handler returns a NOT_FOUND status error, built in advance as a
// handler's sentinel errors are.
func BenchmarkGRPCUnaryError(b *testing.B) {
	benchGRPCUnary(b, status.Error(codes.NotFound, "no such order"))
}

func benchGRPCUnary(b *testing.B, err error) {
	handler := func(context.Context, any) (any, error) { return nil, err }
	info := &grpc.UnaryServerInfo{FullMethod: grpcMethod}
	for _, im := range []struct {
		name string
		wrap func(testing.TB, error) grpc.UnaryServerInterceptor
	}{
		{bare, func(testing.TB, error) grpc.UnaryServerInterceptor { return nil }},
		{otelredSemconv, withOtelredgrpc},
		{otelfloor, withGRPCFloor},
	} {
		b.Run(im.name, func(b *testing.B) {
			ctx := context.Background()
			call := func() { handler(ctx, nil) }
			if in := im.wrap(b, err); in != nil {
				call = func() { in(ctx, nil, info, handler) }
			}
			for range 16 { // warm the caches
				call()
			}
			b.ReportAllocs()
			for b.Loop() {
				call()
			}
		})
	}
}

func withOtelredgrpc(tb testing.TB, _ error) grpc.UnaryServerInterceptor {
	s, err := otelredgrpc.NewServer(otelred.WithMeterProvider(newProvider(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	return s.UnaryInterceptor()
}

// withGRPCFloor is the least an OpenTelemetry-based interceptor can cost:
// it knows in advance the status the handler returns, and so the attribute
// set otelredgrpc records for it.
func withGRPCFloor(tb testing.TB, handlerErr error) grpc.UnaryServerInterceptor {
	hist, err := newProvider(tb).Meter("floor").Float64Histogram(otelredgrpc.DurationName,
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(buckets...))
	if err != nil {
		tb.Fatal(err)
	}
	code := "OK"
	kv := []attribute.KeyValue{attribute.String("rpc.system.name", "grpc"), attribute.String("rpc.method", grpcMethod[1:])}
	if handlerErr != nil {
		code = "NOT_FOUND"
		kv = append(kv, attribute.String("error.type", code))
	}
	kv = append(kv, attribute.String("rpc.response.status_code", code))
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		hist.Record(ctx, time.Since(start).Seconds(), opts...)
		return resp, err
	}
}
