package otelred

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/otelred/internal/red"
)

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
//     "/users/{id}"), or from what a router hands over with [SetRoute], or
//     with [WithRoute]; requests that matched no route have no http.route
//     in Semconv, and share the path [Unmatched] in Classic;
//   - records a panicking handler as a failure and lets the panic continue
//     unchanged, so [http.ErrAbortHandler] still reaches net/http: with
//     the status it sent, or, when it sent none, with error.type "panic"
//     and no status in Semconv (a status of 500 in Classic). The
//     middleware does not recover, so it cannot tell ErrAbortHandler from
//     any other panic: both are recorded the same.
//
// The ResponseWriter the handler sees has exactly the optional interfaces
// (http.Flusher, http.Hijacker, io.ReaderFrom, http.Pusher, io.StringWriter)
// of the one it wraps, and Unwrap for [http.ResponseController]. It is
// pooled: as net/http requires, the handler must not use it after returning.
//
// It takes every option but [WithHosts], which is the client's. Errors
// from bad options or from creating instruments are returned here; the
// request path itself never fails because of instrumentation. Wrapping a
// nil handler panics at once.
func New(opts ...Option) (func(http.Handler) http.Handler, error) {
	m, err := newMiddleware("New", opts)
	if err != nil {
		return nil, err
	}
	return m.wrap, nil
}

// middleware is the state that the handlers wrapped by one New share.
type middleware struct {
	cfg config
	labeler
	sig     *signal
	byRoute bool // the in-flight gauge is labelled by route (Classic)
	isError func(status int) bool

	red.Instruments

	series                     *red.Cache[*red.Series] // by route and seriesCode
	attrs                      *red.Attributes         // of WithAttribute; nil: none
	overflowOK, overflowFailed *red.Series

	known          *methodTable           // the methods recorded by name
	methods        [2][]*red.Gauge        // in flight by url.scheme (https) and method
	routes         *red.Cache[*red.Gauge] // in flight by route and method
	routesOverflow *red.Gauge

	writers sync.Pool

	// routeSeen is set once a request has matched a route; noRoutes
	// counts the successful responses with no route until then, up to
	// noRouteReport, when noRouteReported is set (see noRoute).
	routeSeen       atomic.Bool
	noRoutes        atomic.Int64
	noRouteReported atomic.Bool

	// epoch is when the middleware was built. Durations are measured as
	// time.Since(epoch), which reads only the monotonic clock, where
	// time.Now also reads the wall clock: on a virtual machine each reading
	// costs tens of nanoseconds, so this saves one per request.
	epoch time.Time
}

// seriesCode packs what identifies an attribute set of the duration
// histogram besides its route: the status (as an int32, in the high half),
// the method (bits 1 to 8), the connection's scheme and protocol version
// (bits 9 to 12, 0 where the profile records neither), and whether the
// handler panicked (bit 0), which is set only where it changes the
// attributes (error.type). Bits 13 to 31 are left for the id of the
// request's own attribute values (see withValues).
func seriesCode(status int, method uint8, c conn, panicked bool) uint64 {
	code := uint64(uint32(int32(status)))<<32 | uint64(c)<<9 | uint64(method)<<1
	if panicked {
		code |= 1
	}
	return code
}

// serverAttrShift is where a server series code holds the id of the
// request's attribute values.
const serverAttrShift = 13

// unpackSeries is the inverse of seriesCode.
func unpackSeries(code uint64) (status int, method uint8, c conn, panicked bool) {
	return int(int32(uint32(code >> 32))), uint8(code >> 1), conn(code>>9) & (1<<connBits - 1), code&1 != 0
}

