package otelred

import (
	"net/http"
	"path"
	"strings"
)

// Unmatched is the route recorded for every request that matched no route
// (a 404 or 405 from [http.ServeMux], say). Raw paths never become values.
const Unmatched = "unmatched"

// Overflow is the route recorded, together with otel.metric.overflow=true,
// for requests whose attribute set did not fit under the cardinality limit
// (see [WithCardinalityLimit]). The route keeps the set apart from the SDK's
// own overflow set, which the SDK takes as a sign that it has overflowed.
const Overflow = "overflow"

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

// routeAfter names the route of a request that has been served, reading
// what the router left on the same request.
func (h *handler) routeAfter(r *http.Request) string {
	var p string
	if h.m.cfg.route != nil {
		p = h.m.cfg.route(r)
	} else if !connectRedirect(r, r.Pattern) {
		p = r.Pattern
	}
	if p = template(p); p == "" {
		return Unmatched
	}
	return p
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
	if p = template(p); p == "" {
		return Unmatched, pattern
	}
	return p, pattern
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
