package otelredgrpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// harness is a MeterProvider with a ManualReader and a Server on it.
type harness struct {
	*testsupport.Reader
	t   *testing.T
	red *otelredgrpc.Server
}

func newHarness(t *testing.T, opts ...otelredgrpc.Option) *harness {
	t.Helper()
	r, s := testsupport.Build(t, otelredgrpc.ScopeName, func(mp metric.MeterProvider) (*otelredgrpc.Server, error) {
		return otelredgrpc.NewServer(append([]otelredgrpc.Option{otelred.WithMeterProvider(mp)}, opts...)...)
	})
	return &harness{Reader: r, t: t, red: s}
}

// The readings of testsupport, for otelredgrpc's scope and instruments.
func (h *harness) collect() metricdata.ResourceMetrics { h.t.Helper(); return h.Collect() }
func (h *harness) counts() map[string]uint64           { h.t.Helper(); return h.Counts(otelredgrpc.DurationName) }
func (h *harness) active() map[string]int64            { h.t.Helper(); return h.Sums(otelredgrpc.ActiveName) }
func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	return testsupport.Find(t, rm, otelredgrpc.ScopeName, name)
}
func attrs(s attribute.Set) string { return testsupport.Attrs(s) }

// series spells the attribute set of one duration series; errorType is
// empty for successes.
func series(method, code, errorType string) string {
	s := fmt.Sprintf("rpc.method=%s,rpc.response.status_code=%s,rpc.system.name=grpc", method, code)
	if errorType != "" {
		s = "error.type=" + errorType + "," + s
	}
	return s
}

// failure is the series of a call that failed with code.
func failure(method, code string) string { return series(method, code, code) }

// inFlight spells the attribute set of one active_calls series.
func inFlight(method string) string { return "rpc.method=" + method + ",rpc.system.name=grpc" }

func wantCounts[V any](t *testing.T, what string, got, want map[string]V) {
	t.Helper()
	testsupport.WantEqual(t, what, got, want)
}

// The test service, described by hand so that no generated code is
// needed: Echo is unary and answers according to its request, Count
// streams its request's number of messages to the client, and Chat is a
// bidirectional stream that echoes until the client closes.
const (
	echoMethod  = "/otelred.test.Echo/Echo"
	countMethod = "/otelred.test.Echo/Count"
	chatMethod  = "/otelred.test.Echo/Chat"
	checkMethod = "/grpc.health.v1.Health/Check"
)

// echoServer implements the test service.
type echoServer struct {
	// entered receives a value when a call that blocks ("block", "wait",
	// Chat) has begun; release ends the "block" calls.
	entered chan string
	release chan struct{}
}

func newEchoServer() *echoServer {
	return &echoServer{entered: make(chan string, 16), release: make(chan struct{})}
}

// errPlain is an error without a gRPC status.
var errPlain = errors.New("plain")

func (e *echoServer) echo(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	switch in.Value {
	case "not_found":
		return nil, status.Error(codes.NotFound, "no such thing")
	case "unavailable":
		return nil, status.Error(codes.Unavailable, "try later")
	case "wrapped":
		return nil, fmt.Errorf("loading: %w", status.Error(codes.PermissionDenied, "not yours"))
	case "plain":
		return nil, errPlain
	case "code42":
		return nil, status.Error(codes.Code(42), "a code gRPC does not define")
	case "deadline": // a downstream call that runs out of time
		ctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		<-ctx.Done()
		return nil, fmt.Errorf("calling downstream: %w", ctx.Err())
	case "wait": // until the client cancels
		e.entered <- in.Value
		<-ctx.Done()
		return nil, ctx.Err()
	case "block":
		e.entered <- in.Value
		select {
		case <-e.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "panic":
		panic("boom")
	}
	return in, nil
}

func (e *echoServer) count(in *wrapperspb.Int32Value, stream grpc.ServerStream) error {
	switch {
	case in.Value < 0:
		return status.Error(codes.InvalidArgument, "negative count")
	case in.Value == 99:
		panic("stream boom")
	}
	for i := range in.Value {
		if err := stream.SendMsg(wrapperspb.Int32(i)); err != nil {
			return err
		}
	}
	return nil
}

func (e *echoServer) chat(stream grpc.ServerStream) error {
	e.entered <- "chat"
	for {
		in := new(wrapperspb.StringValue)
		if err := stream.RecvMsg(in); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := stream.SendMsg(in); err != nil {
			return err
		}
	}
}

var echoDesc = grpc.ServiceDesc{
	ServiceName: "otelred.test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			handler := func(ctx context.Context, req any) (any, error) {
				return srv.(*echoServer).echo(ctx, req.(*wrapperspb.StringValue))
			}
			if interceptor == nil {
				return handler(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: echoMethod}, handler)
		},
	}},
	Streams: []grpc.StreamDesc{
		{
			StreamName:    "Count",
			ServerStreams: true,
			Handler: func(srv any, stream grpc.ServerStream) error {
				in := new(wrapperspb.Int32Value)
				if err := stream.RecvMsg(in); err != nil {
					return err
				}
				return srv.(*echoServer).count(in, stream)
			},
		},
		{
			StreamName:    "Chat",
			ServerStreams: true,
			ClientStreams: true,
			Handler:       func(srv any, stream grpc.ServerStream) error { return srv.(*echoServer).chat(stream) },
		},
	},
}

