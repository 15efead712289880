package otelred

import (
	"net/http"
	"path"
	"strings"

	"github.com/otelred/otelred/otelred/internal/red"
)

// Unmatched is the route the [Classic] profile records for every request
// that matched no route (a 404 or 405 from [http.ServeMux], say), in its
// path label. [Semconv] records no http.route for them at all, as the
// semantic conventions set it only when it is available; its series of
// such requests are those without http.route. Raw paths never become
// values. A [WithRoute] function or [SetRoute] that names a route
// "unmatched" names this one.
const Unmatched = "unmatched"

// Overflow is the route recorded, together with otel.metric.overflow=true,
// for requests whose attribute set did not fit under the cardinality limit
// (see [WithCardinalityLimit]). The route keeps the set apart from the SDK's
// own overflow set, which the SDK takes as a sign that it has overflowed.
const Overflow = "overflow"

// SetRoute hands otelred the route template of the request being served
// through w, such as "/users/{id}", for routers that match a request
// without setting [http.Request.Pattern] on the request otelred sees:
// gorilla/mux passes a new request down, and httprouter keeps the template
// to itself. Call it from the matched route's handler, or from a
// middleware the router runs after matching, before or after serving. The
// template wins over r.Pattern and [WithRoute]; as there, anything before
// the first "/" is removed, and raw paths must never be passed. A template
// longer than [MaxValueLength] is recorded as "_OTHER", and invalid UTF-8
// with U+FFFD in place of the invalid bytes.
//
// SetRoute follows w's Unwrap chain (as [http.ResponseController] does) to
// the writer otelred gave the handler, and reports whether it found one;
// a request otelred does not record (see [WithFilter]) has none, and the
// call is then harmless. It allocates nothing.
//
// A request that reaches no SetRoute call, a 404 or 405 from the router
// say, is recorded under the route the router left on the request, or as
// one that matched no route (see [Unmatched]).
func SetRoute(w http.ResponseWriter, route string) bool {
	rw := writerOf(w)
	if rw == nil {
		return false
	}
	rw.route = route
	return true
}

// writerOf follows w's Unwrap chain to the writer otelred gave the
// handler, and returns nil when there is none.
func writerOf(w http.ResponseWriter) *writer {
	for {
		if rw, ok := w.(interface{ red() *writer }); ok {
			return rw.red()
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// routeValue is the value recorded for a route pattern or template: its
// template, cleaned as every value from outside is (see red.Clean), or
// [Unmatched] when there is none.
func routeValue(p string) string {
	if p = template(p); p == "" {
		return Unmatched
	}
	return red.Clean(p)
}

// template reduces a route pattern to its path template: the method and
// host of a ServeMux pattern are removed, so "GET example.com/users/{id}"
// becomes "/users/{id}". A pattern without a "/" is kept whole; an empty one
// stays empty.
func template(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		return pattern[i:]
	}
	return pattern
}

// routeAfter names the route of a request that has been served through
// rw, reading what the router handed over or left on the same request.
func (h *handler) routeAfter(r *http.Request, rw *writer) string {
	p := rw.route
	if p == "" {
		p = h.m.patternOf(r)
	}
	return routeValue(p)
}

// patternOf is the route pattern a served request r carries: what the
// WithRoute function names, or r.Pattern; "" for none.
func (m *middleware) patternOf(r *http.Request) string {
	switch {
	case m.cfg.route != nil:
		return m.cfg.route(r)
	case !connectRedirect(r, r.Pattern):
		return r.Pattern
	}
	return ""
}

// routeBefore names the route of a request that has not been served yet,
// for in-flight gauges labelled by route, and returns the pattern it found
// too. It uses, in order: a pattern an outer router has already set, the
// wrapped ServeMux's own match, and the WithRoute function. When none of
// them knows, the request is counted under Unmatched until it finishes.
func (h *handler) routeBefore(r *http.Request) (route, pattern string) {
	pattern = r.Pattern
	if pattern == "" && h.mux != nil {
		_, pattern = h.mux.Handler(r)
	}
	p := pattern
	if connectRedirect(r, p) {
		p = ""
	}
	if p == "" && h.m.cfg.route != nil {
		p = h.m.cfg.route(r)
	}
	return routeValue(p), pattern
}

// connectRedirect reports whether p is what ServeMux puts in r.Pattern when
// it redirects a CONNECT request to the same path with a trailing slash:
// the request's own cleaned path and a "/", not a pattern. Taken as a
// route, it would make every such path a label value.
func connectRedirect(r *http.Request, p string) bool {
	return r.Method == http.MethodConnect && p != "" && r.URL != nil && p == cleanPath(r.URL.Path)+"/"
}

// cleanPath cleans a request path as ServeMux does before it redirects.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}
