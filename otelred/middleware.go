package otelred

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// overflowKey marks the series that holds what did not fit under the
// cardinality limit, as the OpenTelemetry SDK marks its own.
const overflowKey = attribute.Key("otel.metric.overflow")

// New returns HTTP server middleware that records RED metrics (rate,
// errors, duration) and in-flight requests for every request that passes
// through it, with the instruments of the selected [Profile].
//
// The middleware has the shape func(http.Handler) http.Handler, so it wraps
// an [http.ServeMux], fits chi's r.Use, or any router. For each request it
//   - counts the request in flight until the handler returns;
//   - records the status the handler sent first (informational 1xx codes
//     other than 101 do not count), or 200 if it sent none, as net/http does;
//   - names the route from r.Pattern of the same request after the handler
//     returns, reduced to its path template ("GET /users/{id}" becomes
//     "/users/{id}"), or with [WithRoute]; requests that matched no route
//     share the value [Unmatched];
//   - records a panicking handler as a failure (error.type "panic", status
//     500 unless one was sent) and lets the panic continue unchanged, so
//     [http.ErrAbortHandler] still reaches net/http.
//
// The ResponseWriter the handler sees has exactly the optional interfaces
// (http.Flusher, http.Hijacker, io.ReaderFrom, http.Pusher, io.StringWriter)
// of the one it wraps, and Unwrap for [http.ResponseController]. It is
// pooled: as net/http requires, the handler must not use it after returning.
//
// Errors from bad options or from creating instruments are returned here;
// the request path itself never fails because of instrumentation. Wrapping
// a nil handler panics at once.
func New(opts ...Option) (func(http.Handler) http.Handler, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	m, err := newMiddleware(cfg)
	if err != nil {
		return nil, err
	}
	return m.wrap, nil
}

// middleware is the state that the handlers wrapped by one New share.
type middleware struct {
	cfg     config
	names   Names
	byRoute bool // the in-flight gauge is labelled by route (Classic)
	counts  bool // requests and errors are counters of their own (Classic)

	duration metric.Float64Histogram
	active   metric.Int64ObservableUpDownCounter
	requests metric.Int64ObservableCounter
	errors   metric.Int64ObservableCounter

	series                     *cache[*series] // by route and seriesCode
	overflowOK, overflowFailed *series

	methods        [numMethods]*gauge // in flight by method
	routes         *cache[*gauge]     // in flight by route and method
	routesOverflow *gauge

	writers sync.Pool

	// epoch is when the middleware was built. Durations are measured as
	// time.Since(epoch), which reads only the monotonic clock, where
	// time.Now also reads the wall clock: on a virtual machine each reading
	// costs tens of nanoseconds, so this saves one per request.
	epoch time.Time
}

// seriesCode packs what identifies an attribute set of the duration
// histogram besides its route: the status (as an int32, in the high half),
// the method, and whether the handler panicked, which is set only where it
// changes the attributes (error.type).
func seriesCode(status int, method uint8, panicked bool) uint64 {
	c := uint64(uint32(int32(status)))<<32 | uint64(method)<<1
	if panicked {
		c |= 1
	}
	return c
}

// unpackSeries is the inverse of seriesCode.
func unpackSeries(c uint64) (status int, method uint8, panicked bool) {
	return int(int32(uint32(c >> 32))), uint8(c >> 1), c&1 != 0
}

// series is one attribute set with its prebuilt options, so recording
// allocates nothing, and the counts behind the Classic counters, which are
// read at collection time instead of costing an SDK call per request.
type series struct {
	record   []metric.RecordOption
	observe  []metric.ObserveOption
	failed   bool // the status is a failure
	overflow bool

	requests atomic.Int64
	errors   atomic.Int64
}

// gauge is an in-flight count with its prebuilt options.
type gauge struct {
	n       atomic.Int64
	used    atomic.Bool
	observe []metric.ObserveOption
	_       [32]byte // keep hot counters of different methods apart
}

func (g *gauge) inc() {
	g.n.Add(1)
	if !g.used.Load() {
		g.used.Store(true)
	}
}

