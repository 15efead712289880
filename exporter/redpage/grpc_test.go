package redpage

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestFeedOfGRPCCalls records calls through otelredgrpc's unary
// interceptor and checks the gRPC section, by method.
func TestFeedOfGRPCCalls(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	srv, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	call := func(method string, err error, n int) {
		for range n {
			_, _ = srv.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: method},
				func(context.Context, any) (any, error) { return nil, err })
		}
	}
	clk := newClock()
	h := newTestHandler(reader, clk, otelred.Semconv)
	h.Feed(context.Background())
	call("/shop.Orders/Get", nil, 6)
	call("/shop.Orders/Get", status.Error(codes.NotFound, "no"), 2)
	clk.advance(2 * time.Second)

	f := feedOf(t, h)
	sec := f.section(t, "gRPC server")
	if sec.Key != "rpc.method" || len(sec.Rows) != 1 {
		t.Fatalf("section = %+v, want one row by rpc.method", sec)
	}
	get := sec.row(t, "shop.Orders/Get")
	near(t, "rate", get.Rate, 4)
	near(t, "error ratio", get.ErrorRatio, 0.25)
	inFlight(t, "shop.Orders/Get", get.InFlight, 0, true)
}
