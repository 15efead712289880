package otelred

import (
	"context"
	"net/http"
	"time"

	"github.com/otelred/otelred/otelred/internal/red"
)

// Server records the RED metrics of HTTP server requests for an adapter
// to a framework whose handlers are not net/http middleware, such as gin
// or echo: the adapter calls [Server.Start] when a request arrives and
// [Request.End] when its handler returns, with the route template and the
// status the framework knows. It records the same instruments, with the
// same options, profiles and bounded attribute sets, as the middleware of
// [New].
type Server struct {
	m *middleware
}

// NewServer returns a Server. It takes the options [New] takes, and
// returns the same errors.
func NewServer(opts ...Option) (*Server, error) {
	m, err := newMiddleware("NewServer", opts)
	if err != nil {
		return nil, err
	}
	return &Server{m: m}, nil
}

// Request is one request a [Server] records, from [Server.Start] to
// [Request.End]. It is a small value: recording allocates nothing.
type Request struct {
	m      *middleware
	g      *red.Gauge
	stripe uint32 // where it counts, from Start to End
	ctx    context.Context
	start  time.Duration
	method uint8
	conn   conn
}

// Start counts r in flight and starts its clock. route is the request's
// route template when the framework has matched it before serving, as gin
// and echo have, or "" when it is not known yet; only the Classic
// profile's in-flight gauge, which is labelled by route, uses it, and
// counts the request under [Unmatched] while it is "".
//
// A request that [WithFilter] leaves out gets a Request whose End does
// nothing.
func (s *Server) Start(r *http.Request, route string) Request {
	m := s.m
	if m.skip(r) {
		return Request{}
	}
	method := m.known.index(r.Method)
	c := connOf(&m.names, r)
	var g *red.Gauge
	if m.byRoute {
		g = m.routes.Get(routeValue(route), uint64(method))
	} else {
		g = m.methods[c&1][method]
	}
	stripe := red.Stripe()
	g.Inc(stripe)
	return Request{m: m, g: g, stripe: stripe, ctx: r.Context(), start: time.Since(m.epoch), method: method, conn: c}
}

// End records the request, once, as the middleware of [New] records a
// request that ends. route is the route template the framework matched,
// such as "/users/:id" ("" when it matched none: see [Unmatched]); as with
// [WithRoute], it must never be the raw path. status is the status sent,
// or 0 when none was: that is recorded as 200, as net/http sends, unless
// the handler panicked, when it is recorded with no status in Semconv and
// as 500 in Classic. panicked says whether it did; the caller then lets
// the panic continue.
func (q Request) End(route string, status int, panicked bool) {
	m := q.m
	if m == nil {
		return
	}
	secs := (time.Since(m.epoch) - q.start).Seconds()
	q.g.Dec(q.stripe)
	status, code := m.ended(status, q.method, q.conn, panicked)
	m.record(q.ctx, m.series.Get(routeValue(route), code), q.stripe, status, panicked, secs)
}