// testServer is a real gRPC server on 127.0.0.1 with the test service and
// grpc's health service, instrumented by a harness's Server, and a client
// connected to it.
type testServer struct {
	h    *harness
	echo *echoServer
	conn *grpc.ClientConn

	// calls counts the calls that have left the interceptors, so a test can
	// wait for recording instead of sleeping.
	calls sync.WaitGroup

	mu        sync.Mutex
	recovered []any // the panics the recovering interceptor caught
}

// serve starts the server. Outside otelredgrpc's interceptors it has, from
// the outside in, a layer that marks each call done and a recoverer that
// turns panics into INTERNAL, as go-grpc-middleware's does. Calls of
// methods the server does not have go to unknown, when it is not nil.
func (h *harness) serve(unknown grpc.StreamHandler) *testServer {
	h.t.Helper()
	ts := &testServer{h: h, echo: newEchoServer()}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(ts.trackUnary, ts.recoverUnary, h.red.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(ts.trackStream, ts.recoverStream, h.red.StreamInterceptor()),
	}
	if unknown != nil {
		opts = append(opts, grpc.UnknownServiceHandler(unknown))
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&echoDesc, ts.echo)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go srv.Serve(lis)
	h.t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	ts.conn = conn
	return ts
}

func (ts *testServer) trackUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	defer ts.calls.Done()
	return handler(ctx, req)
}

func (ts *testServer) trackStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	defer ts.calls.Done()
	return handler(srv, ss)
}

func (ts *testServer) recoverUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (_ any, err error) {
	defer ts.recover(&err)
	return handler(ctx, req)
}

func (ts *testServer) recoverStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer ts.recover(&err)
	return handler(srv, ss)
}

func (ts *testServer) recover(err *error) {
	if p := recover(); p != nil {
		ts.mu.Lock()
		ts.recovered = append(ts.recovered, p)
		ts.mu.Unlock()
		*err = status.Errorf(codes.Internal, "panic: %v", p)
	}
}

// callTimeout bounds every call of a test.
const callTimeout = 10 * time.Second

// unary calls method with a string request in ctx and waits until the
// interceptors have recorded the call. It returns the code the client saw.
func (ts *testServer) unary(ctx context.Context, method, value string) codes.Code {
	ts.h.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ts.calls.Add(1)
	out := new(wrapperspb.StringValue)
	err := ts.conn.Invoke(ctx, method, wrapperspb.String(value), out)
	ts.calls.Wait()
	return status.Code(err)
}

// echo calls Echo with value.
func (ts *testServer) echoCall(value string) codes.Code {
	return ts.unary(context.Background(), echoMethod, value)
}

// check calls the health service's Check for service.
func (ts *testServer) check(service string) codes.Code {
	ts.h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	ts.calls.Add(1)
	_, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	ts.calls.Wait()
	return status.Code(err)
}

// count calls the Count stream for n messages and waits until it is
// recorded. It returns the messages received and the code the client saw.
func (ts *testServer) count(n int32) (int, codes.Code) {
	ts.h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	ts.calls.Add(1)
	defer ts.calls.Wait()
	stream, err := ts.conn.NewStream(ctx, &echoDesc.Streams[0], countMethod)
	if err != nil {
		ts.h.t.Fatal(err)
	}
	if err := stream.SendMsg(wrapperspb.Int32(n)); err != nil {
		ts.h.t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		ts.h.t.Fatal(err)
	}
	received := 0
	for {
		if err := stream.RecvMsg(new(wrapperspb.Int32Value)); err == io.EOF {
			return received, codes.OK
		} else if err != nil {
			return received, status.Code(err)
		}
		received++
	}
}

// openChat opens a Chat stream, waits until its handler runs, and returns
// the function that ends it and waits until it is recorded.
func (ts *testServer) openChat() (end func()) {
	ts.h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	ts.calls.Add(1)
	stream, err := ts.conn.NewStream(ctx, &echoDesc.Streams[1], chatMethod)
	if err != nil {
		cancel()
		ts.h.t.Fatal(err)
	}
	<-ts.echo.entered
	return func() {
		defer cancel()
		if err := stream.CloseSend(); err != nil {
			ts.h.t.Error(err)
		}
		if err := stream.RecvMsg(new(wrapperspb.StringValue)); err != io.EOF {
			ts.h.t.Errorf("Chat ended with %v, want io.EOF", err)
		}
		ts.calls.Wait()
	}
}
