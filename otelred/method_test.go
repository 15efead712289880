package otelred_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/otelred/otelred/otelred"
)

// ok200 answers every request with 200 and no body.
var ok200 = roundTripFunc(func(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
})

// TestKnownMethods sends requests of standard, listed and invented methods
// through the middleware and the Transport, with and without
// OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS, and checks the method each is
// recorded with: QUERY is standard; a list replaces the standard methods
// wholly (case-sensitive), and anything off it is _OTHER. The in-flight
// gauges are bounded by the table: one per recorded value.
func TestKnownMethods(t *testing.T) {
	methods := []string{"GET", "QUERY", "FOO", "POST", "get", "PROPFIND"}
	for _, tc := range []struct {
		name string
		env  string
		want map[string]string // the recorded value of each method sent
	}{
		{"QUERY is a standard method", "", map[string]string{
			"GET": "GET", "QUERY": "QUERY", "FOO": "_OTHER", "POST": "POST", "get": "_OTHER", "PROPFIND": "_OTHER"}},
		{"a list adds FOO and replaces the standard methods", "GET,QUERY,FOO", map[string]string{
			"GET": "GET", "QUERY": "QUERY", "FOO": "FOO", "POST": "_OTHER", "get": "_OTHER", "PROPFIND": "_OTHER"}},
		{"white space, empty entries and repeats are ignored", " PROPFIND ,, GET,PROPFIND", map[string]string{
			"GET": "GET", "QUERY": "_OTHER", "FOO": "_OTHER", "POST": "_OTHER", "get": "_OTHER", "PROPFIND": "PROPFIND"}},
		{"an empty value counts as unset", " ", map[string]string{
			"GET": "GET", "QUERY": "QUERY", "FOO": "_OTHER", "POST": "POST", "get": "_OTHER", "PROPFIND": "_OTHER"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", tc.env)
			wantServer, wantClient, wantActive := map[string]uint64{}, map[string]uint64{}, map[string]int64{}
			for _, m := range methods {
				v := tc.want[m]
				wantServer[series(v, "/any", 200, "")]++
				wantClient[clientSeries(v, "api.example", 80, 200, "")]++
				wantActive["http.request.method="+v+",url.scheme=http"] = 0
			}

			h := newHarness(t, otelred.WithRoute(func(*http.Request) string { return "/any" }))
			s := h.server(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			c := newClientHarness(t, ok200)
			for _, m := range methods {
				if resp := h.do(s, m, "/"); resp == nil || resp.StatusCode != 200 {
					t.Fatalf("%s: no 200", m)
				}
				req, err := http.NewRequest(m, "http://api.example/", nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.client.Do(req); err != nil {
					t.Fatal(err)
				}
			}
			wantCounts(t, h.counts(duration), wantServer)
			wantCounts(t, c.counts(clientDuration), wantClient)
			if got := h.sums(otelred.Semconv.Names().Active); render(got) != render(wantActive) {
				t.Errorf("in flight:\n got  %s\n want %s", render(got), render(wantActive))
			}
		})
	}
}

// TestKnownMethodsInClassic: the Classic profile takes the list too, for
// its counters and its in-flight gauge by route.
func TestKnownMethodsInClassic(t *testing.T) {
	t.Setenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "GET,FOO")
	h := newHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
	mux := http.NewServeMux()
	mux.HandleFunc("/items", func(http.ResponseWriter, *http.Request) {})
	s := h.server(mux)
	for _, m := range []string{"GET", "FOO", "POST"} {
		h.do(s, m, "/items")
	}
	classic := otelred.Classic.Names()
	wantCounts(t, h.counts(classic.Duration), map[string]uint64{
		"method=GET,path=/items,service=shop,status_code=200":    1,
		"method=FOO,path=/items,service=shop,status_code=200":    1,
		"method=_OTHER,path=/items,service=shop,status_code=200": 1,
	})
	if got, want := render(h.sums(classic.Active)), render(map[string]int64{
		"method=GET,path=/items,service=shop":    0,
		"method=FOO,path=/items,service=shop":    0,
		"method=_OTHER,path=/items,service=shop": 0,
	}); got != want {
		t.Errorf("in flight:\n got  %s\n want %s", got, want)
	}
}

// TestKnownMethodsInvalid: a list with a value that is not a method, with
// _OTHER, or with more methods than the bound is an error from every
// constructor that records methods, naming the variable and the value.
func TestKnownMethodsInvalid(t *testing.T) {
	sixteen := "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P"
	for _, tc := range []struct {
		env, want string
	}{
		{"GET,F OO", `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: "F OO" is not an HTTP method`},
		{"GET,\"POST\"", `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: "\"POST\"" is not an HTTP method`},
		{"GET,_OTHER", `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: "_OTHER" is the value of the methods the list leaves out`},
		{sixteen, "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: 16 methods listed; at most 15"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", tc.env)
			mp := otelred.WithMeterProvider(noop.NewMeterProvider())
			for ctor, build := range map[string]func() error{
				"New":          func() error { _, err := otelred.New(mp); return err },
				"NewServer":    func() error { _, err := otelred.NewServer(mp); return err },
				"NewTransport": func() error { _, err := otelred.NewTransport(nil, mp); return err },
			} {
				err := build()
				if !errors.Is(err, otelred.ErrInvalidOption) || !strings.Contains(err.Error(), ctor+": "+tc.want) {
					t.Errorf("%s: error %v; want ErrInvalidOption with %q", ctor, err, ctor+": "+tc.want)
				}
			}
		})
	}
	// Fifteen methods fit.
	t.Setenv("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", sixteen[:len(sixteen)-2])
	if _, err := otelred.New(otelred.WithMeterProvider(noop.NewMeterProvider())); err != nil {
		t.Errorf("fifteen methods: %v", err)
	}
}