func newMiddleware(cfg config) (*middleware, error) {
	p := &profiles[cfg.profile]
	m := &middleware{
		cfg:     cfg,
		names:   p.names,
		byRoute: p.activeByRoute,
		counts:  p.names.Requests != "",
		epoch:   time.Now(),
	}
	m.writers.New = func() any { return new(writer) }

	meter := cfg.provider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	var err error
	m.duration, err = meter.Float64Histogram(p.names.Duration,
		metric.WithUnit("s"),
		metric.WithDescription(p.durationDesc),
		metric.WithExplicitBucketBoundaries(p.boundaries...))
	if err != nil {
		return nil, fmt.Errorf("otelred: creating %s: %w", p.names.Duration, err)
	}
	m.active, err = meter.Int64ObservableUpDownCounter(p.names.Active,
		metric.WithUnit(p.activeUnit),
		metric.WithDescription(p.activeDesc))
	if err != nil {
		return nil, fmt.Errorf("otelred: creating %s: %w", p.names.Active, err)
	}
	observed := []metric.Observable{m.active}
	if m.counts {
		m.requests, err = meter.Int64ObservableCounter(p.names.Requests,
			metric.WithUnit("{request}"),
			metric.WithDescription(p.requestsDesc))
		if err != nil {
			return nil, fmt.Errorf("otelred: creating %s: %w", p.names.Requests, err)
		}
		m.errors, err = meter.Int64ObservableCounter(p.names.Errors,
			metric.WithUnit("{request}"),
			metric.WithDescription(p.errorsDesc))
		if err != nil {
			return nil, fmt.Errorf("otelred: creating %s: %w", p.names.Errors, err)
		}
		observed = append(observed, m.requests, m.errors)
	}
	m.series = newCache(cfg.limit, m.newSeries, m.overflowSeries)
	m.overflowOK = m.newOverflow(false)
	m.overflowFailed = m.overflowOK
	if m.names.ErrorType != "" {
		m.overflowFailed = m.newOverflow(true)
	}
	if m.byRoute {
		m.routes = newCache(cfg.limit, m.newGauge, func(uint64) *gauge { return m.routesOverflow })
		m.routesOverflow = &gauge{observe: observeOpts(m.withService(m.names.Route.String(Overflow), overflowKey.Bool(true))...)}
	} else {
		for i := range m.methods {
			m.methods[i] = &gauge{observe: observeOpts(m.names.Method.String(methodNames[i]))}
		}
	}
	// Register last: a reader may collect at once, and observe reads all of
	// the state above.
	if _, err := meter.RegisterCallback(m.observe, observed...); err != nil {
		return nil, fmt.Errorf("otelred: registering the collection callback: %w", err)
	}
	return m, nil
}

func (m *middleware) wrap(next http.Handler) http.Handler {
	if next == nil {
		panic("otelred: middleware wrapping a nil http.Handler")
	}
	h := &handler{m: m, next: next}
	if m.byRoute {
		h.mux, _ = next.(*http.ServeMux)
	}
	return h
}

