// Package otelredecho records otelred's RED metrics for an echo server.
//
// One line installs it, before other middleware:
//
//	e := echo.New()
//	e.Use(otelredecho.Middleware(otelred.WithMeterProvider(mp)))
//
// [Middleware] takes the options of [otelred.New] and records the same
// instruments, with the same profiles, error rules, filter and bounded
// attribute sets: it is built on [otelred.NewServer], and only tells it
// echo's route template and status.
//
// # Routes
//
// The route is echo's template of the matched route, [echo.Context.Path],
// such as "/users/:id" or "/static/*". Requests that match no route of
// their method are recorded under [otelred.Unmatched]: echo's 404, where
// the path is empty, and its 405 and automatic OPTIONS answer, where echo
// sets [echo.ContextKeyHeaderAllow] and leaves the path of the resource.
// A 404 that a RouteNotFound route answers is recorded under that route's
// template: echo registers "/prefix" and "/prefix/*" as RouteNotFound
// routes for every Group given middleware, so a 404 under such a group is
// recorded as "/prefix/*". Raw paths are never recorded.
//
// # Errors and status
//
// echo turns the error a handler returns into a response in its
// HTTPErrorHandler, after the middleware chain has returned. So that the
// status recorded is the one the client gets, the middleware does what
// echo's own logging middleware does (middleware.Logger, and
// middleware.RequestLogger with HandleError): it hands the error to
// [echo.Context.Error] at once, then returns it. The response is then
// committed, and middleware outside this one can no longer change it;
// echo's default error handler ignores the error when it comes back up.
// A handler that sends nothing and returns nil is recorded as 200.
//
// # Panics
//
// A panicking handler is recorded as the core records it: status 500
// unless one was already sent, and error.type "panic" in the Semconv
// profile. The middleware does not recover: the panic continues to
// whatever is outside it. Put middleware.Recover() before it
// (e.Use(middleware.Recover(), otelredecho.Middleware(...))) so that
// Recover answers 500 and the request is still recorded as a panic; a
// Recover placed after it turns the panic into an error, recorded as a
// plain 500.
//
// # Middleware ordering
//
// Register it with Echo.Use, first or right after Recover, so that the
// duration covers the rest of the chain and the statuses that other
// middleware sends are recorded too. With Echo.Pre it records the same
// requests, but the Classic profile counts them in flight under
// [otelred.Unmatched], since echo routes after Pre middleware.
package otelredecho
