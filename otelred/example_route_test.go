package otelred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// router is a small router that is not an http.ServeMux: it does not set
// r.Pattern. A template's "{name}" segment matches any one path segment.
type router struct {
	routes []route
}

type route struct {
	method, template string
	handler          http.HandlerFunc
}

func (rt *router) handle(method, template string, h http.HandlerFunc) {
	rt.routes = append(rt.routes, route{method, template, h})
}

// match returns the route that serves r, or nil.
func (rt *router) match(r *http.Request) *route {
	for i := range rt.routes {
		if rt.routes[i].method == r.Method && matches(rt.routes[i].template, r.URL.Path) {
			return &rt.routes[i]
		}
	}
	return nil
}

func matches(template, path string) bool {
	want, got := strings.Split(template, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != got[i] && !(strings.HasPrefix(want[i], "{") && got[i] != "") {
			return false
		}
	}
	return true
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := rt.match(r); m != nil {
		m.handler(w, r)
		return
	}
	http.NotFound(w, r)
}

// A router that does not set r.Pattern names routes through WithRoute: the
// function returns the template the router matched, or "" for none, which
// is recorded as "unmatched".
func ExampleWithRoute() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	rt := &router{}
	rt.handle("GET", "/users/{id}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "a user")
	})
	rt.handle("GET", "/users/{id}/orders/{order}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "an order")
	})

	mw, err := otelred.New(
		otelred.WithMeterProvider(provider),
		otelred.WithRoute(func(r *http.Request) string {
			if m := rt.match(r); m != nil {
				return m.template
			}
			return ""
		}),
	)
	if err != nil {
		panic(err)
	}
	handler := mw(rt)

	for _, path := range []string{"/users/1", "/users/2", "/users/2/orders/77", "/users"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	testsupport.PrintPoints(reader)
	// Output:
	// http.server.active_requests{http.request.method=GET,url.scheme=http} 0
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/users/{id},network.protocol.version=1.1,url.scheme=http} count=2
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/users/{id}/orders/{order},network.protocol.version=1.1,url.scheme=http} count=1
	// http.server.request.duration{http.request.method=GET,http.response.status_code=404,network.protocol.version=1.1,url.scheme=http} count=1
}
