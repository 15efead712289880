package otelredgrpc_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

const (
	echo  = "otelred.test.Echo/Echo"
	count = "otelred.test.Echo/Count"
	chat  = "otelred.test.Echo/Chat"
	check = "grpc.health.v1.Health/Check"
)

func TestRecordsEachOutcome(t *testing.T) {
	h := newHarness(t)
	ts := h.serve(nil)

	for _, tc := range []struct {
		value string
		n     int
		want  codes.Code
	}{
		{"ok", 3, codes.OK},
		{"not_found", 2, codes.NotFound},
		{"unavailable", 1, codes.Unavailable},
		{"wrapped", 1, codes.PermissionDenied},
		{"plain", 1, codes.Unknown},
		{"code42", 1, codes.Code(42)},
	} {
		for range tc.n {
			if got := ts.echoCall(tc.value); got != tc.want {
				t.Errorf("Echo(%q): the client saw %v, want %v", tc.value, got, tc.want)
			}
		}
	}

	// A handler whose own deadline runs out. (When the client's deadline
	// runs out, the server usually sees the client's cancellation first.)
	if got := ts.echoCall("deadline"); got != codes.DeadlineExceeded {
		t.Errorf("Echo past a deadline: the client saw %v, want DeadlineExceeded", got)
	}

	// A call the client cancels once the handler runs.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-ts.echo.entered; cancel() }()
	if got := ts.unary(ctx, echoMethod, "wait"); got != codes.Canceled {
		t.Errorf("canceled Echo: the client saw %v, want Canceled", got)
	}

	if got := ts.check(""); got != codes.OK {
		t.Errorf("health Check: %v", got)
	}
	if got := ts.check("no.such.Service"); got != codes.NotFound {
		t.Errorf("health Check of an unknown service: %v, want NotFound", got)
	}
	if n, got := ts.count(3); n != 3 || got != codes.OK {
		t.Errorf("Count(3): %d messages and %v, want 3 and OK", n, got)
	}
	if _, got := ts.count(-1); got != codes.InvalidArgument {
		t.Errorf("Count(-1): %v, want InvalidArgument", got)
	}

	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series(echo, "OK", ""):             3,
		failure(echo, "NOT_FOUND"):         2,
		failure(echo, "UNAVAILABLE"):       1,
		failure(echo, "PERMISSION_DENIED"): 1,
		failure(echo, "UNKNOWN"):           1,
		failure(echo, "_OTHER"):            1,
		failure(echo, "DEADLINE_EXCEEDED"): 1,
		failure(echo, "CANCELLED"):         1,
		series(check, "OK", ""):            1,
		failure(check, "NOT_FOUND"):        1,
		series(count, "OK", ""):            1,
		failure(count, "INVALID_ARGUMENT"): 1,
	})
	wantCounts(t, "calls in progress", h.active(), map[string]int64{
		inFlight(echo): 0, inFlight(check): 0, inFlight(count): 0,
	})
}

func TestPanicIsRecordedAndContinues(t *testing.T) {
	h := newHarness(t)
	ts := h.serve(nil)
	if got := ts.echoCall("panic"); got != codes.Internal {
		t.Errorf("a panicking Echo: the client saw %v, want the recoverer's Internal", got)
	}
	if _, got := ts.count(99); got != codes.Internal {
		t.Errorf("a panicking Count: the client saw %v, want the recoverer's Internal", got)
	}
	if got := ts.echoCall("ok"); got != codes.OK {
		t.Errorf("Echo after the panics: %v, want OK: the server did not survive", got)
	}
	ts.mu.Lock()
	recovered := slices.Clone(ts.recovered)
	ts.mu.Unlock()
	if !slices.Equal(recovered, []any{"boom", "stream boom"}) {
		t.Errorf("the recoverer outside caught %v, want the handlers' panics unchanged", recovered)
	}
	wantCounts(t, "calls", h.counts(), map[string]uint64{
		series(echo, "INTERNAL", "panic"):  1,
		series(count, "INTERNAL", "panic"): 1,
		series(echo, "OK", ""):             1,
	})
	wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight(echo): 0, inFlight(count): 0})
}

func TestActiveCalls(t *testing.T) {
	h := newHarness(t)
	ts := h.serve(nil)

	t.Run("unary calls are counted by method while they run", func(t *testing.T) {
		done := make(chan codes.Code, 2)
		for range 2 {
			go func() { done <- ts.echoCall("block") }()
		}
		<-ts.echo.entered
		<-ts.echo.entered
		wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight(echo): 2})
		close(ts.echo.release)
		for range 2 {
			if got := <-done; got != codes.OK {
				t.Errorf("blocked Echo: %v", got)
			}
		}
		wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight(echo): 0})
	})

	t.Run("a bidirectional method is _OTHER until a call of it has ended", func(t *testing.T) {
		end := ts.openChat()
		wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight(echo): 0, inFlight("_OTHER"): 1})
		end()
		end = ts.openChat()
		wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight(echo): 0, inFlight("_OTHER"): 0, inFlight(chat): 1})
		end()
		wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight(echo): 0, inFlight("_OTHER"): 0, inFlight(chat): 0})
		if got := h.counts()[series(chat, "OK", "")]; got != 2 {
			t.Errorf("Chat recorded %d times by name, want 2", got)
		}
	})
}

