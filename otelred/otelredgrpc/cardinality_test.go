package otelredgrpc_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// overflowed spells the attribute set of an overflow series.
func overflowed(code, errorType string) string {
	s := "otel.metric.overflow=true,rpc.method=overflow,rpc.response.status_code=" + code + ",rpc.system.name=grpc"
	if errorType != "" {
		s = "error.type=" + errorType + "," + s
	}
	return s
}

func TestCardinalityIsBounded(t *testing.T) {
	h := newHarness(t, otelred.WithCardinalityLimit(3))
	ctx := context.Background()
	notFound := status.Error(codes.NotFound, "no")
	for _, m := range []string{"/a.S/M1", "/a.S/M2", "/a.S/M3", "/a.S/M4", "/a.S/M5", "/a.S/M1"} {
		callUnary(ctx, h.red, m, nil)
	}
	// The three series are taken: a known method's new status overflows
	// too, and keeps its status and error type.
	callUnary(ctx, h.red, "/a.S/M1", notFound)
	callUnary(ctx, h.red, "/a.S/M5", notFound)
	// Bidirectional streams of methods never seen before.
	callStream(ctx, h.red, "/b.S/Junk", true, nil)
	callStream(ctx, h.red, "/b.S/Junk2", true, status.Error(codes.Unimplemented, "no"))

	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series("a.S/M1", "OK", ""):                   2,
		series("a.S/M2", "OK", ""):                   1,
		series("a.S/M3", "OK", ""):                   1,
		overflowed("OK", ""):                         3, // M4, M5 and Junk
		overflowed("NOT_FOUND", "NOT_FOUND"):         2, // M1 and M5
		overflowed("UNIMPLEMENTED", "UNIMPLEMENTED"): 1, // _OTHER, which did not fit either
	})
	wantCounts(t, "calls in progress", h.active(), map[string]int64{
		inFlight("a.S/M1"): 0,
		inFlight("a.S/M2"): 0,
		inFlight("a.S/M3"): 0,
		"otel.metric.overflow=true,rpc.method=overflow,rpc.system.name=grpc": 0, // M4 and M5
		inFlight("_OTHER"): 0, // Junk and Junk2 until they ended
	})
	// The SDK takes a set of exactly otel.metric.overflow=true for its own
	// overflow.
	for _, sm := range h.collect().ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range attributeSets(t, m) {
				if set == "otel.metric.overflow=true" {
					t.Errorf("%s has the SDK's own overflow set", m.Name)
				}
			}
		}
	}
}

func TestWithMethods(t *testing.T) {
	h := newHarness(t, otelredgrpc.WithMethods(echoMethod, "otelred.test.Echo/Chat"))
	ctx := context.Background()
	// during returns a handler error that, while it runs, checks the calls
	// in progress.
	during := func(want map[string]int64) error {
		wantCounts(t, "calls in progress", h.active(), want)
		return nil
	}
	callUnary(ctx, h.red, echoMethod, nil)
	callUnary(ctx, h.red, echoMethod, status.Error(codes.Unimplemented, "listed, so recorded by name"))
	callUnary(ctx, h.red, countMethod, nil) // registered, but not listed
	h.red.StreamInterceptor()(nil, fakeStream{ctx: ctx},
		&grpc.StreamServerInfo{FullMethod: chatMethod, IsClientStream: true, IsServerStream: true},
		func(any, grpc.ServerStream) error {
			return during(map[string]int64{inFlight(echo): 0, inFlight("_OTHER"): 0, inFlight(chat): 1})
		})
	callStream(ctx, h.red, "/proxied.Service/Get", true, nil)

	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series(echo, "OK", ""):         1,
		failure(echo, "UNIMPLEMENTED"): 1,
		series(chat, "OK", ""):         1,
		series("_OTHER", "OK", ""):     2, // Count and the proxied call
	})
}

func TestWithErrorCodes(t *testing.T) {
	// The codes the semantic conventions count as server errors.
	h := newHarness(t, otelredgrpc.WithErrorCodes(codes.Unknown, codes.DeadlineExceeded,
		codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss))
	ctx := context.Background()
	callUnary(ctx, h.red, echoMethod, status.Error(codes.NotFound, "the client's problem"))
	callUnary(ctx, h.red, echoMethod, status.Error(codes.InvalidArgument, "the client's problem"))
	callUnary(ctx, h.red, echoMethod, status.Error(codes.Unavailable, "ours"))
	callUnary(ctx, h.red, echoMethod, errors.New("ours too"))
	callUnary(ctx, h.red, echoMethod, status.Error(codes.Code(42), "undefined codes always fail"))
	func() {
		defer func() { recover() }()
		callUnary(ctx, h.red, echoMethod, nil)
		h.red.UnaryInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: echoMethod},
			func(context.Context, any) (any, error) { panic("panics always fail") })
	}()
	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series(echo, "OK", ""):               1,
		series(echo, "NOT_FOUND", ""):        1,
		series(echo, "INVALID_ARGUMENT", ""): 1,
		failure(echo, "UNAVAILABLE"):         1,
		failure(echo, "UNKNOWN"):             1,
		failure(echo, "_OTHER"):              1,
		series(echo, "INTERNAL", "panic"):    1,
	})
}
