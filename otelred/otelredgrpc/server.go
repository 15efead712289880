package otelredgrpc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/red"
)

// ScopeName is the instrumentation scope of the instruments a [Server]
// creates, with [otelred.Version] as its version. Views that must touch
// only these instruments, and not same-named ones from otelgrpc, match on
// it.
const ScopeName = "github.com/otelred/otelred/otelred/otelredgrpc"

// The names of the instruments a [Server] creates.
const (
	// DurationName is the call duration histogram, in seconds, as the
	// OpenTelemetry RPC semantic conventions (version
	// [otelred.SemconvVersion]) name it.
	DurationName = "rpc.server.call.duration"
	// ActiveName is the up-down counter of calls in progress. The
	// semantic conventions define no such instrument; the name follows
	// http.server.active_requests.
	ActiveName = "rpc.server.active_calls"
)

// The attribute keys, from the OpenTelemetry RPC semantic conventions.
// rpc.system.name is required on every point; rpc.method,
// rpc.response.status_code and (on failures) error.type are conditionally
// required, and always known here.
const (
	methodKey    = semconv.RPCMethodKey
	statusKey    = semconv.RPCResponseStatusCodeKey
	errorTypeKey = semconv.ErrorTypeKey
)

var systemGRPC = semconv.RPCSystemNameGRPC

// Server records RED metrics for the calls a gRPC server handles, through
// its interceptors. One Server serves one grpc.Server (or several: they
// then share the series); its interceptors are safe for concurrent use.
type Server struct {
	in    red.Instruments
	epoch time.Time // durations are time.Since(epoch): one monotonic read each

	methods  *methods
	series   *red.Cache[*red.Series] // by method name and outcome
	overflow [numOutcomes]*red.Series
	failed   [numOutcomes]bool
}

// NewServer returns a Server that records, for every call its interceptors
// see:
//
//   - rpc.server.call.duration, a histogram in seconds, from the moment the
//     interceptor is called to the handler's return, with rpc.system.name
//     ("grpc"), rpc.method ("pkg.Service/Method"), rpc.response.status_code
//     ("OK", "NOT_FOUND", …) and, on failures only, error.type;
//   - rpc.server.active_calls, the calls in progress, with rpc.system.name
//     and rpc.method.
//
// The status is the code grpc-go sends the client for the error the
// handler returned: that of a status error anywhere in its tree,
// DEADLINE_EXCEEDED or CANCELLED for the context's errors, UNKNOWN for
// any other error. By default every code but OK is a failure, with the
// code's name as error.type ([WithErrorCodes]).
//
// A panicking handler is recorded as a failure with status INTERNAL and
// error.type "panic", and the panic continues unchanged: install a
// recovering interceptor outside these (see "Interceptor ordering" in the
// package documentation), or the server crashes, as it would without
// them.
//
// Errors from bad options or from creating instruments are returned here;
// a call itself never fails or panics because of instrumentation.
func NewServer(opts ...Option) (*Server, error) {
	const ctor = "otelredgrpc.NewServer"
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{epoch: time.Now(), methods: newMethods(cfg.limit, cfg.methods)}
	for o := range s.failed {
		switch {
		case uint64(o) == uint64(codes.OK):
		case uint64(o) >= outcomeOther, cfg.failures == nil:
			s.failed[o] = true
		default:
			s.failed[o] = slices.Contains(cfg.failures, codes.Code(o))
		}
	}
	meter := cfg.provider.Meter(ScopeName, metric.WithInstrumentationVersion(otelred.Version))
	s.in, err = red.NewInstruments(meter, red.Spec{
		Duration:     DurationName,
		DurationDesc: rpcconv.ServerCallDuration{}.Description(),
		Boundaries:   otelred.Semconv.Boundaries(),
		Active:       ActiveName,
		ActiveDesc:   "Number of RPCs the server is handling.",
		ActiveUnit:   "{call}",
	})
	if err != nil {
		return nil, err
	}
	s.series = red.NewCache(cfg.limit, s.newSeries, func(_ string, o uint64) *red.Series { return s.overflow[o] })
	// The methods and the series of their outcomes share the limit of the
	// duration histogram, and its one report.
	limit := red.NewLimit(cfg.limit, ctor, DurationName, string(methodKey), "otelred.WithCardinalityLimit, given to otelredgrpc.NewServer")
	s.series.ReportTo(limit)
	s.methods.byName.ReportTo(limit)
	for o := range s.overflow {
		s.overflow[o] = s.buildSeries(uint64(o), red.OverflowAttrs(methodKey)...)
	}
	// Register last: a reader may collect at once.
	if _, err := meter.RegisterCallback(s.observe, s.in.Observables...); err != nil {
		return nil, fmt.Errorf("otelredgrpc: registering the collection callback: %w", err)
	}
	if cfg.global && red.DefaultGlobal(cfg.provider, s.in.Duration) {
		red.WarnNoMeterProvider(ctor, "otelred.WithMeterProvider")
	}
	return s, nil
}

