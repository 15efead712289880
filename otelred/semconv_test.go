package otelred_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"

	"github.com/otelred/otelred/otelred"
)

// requirement is what the semantic conventions (version
// otelred.SemconvVersion) ask of the attributes of one instrument:
// transcribed from the conventions' tables of HTTP metrics, where every
// attribute has a requirement level.
type requirement struct {
	instrument string
	// required must be on every data point.
	required []attribute.Key
	// conditional are the conditionally required attributes, each with
	// its condition, evaluated on the data point: the attribute must be
	// present exactly when it holds.
	conditional map[attribute.Key]func(p point) bool
	// recommended are the recommended attributes otelred records; each
	// must be present, with a value from the bounded set, on every data
	// point for which withRecommended holds (the protocol gave a value).
	recommended     map[attribute.Key][]string
	withRecommended func(p point) bool
}

// point is one data point's attributes.
type point struct{ attribute.Set }

func (p point) str(k attribute.Key) string { v, _ := p.Value(k); return v.String() }
func (p point) has(k attribute.Key) bool   { return p.HasValue(k) }
func (p point) status() int64              { v, _ := p.Value(semconv.HTTPResponseStatusCodeKey); return v.AsInt64() }

// transportErrors are the error.type values of a client request that got
// no response.
var transportErrors = []string{"canceled", "timeout", "connection_refused", "connection_reset", "dns", "tls", "_OTHER"}

// serverRequest and clientRequest are the requirements of the duration of
// a server and of a client request; the body sizes share them. The
// requests TestSemconvRequirements sends tell the conditions apart by
// their attributes: the only 404 and 405 are the router's own (no route
// matched), and the only handler that sends no status panics, on /panic.
var (
	serverRequest = requirement{
		instrument: httpconv.ServerRequestDuration{}.Name(),
		required:   []attribute.Key{semconv.HTTPRequestMethodKey, semconv.URLSchemeKey},
		conditional: map[attribute.Key]func(point) bool{
			// "If request has ended with an error": a 5xx, or a panic,
			// which sent no status.
			semconv.ErrorTypeKey: func(p point) bool {
				return !p.has(semconv.HTTPResponseStatusCodeKey) || p.status() >= 500
			},
			// "If and only if one was received/sent": every handler but
			// the one that panics sends one.
			semconv.HTTPResponseStatusCodeKey: func(p point) bool { return p.str(semconv.HTTPRouteKey) != "/panic" },
			// "If and only if it's available": a route is, unless the
			// router matched none (its 404 and 405).
			semconv.HTTPRouteKey: func(p point) bool {
				return !p.has(semconv.HTTPResponseStatusCodeKey) || (p.status() != 404 && p.status() != 405)
			},
		},
		recommended: map[attribute.Key][]string{
			semconv.NetworkProtocolVersionKey: {"1.0", "1.1", "2", "3"},
		},
		withRecommended: func(point) bool { return true },
	}
	clientRequest = requirement{
		instrument: httpconv.ClientRequestDuration{}.Name(),
		required:   []attribute.Key{semconv.HTTPRequestMethodKey, semconv.ServerAddressKey, semconv.ServerPortKey},
		conditional: map[attribute.Key]func(point) bool{
			// A client request fails with a status >= 400, or with no
			// response at all.
			semconv.ErrorTypeKey: func(p point) bool { return !p.has(semconv.HTTPResponseStatusCodeKey) || p.status() >= 400 },
			// Only a request that got a response has a status: every
			// other one failed in the transport.
			semconv.HTTPResponseStatusCodeKey: func(p point) bool {
				return !slices.Contains(transportErrors, p.str(semconv.ErrorTypeKey))
			},
		},
		recommended: map[attribute.Key][]string{
			semconv.NetworkProtocolVersionKey: {"1.0", "1.1", "2", "3"},
		},
		// The version is the response's: none without one.
		withRecommended: func(p point) bool { return p.has(semconv.HTTPResponseStatusCodeKey) },
	}
)

// named is r for the instrument name, whose attributes the conventions
// define as r's.
func named(r requirement, name string) requirement {
	r.instrument = name
	return r
}

// requirements lists every instrument the Semconv profile records for
// which a convention exists, body sizes included. Operations
// (operation.duration and operation.active) have none: the conventions
// define no instrument for work in general.
var requirements = []requirement{
	serverRequest,
	named(serverRequest, httpconv.ServerRequestBodySize{}.Name()),
	named(serverRequest, httpconv.ServerResponseBodySize{}.Name()),
	{
		instrument: httpconv.ServerActiveRequests{}.Name(),
		required:   []attribute.Key{semconv.HTTPRequestMethodKey, semconv.URLSchemeKey},
	},
	clientRequest,
	named(clientRequest, httpconv.ClientRequestBodySize{}.Name()),
	named(clientRequest, httpconv.ClientResponseBodySize{}.Name()),
}