func TestUnknownMethods(t *testing.T) {
	// An UnknownServiceHandler that proxies the methods under "proxied."
	// (it answers OK) and knows no other.
	h := newHarness(t)
	ts := h.serve(func(_ any, ss grpc.ServerStream) error {
		m, _ := grpc.MethodFromServerStream(ss)
		if strings.HasPrefix(m, "/proxied.") {
			if err := ss.RecvMsg(new(wrapperspb.StringValue)); err != nil {
				return err
			}
			return ss.SendMsg(wrapperspb.String("proxied"))
		}
		return status.Error(codes.Unimplemented, "unknown method "+m)
	})
	raw := []string{"/evil.Service/Secret1", "/evil.Service/Secret2", "/otelred.test.Echo/Nope", "/evil.Service/Secret1"}
	for _, m := range raw {
		if got := ts.unary(context.Background(), m, ""); got != codes.Unimplemented {
			t.Errorf("%s: %v, want Unimplemented", m, got)
		}
	}
	if got := ts.unary(context.Background(), "/proxied.Service/Get", ""); got != codes.OK {
		t.Errorf("proxied call: %v, want OK", got)
	}
	if got := ts.echoCall("ok"); got != codes.OK {
		t.Errorf("Echo: %v", got)
	}
	wantCounts(t, "calls", h.counts(), map[string]uint64{
		failure("_OTHER", "UNIMPLEMENTED"):      4,
		series("proxied.Service/Get", "OK", ""): 1,
		series(echo, "OK", ""):                  1,
	})
	wantCounts(t, "calls in progress", h.active(), map[string]int64{inFlight("_OTHER"): 0, inFlight(echo): 0})

	// No raw name from an unrecognised call, nor any part of one, is in
	// any attribute of any instrument.
	for _, sm := range h.collect().ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, set := range attributeSets(t, m) {
				for _, r := range raw {
					if _, method, _ := strings.Cut(r[1:], "/"); strings.Contains(set, method) {
						t.Errorf("%s has %s, from the unrecognised %s", m.Name, set, r)
					}
				}
			}
		}
	}
}

// attributeSets renders the attribute sets of every data point of m.
func attributeSets(t *testing.T, m metricdata.Metrics) []string {
	t.Helper()
	var sets []string
	switch d := m.Data.(type) {
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, attrs(dp.Attributes))
		}
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, attrs(dp.Attributes))
		}
	default:
		t.Fatalf("metric %q: unexpected data %T", m.Name, m.Data)
	}
	return sets
}

func TestInstruments(t *testing.T) {
	h := newHarness(t)
	ts := h.serve(nil)
	ts.echoCall("ok")
	rm := h.collect()
	var scope []string
	for _, sm := range rm.ScopeMetrics {
		scope = append(scope, sm.Scope.Name+"@"+sm.Scope.Version)
	}
	if want := []string{otelredgrpc.ScopeName + "@" + otelred.Version}; !slices.Equal(scope, want) {
		t.Errorf("scopes %v, want %v", scope, want)
	}
	d := find(t, rm, otelredgrpc.DurationName)
	if d.Unit != "s" || d.Description != "Measures the duration of an incoming Remote Procedure Call (RPC)." {
		t.Errorf("%s: unit %q, description %q", d.Name, d.Unit, d.Description)
	}
	if got := d.Data.(metricdata.Histogram[float64]).DataPoints[0].Bounds; !slices.Equal(got, otelred.Semconv.Boundaries()) {
		t.Errorf("bucket advice %v, want otelred's Semconv boundaries %v", got, otelred.Semconv.Boundaries())
	}
	a := find(t, rm, otelredgrpc.ActiveName)
	sum, ok := a.Data.(metricdata.Sum[int64])
	if !ok || sum.IsMonotonic || a.Unit != "{call}" {
		t.Errorf("%s: %T (monotonic %v), unit %q; want a non-monotonic int64 sum in {call}", a.Name, a.Data, sum.IsMonotonic, a.Unit)
	}
}

// TestExemplarsComeFromTheCallContext checks that the context a call's
// handler gets, where a stats handler such as otelgrpc's puts its span, is
// the context of the measurement: the SDK then keeps the sampled span as
// the exemplar.
func TestExemplarsComeFromTheCallContext(t *testing.T) {
	h := newHarness(t)
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
		SpanID:     trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	callUnary(ctx, h.red, echoMethod, nil)
	callStream(ctx, h.red, countMethod, false, nil)

	hist := find(t, h.collect(), otelredgrpc.DurationName).Data.(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 2 {
		t.Fatalf("%d data points, want 2", len(hist.DataPoints))
	}
	for _, dp := range hist.DataPoints {
		if len(dp.Exemplars) != 1 || trace.TraceID(dp.Exemplars[0].TraceID) != sc.TraceID() {
			t.Errorf("%s: exemplars %+v, want one with trace id %s", attrs(dp.Attributes), dp.Exemplars, sc.TraceID())
		}
	}
}
