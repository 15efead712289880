package otelred_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// The quick start: wrap a ServeMux and read the duration histogram back.
func ExampleNew() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	mw, err := otelred.New(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("id"))
	})
	handler := mw(mux)

	for _, path := range []string{"/users/1", "/users/2", "/nowhere"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			for _, dp := range h.DataPoints {
				route, ok := dp.Attributes.Value("http.route")
				if !ok { // the request matched no route
					route = attribute.StringValue("(none)")
				}
				status, _ := dp.Attributes.Value("http.response.status_code")
				fmt.Println(m.Name, route.AsString(), status.AsInt64(), dp.Count)
			}
		}
	}
	// Unordered output:
	// http.server.request.duration /users/{id} 200 2
	// http.server.request.duration (none) 404 1
}

// The Classic profile records the tutorial's metric and label names.
func ExampleWithProfile() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	mw, err := otelred.New(
		otelred.WithMeterProvider(provider),
		otelred.WithProfile(otelred.Classic),
		otelred.WithService("shop"),
	)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mw(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fail", nil))

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if s, ok := m.Data.(metricdata.Sum[int64]); ok && s.IsMonotonic {
			for _, dp := range s.DataPoints {
				fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Unordered output:
	// http_requests_total method=GET,path=/fail,service=shop,status_code=500 1
	// http_errors_total method=GET,path=/fail,service=shop,status_code=500 1
}

// The client side: a Transport around the base RoundTripper records every
// outgoing request by method, host and status. Here the base is a stub
// that answers without a network: 200, except 503 for /busy, and a timeout
// for /hang.
func ExampleNewTransport() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch r.URL.Path {
		case "/hang":
			return nil, context.DeadlineExceeded
		case "/busy":
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody, Request: r}, nil
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	transport, err := otelred.NewTransport(base, otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: transport}

	for _, url := range []string{
		"http://inventory.internal/items/1",
		"http://inventory.internal/items/2",
		"http://inventory.internal/busy",
		"https://payments.internal:8443/hang",
	} {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
		}
	}

	testsupport.PrintPoints(reader)
	// Output:
	// http.client.request.duration{error.type=503,http.request.method=GET,http.response.status_code=503,server.address=inventory.internal,server.port=80} count=1
	// http.client.request.duration{error.type=timeout,http.request.method=GET,server.address=payments.internal,server.port=8443} count=1
	// http.client.request.duration{http.request.method=GET,http.response.status_code=200,server.address=inventory.internal,server.port=80} count=2
}

// Work that is not an HTTP request: Start and End an operation by hand, or
// let Track run a function and record its error.
func ExampleNewOperations() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	ops, err := otelred.NewOperations(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// By hand: the name comes from the code, never from input.
	for range 2 {
		op := ops.Start(ctx, "orders.process")
		// ... process an order ...
		op.End(nil)
	}

	// Around a function: its error is the failure, by type.
	_ = ops.Track(ctx, "invoices.read", func(context.Context) error {
		return &fs.PathError{Op: "open", Path: "invoice.pdf", Err: fs.ErrNotExist}
	})
	_ = ops.Track(ctx, "invoices.read", func(context.Context) error { return nil })
	_ = ops.Track(ctx, "invoices.send", func(context.Context) error { return errors.New("mailbox full") })

	testsupport.PrintPoints(reader)
	// Output:
	// operation.active{operation.name=invoices.read} 0
	// operation.active{operation.name=invoices.send} 0
	// operation.active{operation.name=orders.process} 0
	// operation.duration{error.type=*fs.PathError,operation.name=invoices.read} count=1
	// operation.duration{error.type=_OTHER,operation.name=invoices.send} count=1
	// operation.duration{operation.name=invoices.read} count=1
	// operation.duration{operation.name=orders.process} count=2
}

// Health checks and probes record nothing: the filter keeps every request
// but those under /health and those a load balancer marks as probes.
func ExampleWithFilter() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	mw, err := otelred.New(
		otelred.WithMeterProvider(provider),
		otelred.WithFilter(func(r *http.Request) bool {
			return !strings.HasPrefix(r.URL.Path, "/health") && r.Header.Get("X-Probe") == ""
		}),
	)
	if err != nil {
		panic(err)
	}
	handler := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	probe := httptest.NewRequest("GET", "/orders", nil)
	probe.Header.Set("X-Probe", "1")
	for _, r := range []*http.Request{
		httptest.NewRequest("GET", "/healthz", nil),
		httptest.NewRequest("GET", "/health/ready", nil),
		probe,
		httptest.NewRequest("GET", "/orders", nil),
	} {
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}

	testsupport.PrintPoints(reader)
	// Output:
	// http.server.active_requests{http.request.method=GET,url.scheme=http} 0
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,network.protocol.version=1.1,url.scheme=http} count=1
}

