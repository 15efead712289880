// Package otlptest is an in-process OTLP metrics receiver for the tests of
// this module: a real protocol peer built from go.opentelemetry.io/proto/otlp,
// so that push tests exercise the same wire format, compression and status
// codes as a collector. It is internal: not part of the module's API.
//
// A [Receiver] speaks one protocol, [GRPC] (the collector/metrics/v1
// MetricsService) or [HTTP] (POST /v1/metrics with a protobuf body, gzip
// Content-Encoding accepted, a protobuf ExportMetricsServiceResponse in
// reply). It listens on 127.0.0.1 at a port the OS picks, stores every
// request it accepts together with the headers (or gRPC metadata) it came
// with and its size, and reads data points back by metric name and
// attribute set. The gRPC server keeps grpc-go's default limits, as a
// collector does: it refuses a message over 4 MiB.
//
// # Faults
//
// [Receiver.SetFault] switches the receiver, at any time, to refuse
// connections, hang, answer "unavailable", "throttled" or "unauthorized",
// and back to normal. A request that meets a fault is counted by [Receiver.Attempts]
// but not stored.
//
// # Waiting
//
// [Receiver.WaitFor] blocks until a condition over the receiver holds,
// waking on every request rather than on a timer, so tests need no sleeps.
package otlptest

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // accept gzip-compressed gRPC requests
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The protocols a Receiver speaks, spelled as in OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	GRPC = "grpc"
	HTTP = "http/protobuf"
)

// maxBody bounds the size of one HTTP request body, after decompression.
const maxBody = 64 << 20

// Fault is how a Receiver answers export requests.
type Fault int

const (
	// None accepts and stores every request. It is the initial state.
	None Fault = iota
	// Refuse closes the listener and every open connection, so that
	// connecting fails. Leaving it listens again on the same address.
	Refuse
	// Hang reads each request and then answers nothing until the request's
	// context ends (the client gives up) or the Receiver is closed.
	Hang
	// Unavailable answers HTTP 503 or gRPC Unavailable, both retryable.
	Unavailable
	// Throttle answers HTTP 429 or gRPC ResourceExhausted.
	Throttle
	// Unauthorized answers HTTP 401 or gRPC Unauthenticated, with a message
	// that echoes the request's Authorization header, as some collectors
	// and gateways do: `invalid credentials "<the header's value>"`.
	Unauthorized
)

// String returns the fault's name.
func (f Fault) String() string {
	switch f {
	case None:
		return "none"
	case Refuse:
		return "refuse"
	case Hang:
		return "hang"
	case Unavailable:
		return "unavailable"
	case Throttle:
		return "throttle"
	case Unauthorized:
		return "unauthorized"
	}
	return "Fault(" + strconv.Itoa(int(f)) + ")"
}

// Receiver is an OTLP metrics receiver. Its methods are safe for
// concurrent use.
type Receiver struct {
	tb       testing.TB
	protocol string
	closing  chan struct{} // closed by Close, releases hung requests
	served   sync.WaitGroup

	mu       sync.Mutex
	addr     string
	fault    Fault
	stop     func() // stops the running server; nil when none runs
	closed   bool
	attempts int
	requests []*colmetricpb.ExportMetricsServiceRequest
	headers  []http.Header
	sizes    []int
	changed  chan struct{} // closed and replaced on every request
}

// Start starts a Receiver for protocol ([GRPC] or [HTTP]) on 127.0.0.1 at a
// port the OS picks, and closes it when the test ends. It fails the test if
// it cannot listen.
func Start(tb testing.TB, protocol string) *Receiver {
	tb.Helper()
	if protocol != GRPC && protocol != HTTP {
		tb.Fatalf("otlptest: unknown protocol %q", protocol)
	}
	r := &Receiver{
		tb:       tb,
		protocol: protocol,
		closing:  make(chan struct{}),
		addr:     "127.0.0.1:0",
		changed:  make(chan struct{}),
	}
	r.mu.Lock()
	err := r.serveLocked()
	r.mu.Unlock()
	if err != nil {
		tb.Fatalf("otlptest: %v", err)
	}
	tb.Cleanup(r.Close)
	return r
}

// serveLocked listens on r.addr and serves there until r.stop is called.
func (r *Receiver) serveLocked() error {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return err
	}
	r.addr = ln.Addr().String()
	switch r.protocol {
	case GRPC:
		s := grpc.NewServer(grpc.StatsHandler(payloadSizes{}))
		colmetricpb.RegisterMetricsServiceServer(s, grpcService{r: r})
		r.stop = s.Stop
		r.served.Go(func() { _ = s.Serve(ln) })
	default:
		mux := http.NewServeMux()
		mux.HandleFunc("POST /v1/metrics", r.serveHTTP)
		s := &http.Server{Handler: mux}
		r.stop = func() { _ = s.Close() }
		r.served.Go(func() { _ = s.Serve(ln) })
	}
	return nil
}