// TestSemconvRequirements serves and sends requests of every kind
// (success, 4xx, 5xx, a panic before any status, no route matched, 405,
// the QUERY method and one outside the standard ones, over HTTP/1.1 in
// the clear and HTTP/2 over TLS, and a client request that gets no
// response), with body sizes on, then walks the requirements of each
// instrument over every data point recorded: with the standard methods,
// and with OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS overriding them. Every
// method recorded is a known one or _OTHER.
func TestSemconvRequirements(t *testing.T) {
	standard := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}
	for _, tc := range []struct {
		name, env string
		known     []string
		// seen are methods that must be recorded by name.
		seen []string
	}{
		{"the standard methods", "", standard, []string{"GET", "DELETE", "QUERY", "_OTHER"}},
		{"OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS=GET,QUERY,FOO", "GET,QUERY,FOO", []string{"GET", "QUERY", "FOO"}, []string{"GET", "QUERY", "FOO", "_OTHER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", tc.env)
			checkRequirements(t, append(tc.known, "_OTHER"), tc.seen)
		})
	}
}

func checkRequirements(t *testing.T, methods, seen []string) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithBodySizes())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			w.WriteHeader(http.StatusBadRequest) // a 4xx of a matched route
		}
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/search", func(http.ResponseWriter, *http.Request) {}) // any method

	plain := httptest.NewServer(mw(mux))
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(mw(mux))
	secure.EnableHTTP2 = true
	secure.Config.ErrorLog = quietLog()
	secure.StartTLS()
	t.Cleanup(secure.Close)
	plain.Config.ErrorLog = quietLog()

	// The client side goes through otelred's Transport, over the same
	// servers, and to a port nothing listens on.
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + refused.Addr().String()
	refused.Close()
	clients := map[*httptest.Server]*http.Client{}
	for _, s := range []*httptest.Server{plain, secure} {
		tr, err := otelred.NewTransport(s.Client().Transport, otelred.WithMeterProvider(mp), otelred.WithBodySizes())
		if err != nil {
			t.Fatal(err)
		}
		clients[s] = &http.Client{Transport: tr}
	}

	for _, s := range []*httptest.Server{plain, secure} {
		for _, rq := range []struct{ method, path string }{
			{"GET", "/users/1"}, {"GET", "/users/0"}, {"GET", "/fail"}, {"GET", "/panic"}, {"GET", "/nowhere"},
			{"DELETE", "/users/1"}, {"QUERY", "/search"}, {"FOO", "/search"},
		} {
			req, err := http.NewRequest(rq.method, s.URL+rq.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := clients[s].Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}
	}
	if _, err := clients[plain].Get(refusedURL); err == nil {
		t.Fatal("a request to a closed port got a response")
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	points := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					points[m.Name] = append(points[m.Name], point{dp.Attributes})
				}
			case metricdata.Histogram[int64]:
				for _, dp := range d.DataPoints {
					points[m.Name] = append(points[m.Name], point{dp.Attributes})
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					points[m.Name] = append(points[m.Name], point{dp.Attributes})
				}
			}
		}
	}

	var schemes, versions, recorded []string
	var unrouted, aborted bool
	for _, req := range requirements {
		t.Run(req.instrument, func(t *testing.T) {
			ps := points[req.instrument]
			if len(ps) == 0 {
				t.Fatalf("no data point of %s", req.instrument)
			}
			for _, p := range ps {
				at := p.Encoded(attribute.DefaultEncoder())
				for _, k := range req.required {
					if !p.has(k) {
						t.Errorf("%s{%s}: required %s missing", req.instrument, at, k)
					}
				}
				for k, cond := range req.conditional {
					if want := cond(p); p.has(k) != want {
						t.Errorf("%s{%s}: conditionally required %s present = %v, want %v", req.instrument, at, k, p.has(k), want)
					}
				}
				for k, values := range req.recommended {
					if req.withRecommended(p) != p.has(k) || (p.has(k) && !slices.Contains(values, p.str(k))) {
						t.Errorf("%s{%s}: recommended %s = %q, want one of %q", req.instrument, at, k, p.str(k), values)
					}
				}
				if m := p.str(semconv.HTTPRequestMethodKey); !slices.Contains(methods, m) {
					t.Errorf("%s{%s}: http.request.method %q, want one of %q", req.instrument, at, m, methods)
				}
				recorded = append(recorded, p.str(semconv.HTTPRequestMethodKey))
				if req.instrument == serverRequest.instrument {
					unrouted = unrouted || !p.has(semconv.HTTPRouteKey)
					aborted = aborted || !p.has(semconv.HTTPResponseStatusCodeKey)
				}
				if p.has(semconv.URLSchemeKey) {
					schemes = append(schemes, p.str(semconv.URLSchemeKey))
				}
				if p.has(semconv.NetworkProtocolVersionKey) {
					versions = append(versions, p.str(semconv.NetworkProtocolVersionKey))
				}
			}
		})
	}
	// The conditions held both ways: a request matched no route, and one
	// sent no status; each method that must be was recorded by name.
	if !unrouted || !aborted {
		t.Errorf("server points without http.route: %v, without a status: %v; want both", unrouted, aborted)
	}
	for _, want := range seen {
		if !slices.Contains(recorded, want) {
			t.Errorf("no data point with http.request.method %q among %q", want, recorded)
		}
	}
	// Both servers were seen, each with its own scheme and version.
	for _, want := range []string{"http", "https"} {
		if !slices.Contains(schemes, want) {
			t.Errorf("no data point with url.scheme %q among %q", want, schemes)
		}
	}
	for _, want := range []string{"1.1", "2"} {
		if !slices.Contains(versions, want) {
			t.Errorf("no data point with network.protocol.version %q among %q", want, versions)
		}
	}
}
