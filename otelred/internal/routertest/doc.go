// Package routertest tests the recipes that give otelred the route
// template of routers that do not set [net/http.Request.Pattern] on the
// request otelred sees: gorilla/mux, which serves the matched route with a
// new request, and julienschmidt/httprouter, which keeps the template to
// itself, both of which hand it over with otelred.SetRoute; and go-chi/chi
// behind a middleware that replaces the request, whose shared route
// context otelred.WithRoute reads. docs/frameworks.md shows the recipes.
//
// It is a module of its own, so that none of the routers enters the
// go.mod of otelred's users. It holds tests only.
package routertest