// Protocol returns the protocol the Receiver speaks.
func (r *Receiver) Protocol() string { return r.protocol }

// Addr returns the host:port the Receiver listens on.
func (r *Receiver) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Endpoint returns the URL an exporter sends to: "http://127.0.0.1:port"
// for gRPC, and the same with "/v1/metrics" for HTTP. It is a
// signal-specific endpoint, as OTEL_EXPORTER_OTLP_METRICS_ENDPOINT takes.
func (r *Receiver) Endpoint() string {
	if r.protocol == GRPC {
		return "http://" + r.Addr()
	}
	return "http://" + r.Addr() + "/v1/metrics"
}

// SetFault switches how the Receiver answers from now on. Leaving [Refuse]
// listens again on the same address; it fails the test if it cannot, so
// call it from the test's goroutine.
func (r *Receiver) SetFault(f Fault) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.fault = f
	var stop func()
	switch {
	case f == Refuse:
		stop, r.stop = r.stop, nil
	case r.stop == nil:
		if err := r.serveLocked(); err != nil {
			r.mu.Unlock()
			r.tb.Fatalf("otlptest: listening again: %v", err)
			return
		}
	}
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Close stops the Receiver, releases hung requests and waits for its
// goroutines. It is called at the end of the test by Start; calling it
// earlier, or more than once, is fine.
func (r *Receiver) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.closing)
	stop := r.stop
	r.stop = nil
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
	r.served.Wait()
}

// receive counts an export request, stores it if the Receiver accepts
// requests, and returns the fault it meets. For [Hang] it returns only when
// ctx ends or the Receiver is closed.
func (r *Receiver) receive(ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest, h http.Header, size int) Fault {
	r.mu.Lock()
	r.attempts++
	f := r.fault
	if f == None {
		r.requests = append(r.requests, req)
		r.headers = append(r.headers, h)
		r.sizes = append(r.sizes, size)
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	if f == Hang {
		select {
		case <-ctx.Done():
		case <-r.closing:
		}
	}
	return f
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		http.Error(w, "otlptest: want Content-Type application/x-protobuf, got "+ct, http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = req.Body
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, "otlptest: bad gzip body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	default:
		http.Error(w, "otlptest: unsupported Content-Encoding "+enc, http.StatusUnsupportedMediaType)
		return
	}
	b, err := io.ReadAll(io.LimitReader(body, maxBody+1))
	if err != nil || len(b) > maxBody {
		http.Error(w, "otlptest: reading body failed or body too large", http.StatusBadRequest)
		return
	}
	msg := new(colmetricpb.ExportMetricsServiceRequest)
	if err := proto.Unmarshal(b, msg); err != nil {
		http.Error(w, "otlptest: bad protobuf: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch r.receive(req.Context(), msg, req.Header.Clone(), len(b)) {
	case None:
		resp, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	case Throttle:
		http.Error(w, "otlptest: throttled", http.StatusTooManyRequests)
	case Unauthorized:
		http.Error(w, unauthorized(req.Header), http.StatusUnauthorized)
	default: // Unavailable; a Refuse that raced with the listener closing; a Hang released by Close
		http.Error(w, "otlptest: unavailable", http.StatusServiceUnavailable)
	}
}

type grpcService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s grpcService) Export(ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	h := make(http.Header, len(md))
	for k, vs := range md {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	size, _ := ctx.Value(payloadSizeKey{}).(*int)
	if size == nil {
		return nil, status.Error(codes.Internal, "otlptest: no payload size")
	}
	switch s.r.receive(ctx, req, h, *size) {
	case None:
		return &colmetricpb.ExportMetricsServiceResponse{}, nil
	case Throttle:
		return nil, status.Error(codes.ResourceExhausted, "otlptest: throttled")
	case Unauthorized:
		return nil, status.Error(codes.Unauthenticated, unauthorized(h))
	default:
		return nil, status.Error(codes.Unavailable, "otlptest: unavailable")
	}
}

// payloadSizes is the gRPC server's stats handler: it keeps the size of
// each request's message, as it came, under payloadSizeKey in the RPC's
// context.
type payloadSizes struct{}

type payloadSizeKey struct{}

func (payloadSizes) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, payloadSizeKey{}, new(int))
}