// handler is one wrapped http.Handler.
type handler struct {
	m    *middleware
	next http.Handler
	mux  *http.ServeMux // next, when it is one and the route is needed early
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	if m.excluded(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	method := methodIndex(r.Method)
	g := h.inflight(r, method)
	g.inc()
	rw := m.writers.Get().(*writer)
	start := time.Since(m.epoch)
	served := false
	defer func() {
		secs := (time.Since(m.epoch) - start).Seconds()
		g.n.Add(-1)
		status := rw.code()
		if !served && rw.status == 0 {
			status = http.StatusInternalServerError
		}
		m.record(r.Context(), h.routeAfter(r), method, status, !served, secs)
		if served { // after a panic the writer may still be in use up the stack
			rw.w = nil
			m.writers.Put(rw)
		}
	}()
	h.next.ServeHTTP(rw.wrap(w), r)
	served = true
}

func (m *middleware) excluded(r *http.Request) bool {
	if r.URL == nil {
		return false
	}
	for _, p := range m.cfg.excluded {
		if r.URL.Path == p {
			return true
		}
	}
	return false
}

func (h *handler) inflight(r *http.Request, method uint8) *gauge {
	if !h.m.byRoute {
		return h.m.methods[method]
	}
	return h.m.routes.get(h.routeBefore(r), uint64(method))
}

func (m *middleware) record(ctx context.Context, route string, method uint8, status int, panicked bool, secs float64) {
	s := m.series.get(route, seriesCode(status, method, panicked && m.names.ErrorType != ""))
	m.duration.Record(ctx, secs, s.record...)
	if m.counts {
		s.requests.Add(1)
		if s.failed || panicked || (s.overflow && m.cfg.isError(status)) {
			s.errors.Add(1)
		}
	}
}

// observe reports the asynchronous instruments from otelred's own counts.
func (m *middleware) observe(_ context.Context, o metric.Observer) error {
	if m.byRoute {
		m.routes.each(func(g *gauge) { o.ObserveInt64(m.active, g.n.Load(), g.observe...) })
		if g := m.routesOverflow; g.used.Load() {
			o.ObserveInt64(m.active, g.n.Load(), g.observe...)
		}
	} else {
		for _, g := range m.methods {
			if g.used.Load() {
				o.ObserveInt64(m.active, g.n.Load(), g.observe...)
			}
		}
	}
	if m.counts {
		count := func(s *series) {
			if n := s.requests.Load(); n > 0 {
				o.ObserveInt64(m.requests, n, s.observe...)
			}
			if n := s.errors.Load(); n > 0 {
				o.ObserveInt64(m.errors, n, s.observe...)
			}
		}
		m.series.each(count)
		count(m.overflowOK)
	}
	return nil
}

// newSeries builds the attribute set of a key the first time it is seen.
func (m *middleware) newSeries(route string, code uint64) *series {
	status, method, panicked := unpackSeries(code)
	failed := panicked || m.cfg.isError(status)
	kv := []attribute.KeyValue{
		m.names.Method.String(methodNames[method]),
		m.names.Route.String(route),
		m.names.Status.Int(status),
	}
	if failed && m.names.ErrorType != "" {
		et := "panic"
		if !panicked {
			et = strconv.Itoa(status)
		}
		kv = append(kv, m.names.ErrorType.String(et))
	}
	return newSeries(m.withService(kv...), failed)
}

// overflowSeries is where a key goes when the cache is full. Semconv keeps
// failures apart, so error ratios stay right past the limit; Classic counts
// them in its errors counter.
func (m *middleware) overflowSeries(code uint64) *series {
	if status, _, panicked := unpackSeries(code); panicked || m.cfg.isError(status) {
		return m.overflowFailed
	}
	return m.overflowOK
}

func (m *middleware) newOverflow(failed bool) *series {
	kv := []attribute.KeyValue{m.names.Route.String(Overflow), overflowKey.Bool(true)}
	if failed {
		kv = append(kv, m.names.ErrorType.String("_OTHER"))
	}
	s := newSeries(m.withService(kv...), failed)
	s.overflow = true
	return s
}

func (m *middleware) newGauge(route string, method uint64) *gauge {
	g := &gauge{observe: observeOpts(m.withService(
		m.names.Method.String(methodNames[method]),
		m.names.Route.String(route),
	)...)}
	g.used.Store(true)
	return g
}

// withService appends the service attribute when the profile has one.
func (m *middleware) withService(kv ...attribute.KeyValue) []attribute.KeyValue {
	if m.names.Service != "" {
		kv = append(kv, m.names.Service.String(m.cfg.service))
	}
	return kv
}

func newSeries(kv []attribute.KeyValue, failed bool) *series {
	set := attribute.NewSet(kv...)
	return &series{
		record:  []metric.RecordOption{metric.WithAttributeSet(set)},
		observe: []metric.ObserveOption{metric.WithAttributeSet(set)},
		failed:  failed,
	}
}

func observeOpts(kv ...attribute.KeyValue) []metric.ObserveOption {
	return []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
}
