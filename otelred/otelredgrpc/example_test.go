package otelredgrpc_test

import (
	"context"
	"net"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// The interceptors of a Server on a gRPC server with grpc's health
// service, which a client calls three times over an in-memory connection.
func Example() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	red, err := otelredgrpc.NewServer(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(red.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(red.StreamInterceptor()),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis := bufconn.Listen(1 << 20) // a real server would listen on TCP
	go srv.Serve(lis)
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	for _, service := range []string{"", "", "no.such.Service"} {
		client.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
	}

	testsupport.PrintPoints(reader)
	// Output:
	// rpc.server.active_calls{rpc.method=grpc.health.v1.Health/Check,rpc.system.name=grpc} 0
	// rpc.server.call.duration{error.type=NOT_FOUND,rpc.method=grpc.health.v1.Health/Check,rpc.response.status_code=NOT_FOUND,rpc.system.name=grpc} count=1
	// rpc.server.call.duration{rpc.method=grpc.health.v1.Health/Check,rpc.response.status_code=OK,rpc.system.name=grpc} count=2
}

// The unary interceptor called as grpc-go calls it, with a handler that
// finds some orders and not others: no server, no network.
func ExampleNewServer() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	red, err := otelredgrpc.NewServer(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	intercept := red.UnaryInterceptor() // for grpc.ChainUnaryInterceptor
	info := &grpc.UnaryServerInfo{FullMethod: "/shop.v1.Orders/Get"}
	getOrder := func(_ context.Context, req any) (any, error) {
		if req.(string) == "order-0" {
			return nil, status.Error(codes.NotFound, "no such order")
		}
		return "an order", nil
	}
	for _, id := range []string{"order-1", "order-2", "order-0"} {
		intercept(context.Background(), id, info, getOrder)
	}

	testsupport.PrintPoints(reader)
	// Output:
	// rpc.server.active_calls{rpc.method=shop.v1.Orders/Get,rpc.system.name=grpc} 0
	// rpc.server.call.duration{error.type=NOT_FOUND,rpc.method=shop.v1.Orders/Get,rpc.response.status_code=NOT_FOUND,rpc.system.name=grpc} count=1
	// rpc.server.call.duration{rpc.method=shop.v1.Orders/Get,rpc.response.status_code=OK,rpc.system.name=grpc} count=2
}