// newMiddleware builds the state of the constructor named ctor, which
// takes the server's options.
func newMiddleware(ctor string, opts []Option) (*middleware, error) {
	cfg, err := newConfig(ctor, forServer, opts)
	if err != nil {
		return nil, err
	}
	p := &profiles[cfg.profile]
	m := &middleware{
		cfg:     cfg,
		labeler: labeler{p.server.names, cfg.service},
		sig:     &p.server,
		byRoute: p.server.activeByRoute,
		isError: cfg.errorRule(&p.server),
		epoch:   time.Now(),
	}
	// Writers take stripes in turn: the pool keeps one per P at hand, and
	// those made one after the other count in different stripes.
	var made atomic.Uint32
	if m.attrs, err = cfg.attributes(ctor, &m.names); err != nil {
		return nil, err
	}
	if m.known, err = knownMethods(ctor); err != nil {
		return nil, err
	}
	m.writers.New = func() any { return &writer{m: m, stripe: made.Add(1), attrs: m.attrs} }

	meter := cfg.meter()
	spec := p.server.spec(p.boundaries)
	if cfg.bodySizes {
		spec = p.server.withSizes(spec)
	}
	if m.Instruments, err = red.NewInstruments(meter, spec); err != nil {
		return nil, err
	}
	m.series = red.NewCache(cfg.limit, m.newSeries, m.overflowSeries)
	limit := cfg.limitOf(ctor, m.names.Duration, m.names.Route)
	m.series.ReportTo(limit)
	m.attrs.ReportTo(limit)
	m.overflowOK, m.overflowFailed = m.overflows(m.names.Route)
	if m.byRoute {
		m.routes = red.NewCache(cfg.limit, m.newGauge, func(string, uint64) *red.Gauge { return m.routesOverflow })
		m.routes.ReportTo(cfg.limitOf(ctor, m.names.Active, m.names.Route))
		m.routesOverflow = m.overflowGauge(m.names.Route)
	} else {
		for https := range m.methods {
			m.methods[https] = make([]*red.Gauge, len(m.known.names))
			for i := range m.known.names {
				m.methods[https][i] = m.newMethodGauge(uint8(i), conn(https))
			}
		}
	}
	// Register last: a reader may collect at once, and observe reads all of
	// the state above.
	if _, err := meter.RegisterCallback(m.observe, m.Observables...); err != nil {
		return nil, fmt.Errorf("otelred: registering the collection callback: %w", err)
	}
	cfg.checkProvider(ctor, m.Duration)
	checkOtelhttp(cfg.provider, cfg.global, profiles[Semconv].server.names.Duration) // otelhttp's name too
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
	if m.skip(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	kind, nest := kindsOf(w)
	if nest {
		if outer := writerOf(w); outer != nil && outer.m.recordsFor(m) {
			h.serveInside(outer, w, r)
			return
		}
	}
	method := m.known.index(r.Method)
	c := connOf(&m.names, r)
	// Classic counts in-flight requests by route, so it names the route
	// before serving, from the pattern it finds then.
	var g *red.Gauge
	var route, pattern string
	if m.byRoute {
		route, pattern = h.routeBefore(r)
		g = m.routes.Get(route, uint64(method))
	} else {
		g = m.methods[c&1][method]
	}
	rw := m.writers.Get().(*writer)
	g.Inc(rw.stripe)
	view := rw.wrapKind(w, kind)
	// With WithBodySizes, the handler reads r.Body through the writer's
	// counter, until the original is put back.
	var body io.ReadCloser
	if m.cfg.bodySizes && r.Body != nil && r.Body != http.NoBody {
		body = r.Body
		rw.body = countingBody{rc: body}
		r.Body = &rw.body
	}
	start := time.Since(m.epoch)
	served := false
	defer func() {
		secs := (time.Since(m.epoch) - start).Seconds()
		g.Dec(rw.stripe)
		if body != nil {
			r.Body = body
		}
		status, code := m.ended(rw.status, method, c, !served)
		var s *red.Series
		switch {
		case rw.hasValues && !withValues(m.attrs, &rw.values, &code, serverAttrShift):
			s = m.overflowSeries("", code)
		case m.byRoute:
			s = h.routedSeries(r, rw, g, route, pattern, code)
		default:
			s = m.series.Get(h.routeAfter(r, rw), code)
		}
		m.record(r.Context(), s, rw.stripe, status, !served, secs)
		if m.cfg.bodySizes {
			m.recordSizes(r, rw, s)
		}
		if s.NoRoute {
			m.noRoute(status)
		}
		if served { // after a panic the writer may still be in use up the stack
			rw.w = nil
			m.writers.Put(rw)
		}
	}()
	h.next.ServeHTTP(view, r)
	served = true
}

// recordsFor reports whether m, the middleware of a writer that the
// middleware inner finds around its own, records the requests inner would
// record: on the same MeterProvider and in the same profile, both would
// count each request in the same series. Middlewares on different
// providers or profiles record apart, each on its own.
func (m *middleware) recordsFor(inner *middleware) bool {
	return m == inner || (m.cfg.profile == inner.cfg.profile && red.SameProvider(m.cfg.provider, inner.cfg.provider))
}

// serveInside serves a request that outer, a middleware around this one,
// records: it passes the request and the writer through unchanged, so
// SetRoute and SetAttribute reach outer's writer, and hands outer the
// route that this middleware, nearer the router, reads from its own
// request, unless a route was handed over already.
func (h *handler) serveInside(outer *writer, w http.ResponseWriter, r *http.Request) {
	defer func() {
		if outer.route == "" {
			outer.route = h.m.patternOf(r)
		}
	}()
	h.next.ServeHTTP(w, r)
}

// noRoute counts a request recorded with no route, which the handler
// answered with status, and reports ErrNoRoute when noRouteReport
// successful ones have come back while no request has matched a route. A
// middleware with a WithRoute function names its own routes, and reports
// nothing; after the report, or once a route has matched, this costs two
// loads.
func (m *middleware) noRoute(status int) {
	if status < 200 || status > 299 || m.cfg.route != nil || m.routeSeen.Load() || m.noRouteReported.Load() {
		return
	}
	if m.noRoutes.Add(1) == noRouteReport {
		m.noRouteReported.Store(true)
		otel.Handle(fmt.Errorf("%w: %d requests were answered 2xx with no route, and none has matched one: "+
			"a middleware between otelred and the router replaced the request (r.WithContext), so the router's match never reached otelred; "+
			"put otelred inside that middleware (first in chi's r.Use), or hand the route over with WithRoute or SetRoute. "+
			"A handler with no router names its route with WithRoute (see %s)",
			ErrNoRoute, noRouteReport, red.DocNoRoute))
	}
}

// skip reports whether r is left unrecorded: by the WithFilter function,
// or else when its path is the default metrics path.
func (m *middleware) skip(r *http.Request) bool {
	if m.cfg.filter != nil {
		return !m.cfg.filter(r)
	}
	return r.URL != nil && r.URL.Path == defaultMetricsPath
}

// routedSeries finds the attribute set, of the given code, of a request
// served by Classic, which named the route before serving (route, from
// pattern) to count it in flight in g. When the router left the same
// pattern on the request, the route is the same, and g, the route's own
// gauge, remembers where the route's series are: the map by route is not
// consulted a second time.
func (h *handler) routedSeries(r *http.Request, rw *writer, g *red.Gauge, route, pattern string, code uint64) *red.Series {
	m := h.m
	if m.cfg.route != nil || rw.route != "" || r.Pattern != pattern || g == m.routesOverflow {
		return m.series.Get(h.routeAfter(r, rw), code)
	}
	if rt := g.Series.Load(); rt != nil {
		return m.series.GetIn(rt, route, code)
	}
	s := m.series.Get(route, code)
	if rt := m.series.Route(route); rt != nil {
		g.Series.Store(rt)
	}
	return s
}

// ended returns the status a request that has ended is recorded with,
// and the code of its attribute set, from the status the handler sent (0
// for none), its method and conn, and whether it panicked: a handler that
// sent nothing sent 200, as net/http does, unless it panicked, when the
// profile's abort status is recorded (none in Semconv). This is the one
// rule for every way a request ends, through the middleware or
// [Request.End].
func (m *middleware) ended(sent int, method uint8, c conn, panicked bool) (status int, code uint64) {
	switch status = sent; {
	case sent != 0:
	case panicked:
		status = m.sig.abortStatus
	default:
		status = http.StatusOK
	}
	return status, seriesCode(status, method, c, panicked && m.names.ErrorType != "")
}

func (m *middleware) record(ctx context.Context, s *red.Series, stripe uint32, status int, panicked bool, secs float64) {
	m.Duration.Record(ctx, secs, s.Record...)
	if m.Counting() {
		s.Count(stripe, s.Failed || panicked || (s.Overflow && m.isError(status)))
	}
}

// recordSizes records the body sizes of a request served through rw.
func (m *middleware) recordSizes(r *http.Request, rw *writer, s *red.Series) {
	ctx := r.Context()
	m.RequestSize.Record(ctx, rw.body.n, s.Record...)
	sent := rw.written
	if r.Method == http.MethodHead { // net/http sends no body
		sent = 0
	}
	m.ResponseSize.Record(ctx, sent, s.Record...)
}

// observe reports the asynchronous instruments from otelred's own counts.
func (m *middleware) observe(_ context.Context, o metric.Observer) error {
	if m.byRoute {
		m.routes.Each(func(g *red.Gauge) { m.ObserveGauge(o, g) })
		m.ObserveGauge(o, m.routesOverflow)
	} else {
		for i := range m.methods {
			if i == 1 && m.names.Scheme == "" {
				break // one row serves every request
			}
			for _, g := range m.methods[i] {
				m.ObserveGauge(o, g)
			}
		}
	}
	if m.Counting() {
		m.series.Each(func(s *red.Series) { m.ObserveCounts(o, s) })
		m.ObserveCounts(o, m.overflowOK)
	}
	return nil
}

// newSeries builds the attribute set of a key the first time it is seen.
func (m *middleware) newSeries(route string, code uint64) *red.Series {
	status, method, c, panicked := unpackSeries(code)
	failed := panicked || m.isError(status)
	kv := []attribute.KeyValue{m.names.Method.String(m.known.names[method])}
	noRoute := route == Unmatched
	if noRoute {
		route = m.names.Unmatched
	} else {
		m.routeSeen.Store(true)
	}
	if route != "" {
		kv = append(kv, m.names.Route.String(route))
	}
	if status != 0 {
		kv = append(kv, m.names.Status.Int(status))
	}
	kv = m.connAttrs(kv, c)
	kv = m.attrs.Append(kv, attrID(code, serverAttrShift))
	if failed && m.names.ErrorType != "" {
		et := "panic"
		if !panicked {
			et = strconv.Itoa(status)
		}
		kv = append(kv, m.names.ErrorType.String(et))
	}
	s := red.NewSeries(failed, m.withService(kv...)...)
	s.NoRoute = noRoute
	return s
}

// overflowSeries is where a key goes when the cache is full. Semconv keeps
// failures apart, so error ratios stay right past the limit; Classic counts
// them in its errors counter.
func (m *middleware) overflowSeries(_ string, code uint64) *red.Series {
	if status, _, _, panicked := unpackSeries(code); panicked || m.isError(status) {
		return m.overflowFailed
	}
	return m.overflowOK
}

func (m *middleware) newGauge(route string, method uint64) *red.Gauge {
	return red.NewGauge(true, m.withService(
		m.names.Method.String(m.known.names[method]),
		m.names.Route.String(route),
	)...)
}

// newMethodGauge builds the in-flight gauge of a method, and of the
// scheme where the profile records it (https says which).
func (m *middleware) newMethodGauge(method uint8, https conn) *red.Gauge {
	kv := []attribute.KeyValue{m.names.Method.String(m.known.names[method])}
	if m.names.Scheme != "" {
		kv = append(kv, m.names.Scheme.String(https.scheme()))
	}
	return red.NewGauge(false, kv...)
}
