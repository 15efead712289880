package otelredgrpc_test

import (
	"context"

	"google.golang.org/grpc"

	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// callUnary calls the Server's unary interceptor as grpc-go would for
// method, with a handler that returns err.
func callUnary(ctx context.Context, s *otelredgrpc.Server, method string, err error) {
	s.UnaryInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
		func(context.Context, any) (any, error) { return nil, err })
}

// callStream calls the Server's stream interceptor as grpc-go would for
// method, a bidirectional stream or not, with a handler that returns err.
func callStream(ctx context.Context, s *otelredgrpc.Server, method string, bidi bool, err error) {
	s.StreamInterceptor()(nil, fakeStream{ctx: ctx},
		&grpc.StreamServerInfo{FullMethod: method, IsClientStream: bidi, IsServerStream: true},
		func(any, grpc.ServerStream) error { return err })
}

// fakeStream is a grpc.ServerStream with a context and nothing else.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }
