// Package otelredgin records otelred's RED metrics for a gin engine.
//
// One line installs it, before the routes it should see:
//
//	r := gin.New()
//	r.Use(otelredgin.Middleware(otelred.WithMeterProvider(mp)))
//
// [Middleware] takes the options of [otelred.New] and records the same
// instruments, with the same profiles, error rules, filter and bounded
// attribute sets: it is built on [otelred.NewServer], and only tells it
// gin's route template and status.
//
// # Routes
//
// The route is gin's template of the matched route, [gin.Context.FullPath],
// such as "/users/:id" or "/files/*path". Requests that match no route,
// gin's 404 and, with [gin.Engine.HandleMethodNotAllowed] set, its 405,
// reach global middleware with an empty FullPath and are recorded under
// [otelred.Unmatched]. Redirects gin sends for a trailing slash or a fixed
// path (RedirectTrailingSlash, RedirectFixedPath) run no middleware at
// all, and are not recorded.
//
// # Status
//
// The status is the one gin sends: the handler's (c.Status, c.JSON, ...),
// 200 when it set none, and for 404 and 405 the code gin writes after the
// middleware returns.
//
// # Panics
//
// A panicking handler is recorded as the core records it: status 500
// unless one was already written, and error.type "panic" in the Semconv
// profile. The middleware does not recover: the panic continues to
// whatever is outside it. Put gin.Recovery() before it (r.Use(gin.Recovery(),
// otelredgin.Middleware(...))) so that Recovery answers 500 to the client
// and the request is still recorded as a panic; a Recovery placed after it
// turns the panic into a plain 500 before otelred sees it.
//
// # Middleware ordering
//
// Register it with Engine.Use before other middleware, so that the
// duration covers them and requests they reject are recorded too. Only
// routes registered after the Use call run it (as for any gin middleware).
package otelredgin
