// Package routertest tests the recipes that give otelred the route
// template of routers that do not set [net/http.Request.Pattern]:
// gorilla/mux, which serves the matched route with a new request, and
// julienschmidt/httprouter, which keeps the template to itself. Both hand
// it over with otelred.SetRoute; docs/frameworks.md shows the recipes.
//
// It is a module of its own, so that neither router enters the go.mod of
// otelred's users. It holds tests only.
package routertest