// A router that passes a new request down, as gorilla/mux does, leaves no
// pattern on the request otelred sees; the matched route's handler (or a
// middleware the router runs after matching) hands the template over.
func ExampleSetRoute() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	red, err := otelred.New(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	// router matches /orders/<id> only, and serves it with a new request.
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutPrefix(r.URL.Path, "/orders/")
		if !ok || id == "" {
			http.NotFound(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), orderID{}, id))
		otelred.SetRoute(w, "/orders/{id}")
		fmt.Fprintf(w, "order %s\n", r.Context().Value(orderID{}))
	})
	handler := red(router)

	for _, path := range []string{"/orders/1", "/orders/2", "/elsewhere"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	testsupport.PrintPoints(reader)
	// Output:
	// http.server.active_requests{http.request.method=GET,url.scheme=http} 0
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/orders/{id},network.protocol.version=1.1,url.scheme=http} count=2
	// http.server.request.duration{http.request.method=GET,http.response.status_code=404,network.protocol.version=1.1,url.scheme=http} count=1
}

type orderID struct{}

// An adapter for a framework whose handlers are not net/http middleware
// calls Start when a request arrives and End when its handler returns,
// with the route and status the framework knows.
func ExampleNewServer() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	server, err := otelred.NewServer(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	// serve stands for the framework: it matched route, and its handler
	// sent status, or panicked before sending anything.
	serve := func(r *http.Request, route string, status int, panics bool) {
		q := server.Start(r, route)
		served := false
		defer func() {
			if !served {
				q.End(route, status, true)
				recover() // a framework's recovery middleware, further out
			}
		}()
		if panics {
			panic("handler failed")
		}
		served = true
		q.End(route, status, false)
	}
	serve(httptest.NewRequest("GET", "/users/1", nil), "/users/:id", 200, false)
	serve(httptest.NewRequest("GET", "/users/2", nil), "/users/:id", 0, true)
	serve(httptest.NewRequest("GET", "/nowhere", nil), "", 404, false)

	testsupport.PrintPoints(reader)
	// Output:
	// http.server.active_requests{http.request.method=GET,url.scheme=http} 0
	// http.server.request.duration{error.type=panic,http.request.method=GET,http.route=/users/:id,network.protocol.version=1.1,url.scheme=http} count=1
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/users/:id,network.protocol.version=1.1,url.scheme=http} count=1
	// http.server.request.duration{http.request.method=GET,http.response.status_code=404,network.protocol.version=1.1,url.scheme=http} count=1
}

// A handler adds the tenant it serves to its own request's measurement;
// the plan key allows three values, and any other is recorded as _OTHER.
func ExampleSetAttribute() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	red, err := otelred.New(otelred.WithMeterProvider(provider),
		otelred.WithAttribute("tenant"),
		otelred.WithAttribute("plan", "free", "pro", "gold"))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		otelred.SetAttribute(w, "tenant", r.Header.Get("X-Tenant"))
		otelred.SetAttribute(w, "plan", r.Header.Get("X-Plan"))
	})
	handler := red(mux)

	for _, who := range [][2]string{{"acme", "gold"}, {"acme", "gold"}, {"globex", "platinum"}, {"", ""}} {
		req := httptest.NewRequest("GET", "/orders", nil)
		req.Header.Set("X-Tenant", who[0])
		req.Header.Set("X-Plan", who[1])
		handler.ServeHTTP(httptest.NewRecorder(), req)
	}

	testsupport.PrintPoints(reader)
	// Output:
	// http.server.active_requests{http.request.method=GET,url.scheme=http} 0
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/orders,network.protocol.version=1.1,plan=_OTHER,tenant=globex,url.scheme=http} count=1
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/orders,network.protocol.version=1.1,plan=gold,tenant=acme,url.scheme=http} count=2
	// http.server.request.duration{http.request.method=GET,http.response.status_code=200,http.route=/orders,network.protocol.version=1.1,url.scheme=http} count=1
}

// A client request carries its tenant in its context to the Transport.
func ExampleContextWithAttribute() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	backend := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer backend.Close()
	rt, err := otelred.NewTransport(nil, otelred.WithMeterProvider(provider), otelred.WithAttribute("tenant"),
		otelred.WithHosts("127.0.0.1"))
	if err != nil {
		panic(err)
	}
	client := &http.Client{Transport: rt}

	ctx := otelred.ContextWithAttribute(context.Background(), "tenant", "acme")
	req, err := http.NewRequestWithContext(ctx, "GET", backend.URL+"/stock", nil)
	if err != nil {
		panic(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	for _, line := range testsupport.Points(reader) {
		fmt.Println(strings.Replace(line, backend.URL[len("http://127.0.0.1:"):], "<port>", 1))
	}
	// Output:
	// http.client.request.duration{http.request.method=GET,http.response.status_code=200,network.protocol.version=1.1,server.address=127.0.0.1,server.port=<port>,tenant=acme} count=1
}
