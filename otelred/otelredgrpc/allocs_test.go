//go:build !race

// The race detector changes allocation counts, so they are only meaningful
// without it; CI runs this file in a pass of its own without -race.

package otelredgrpc_test

import (
	"context"
	"fmt"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestAllocsAdded guards the promise that the interceptors add no
// allocation per call in steady state, on a real SDK provider, whatever
// the handler returns. The errors are built in advance, as a handler's
// sentinel errors are.
func TestAllocsAdded(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"OK", nil},
		{"a status error", status.Error(codes.NotFound, "no")},
		{"a wrapped status error", fmt.Errorf("loading: %w", status.Error(codes.Unavailable, "later"))},
		{"an error without a status", errPlain},
		{"the context's deadline", fmt.Errorf("downstream: %w", context.DeadlineExceeded)},
		{"an undefined code", status.Error(codes.Code(42), "x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			s, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			unary := s.UnaryInterceptor()
			uinfo := &grpc.UnaryServerInfo{FullMethod: echoMethod}
			uhandler := func(context.Context, any) (any, error) { return nil, tc.err }
			bare := func() { uhandler(ctx, nil) }
			wrapped := func() { unary(ctx, nil, uinfo, uhandler) }

			stream := s.StreamInterceptor()
			ss := fakeStream{ctx: ctx}
			var ssi grpc.ServerStream = ss
			sinfo := &grpc.StreamServerInfo{FullMethod: chatMethod, IsClientStream: true, IsServerStream: true}
			shandler := func(any, grpc.ServerStream) error { return tc.err }
			bareStream := func() { shandler(nil, ssi) }
			wrappedStream := func() { stream(nil, ssi, sinfo, shandler) }

			for range 10 { // fill the caches
				wrapped()
				wrappedStream()
			}
			for _, c := range []struct {
				name          string
				bare, wrapped func()
			}{{"unary", bare, wrapped}, {"stream", bareStream, wrappedStream}} {
				b := testing.AllocsPerRun(500, c.bare)
				got := testing.AllocsPerRun(500, c.wrapped)
				if got != b {
					t.Errorf("%s: allocations per call: %v with the interceptor, %v without", c.name, got, b)
				}
			}
		})
	}
}