func (payloadSizes) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if in, ok := s.(*stats.InPayload); ok {
		if size, ok := ctx.Value(payloadSizeKey{}).(*int); ok {
			*size = in.Length
		}
	}
}

func (payloadSizes) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (payloadSizes) HandleConn(context.Context, stats.ConnStats) {}

// unauthorized is the message of [Unauthorized], which echoes the
// credential it refuses.
func unauthorized(h http.Header) string {
	return "otlptest: invalid credentials " + strconv.Quote(h.Get("Authorization"))
}

// Attempts returns how many export requests reached the Receiver, whether
// or not they met a fault.
func (r *Receiver) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Requests returns the accepted requests, oldest first. They must not be
// modified.
func (r *Receiver) Requests() []*colmetricpb.ExportMetricsServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// Sizes returns the size in bytes of each accepted request, in the order
// of [Receiver.Requests]: the protobuf message as it came, after any
// decompression (for gRPC, without the 5-byte message frame).
func (r *Receiver) Sizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sizes)
}

// Headers returns the headers of each accepted request, in the order of
// [Receiver.Requests]. For gRPC they are the request metadata, with keys in
// canonical header form.
func (r *Receiver) Headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.headers)
}

// WaitFor returns nil as soon as cond returns true, or ctx's error when ctx
// ends first. cond is called once at the start and again after every
// request the Receiver gets; it may call the Receiver's methods.
func (r *Receiver) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		r.mu.Lock()
		changed := r.changed
		r.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Resource returns the resource attributes of the latest accepted request,
// or nil if there is none.
func (r *Receiver) Resource() map[string]string {
	reqs := r.Requests()
	if len(reqs) == 0 || len(reqs[len(reqs)-1].GetResourceMetrics()) == 0 {
		return nil
	}
	return Attributes(reqs[len(reqs)-1].GetResourceMetrics()[0].GetResource().GetAttributes())
}

// Value returns the latest data point of the sum or gauge metric name whose
// attributes are exactly attrs (nil for none). With cumulative temporality
// that is the running total. Integer points are converted to float64.
func (r *Receiver) Value(name string, attrs map[string]string) (float64, bool) {
	var v float64
	found := r.latest(name, func(m *metricpb.Metric) bool {
		points := m.GetSum().GetDataPoints()
		if m.GetGauge() != nil {
			points = m.GetGauge().GetDataPoints()
		}
		ok := false
		for _, p := range points {
			if equal(Attributes(p.GetAttributes()), attrs) {
				ok = true
				switch x := p.GetValue().(type) {
				case *metricpb.NumberDataPoint_AsInt:
					v = float64(x.AsInt)
				case *metricpb.NumberDataPoint_AsDouble:
					v = x.AsDouble
				}
			}
		}
		return ok
	})
	return v, found
}

// Histogram returns the latest data point of the histogram metric name
// whose attributes are exactly attrs (nil for none). Its Count,
// ExplicitBounds and BucketCounts are what the exporter sent.
func (r *Receiver) Histogram(name string, attrs map[string]string) (*metricpb.HistogramDataPoint, bool) {
	reqs := r.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if hp, ok := HistogramIn(reqs[i], name, attrs); ok {
			return hp, true
		}
	}
	return nil, false
}

// HistogramIn returns the data point of the histogram metric name whose
// attributes are exactly attrs (nil for none) in one export request, such
// as one of [Receiver.Requests] or one a test's own receiver decoded.
func HistogramIn(req *colmetricpb.ExportMetricsServiceRequest, name string, attrs map[string]string) (*metricpb.HistogramDataPoint, bool) {
	var hp *metricpb.HistogramDataPoint
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != name {
					continue
				}
				for _, p := range m.GetHistogram().GetDataPoints() {
					if equal(Attributes(p.GetAttributes()), attrs) {
						hp = p
					}
				}
			}
		}
	}
	return hp, hp != nil
}

// latest calls match on every metric called name, newest request first,
// and stops after the first request in which match returned true.
func (r *Receiver) latest(name string, match func(*metricpb.Metric) bool) bool {
	reqs := r.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		found := false
		for _, rm := range reqs[i].GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					if m.GetName() == name && match(m) {
						found = true
					}
				}
			}
		}
		if found {
			return true
		}
	}
	return false
}

// Attributes converts OTLP attributes to a map of strings: integers,
// doubles and booleans in their Go strconv form.
func Attributes(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = valueString(kv.GetValue())
	}
	return m
}

func valueString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	}
	return v.String()
}

func equal(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return false
		}
	}
	return true
}