// UnaryInterceptor returns the interceptor that records unary calls, for
// grpc.ChainUnaryInterceptor. The handler's context, which carries the
// span of a stats handler such as otelgrpc's, is the context of the
// measurement, so a sampled span becomes the exemplar.
func (s *Server) UnaryInterceptor() grpc.UnaryServerInterceptor { return s.unary }

// StreamInterceptor returns the interceptor that records streaming calls,
// for grpc.ChainStreamInterceptor. A stream's duration runs from its
// start to the handler's return, and its status is that of the handler's
// error. The stream's context is the context of the measurement.
func (s *Server) StreamInterceptor() grpc.StreamServerInterceptor { return s.stream }

func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	fullMethod := ""
	if info != nil {
		fullMethod = info.FullMethod
	}
	// grpc-go calls unary interceptors for registered methods only.
	c := s.start(fullMethod, true)
	returned := false
	defer func() { s.end(ctx, c, returned, err) }()
	resp, err = handler(ctx, req)
	returned = true
	return resp, err
}

func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx := ss.Context()
	fullMethod, registered := "", false
	if info != nil {
		// grpc-go hands the calls of methods it does not have to an
		// UnknownServiceHandler, as bidirectional streams.
		fullMethod, registered = info.FullMethod, !info.IsClientStream || !info.IsServerStream
	}
	c := s.start(fullMethod, registered)
	returned := false
	defer func() { s.end(ctx, c, returned, err) }()
	err = handler(srv, ss)
	returned = true
	return err
}

// call is one call in progress.
type call struct {
	name   string
	m      *method // nil until the method is known to be recognised
	active *red.Gauge
	stripe uint32 // where it counts in flight, from start to end
	start  time.Duration
}

// start counts a call of fullMethod in progress. A registered method is
// recognised at once; any other is not until its call ends. The name comes
// from the wire: it is cleaned before it is looked up (see red.Clean), and
// one too long to keep is not recognised.
func (s *Server) start(fullMethod string, registered bool) call {
	name := red.Clean(strings.TrimPrefix(fullMethod, "/"))
	m := s.methods.lookup(name)
	if m == nil {
		switch {
		case name == "" || name == red.Other || s.methods.fixed:
			m = s.methods.other
		case registered:
			m = s.methods.admit(name)
		}
	}
	g := s.methods.other.active
	if m != nil {
		g = m.active
	}
	stripe := red.Stripe()
	g.Inc(stripe)
	return call{name: name, m: m, active: g, stripe: stripe, start: time.Since(s.epoch)}
}

// end records the call, whose handler returned err or, when it did not
// return, panicked. A method not recognised yet is recognised now unless
// the call ended in UNIMPLEMENTED, grpc-go's answer to a method the server
// does not have.
func (s *Server) end(ctx context.Context, c call, returned bool, err error) {
	secs := (time.Since(s.epoch) - c.start).Seconds()
	o := outcomePanic
	if returned {
		o = outcomeOf(err)
	}
	c.active.Dec(c.stripe)
	m := c.m
	if m == nil {
		if o == uint64(codes.Unimplemented) {
			m = s.methods.other
		} else {
			m = s.methods.admit(c.name)
		}
	}
	s.in.Duration.Record(ctx, secs, s.seriesOf(m, o).Record...)
}

// seriesOf returns the series of method m and outcome o.
func (s *Server) seriesOf(m *method, o uint64) *red.Series {
	if ser := m.series[o].Load(); ser != nil {
		return ser
	}
	ser := s.overflow[o]
	if m != s.methods.overflow {
		ser = s.series.Get(m.name, o)
	}
	m.series[o].Store(ser)
	return ser
}

func (s *Server) newSeries(name string, o uint64) *red.Series {
	return s.buildSeries(o, methodKey.String(name))
}

// buildSeries builds the attribute set of an outcome and of method, the
// attributes that name the method.
func (s *Server) buildSeries(o uint64, method ...attribute.KeyValue) *red.Series {
	kv := append([]attribute.KeyValue{systemGRPC, statusKey.String(statusNames[o])}, method...)
	if s.failed[o] {
		kv = append(kv, errorTypeKey.String(errorTypes[o]))
	}
	return red.NewSeries(s.failed[o], kv...)
}

// observe reports the calls in progress from the Server's own counts.
func (s *Server) observe(_ context.Context, o metric.Observer) error {
	s.methods.each(func(m *method) { s.in.ObserveGauge(o, m.active) })
	return nil
}
