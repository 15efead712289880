package otelredgrpc_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelred/otelred/otelred"
)

// TestHostileMethodNames calls, over a real connection, methods whose
// names are not valid UTF-8 or are too long, which an
// UnknownServiceHandler answers with OK, so that they are recognised:
// invalid bytes are U+FFFD, two names that differ only in their invalid
// bytes share one series, and a name past otelred.MaxValueLength is never
// recognised (_OTHER), so it is never kept.
func TestHostileMethodNames(t *testing.T) {
	h := newHarness(t)
	ts := h.serve(func(_ any, ss grpc.ServerStream) error {
		if err := ss.RecvMsg(new(wrapperspb.StringValue)); err != nil {
			return err
		}
		return ss.SendMsg(wrapperspb.String("proxied"))
	})
	long := "/proxied.Service/" + strings.Repeat("m", otelred.MaxValueLength)
	for _, m := range []string{"/proxied.Service/G\xffet", "/proxied.Service/G\xfe\xfdet", "/proxied.Serv\xc3/Get", "/proxied.Serv\xe2/Get", long, long + "n"} {
		if got := ts.unary(context.Background(), m, ""); got != codes.OK {
			t.Fatalf("%q: %v, want OK", m, got)
		}
	}
	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series("proxied.Service/G\uFFFDet", "OK", ""): 2,
		series("proxied.Serv\uFFFD/Get", "OK", ""):    2,
		series("_OTHER", "OK", ""):                    2,
	})
	// A method recognised when its first call ends counts its later
	// calls in flight: each name above was called twice.
	wantCounts(t, "calls in progress", h.active(), map[string]int64{
		inFlight("proxied.Service/G\uFFFDet"): 0,
		inFlight("proxied.Serv\uFFFD/Get"):    0,
		inFlight("_OTHER"):                    0,
	})
}
