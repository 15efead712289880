package otelred_test

// Hostile values: every string that becomes an attribute value from
// outside the program is valid UTF-8 and at most MaxValueLength bytes
// before it is stored, whichever way it enters. The same over OTLP and
// Prometheus, through exporter.Setup, is in exporter/hostile_test.go.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// long is one byte past the bound: it must become _OTHER.
var long = strings.Repeat("x", otelred.MaxValueLength+1)

// TestHostileValuesOfTheServer sends, through the middleware, attribute
// values, SetRoute templates and WithRoute templates that are not valid
// UTF-8 or are too long, and checks the exact series: invalid bytes are
// U+FFFD, two values that differ only in their invalid bytes share one
// series, and a value past the bound is _OTHER.
func TestHostileValuesOfTheServer(t *testing.T) {
	h := newHarness(t,
		otelred.WithAttribute("tenant"),
		otelred.WithAttribute("plan", "gold"),
		otelred.WithRoute(func(r *http.Request) string { return r.Header.Get("X-Route") }))
	handler := h.mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("tenant") {
			otelred.SetAttribute(w, "tenant", q.Get("tenant"))
		}
		if q.Has("plan") {
			otelred.SetAttribute(w, "plan", q.Get("plan"))
		}
		if q.Has("route") {
			otelred.SetRoute(w, q.Get("route"))
		}
	}))
	serve := func(query url.Values, route string) {
		req := httptest.NewRequest("GET", "/?"+query.Encode(), nil)
		if route != "" {
			req.Header.Set("X-Route", route)
		}
		handler.ServeHTTP(httptest.NewRecorder(), req)
	}
	serve(url.Values{"tenant": {"ac\xffme"}, "route": {"/a"}}, "")
	serve(url.Values{"tenant": {"ac\xfe\xfdme"}, "route": {"/a"}}, "") // the same once cleaned
	serve(url.Values{"tenant": {long}, "route": {"/a"}}, "")
	serve(url.Values{"tenant": {long + "y"}, "route": {"/a"}}, "") // _OTHER too, not a truncation
	serve(url.Values{"plan": {"gold\xff"}, "route": {"/a"}}, "")   // not the allowed value once cleaned
	serve(url.Values{"route": {"/users/\xff{id}"}}, "")
	serve(url.Values{"route": {"/" + long}}, "")
	serve(nil, "GET /orders/\xc3{id}")
	serve(nil, "/"+long)

	s := func(route string, kv ...string) string {
		all := []string{"http.request.method=GET", "http.response.status_code=200", "http.route=" + route, "network.protocol.version=1.1"}
		all = append(all, kv...)
		all = append(all, "url.scheme=http")
		return sortedAttrs(all)
	}
	wantCounts(t, h.counts(duration), map[string]uint64{
		s("/a", "tenant=ac\uFFFDme"): 2,
		s("/a", "tenant=_OTHER"):     2,
		s("/a", "plan=_OTHER"):       1,
		s("/users/\uFFFD{id}"):       1,
		s("_OTHER"):                  2,
		s("/orders/\uFFFD{id}"):      1,
	})
}

// sortedAttrs joins k=v pairs in the order attribute sets encode them.
func sortedAttrs(kv []string) string {
	var set []attribute.KeyValue
	for _, p := range kv {
		k, v, _ := strings.Cut(p, "=")
		set = append(set, attribute.String(k, v))
	}
	return attrs(attribute.NewSet(set...))
}

// TestHostileValuesOfTheAdapterServer sends routes that are not valid
// UTF-8, or too long, through Server.Start and Request.End, as the gin and
// echo adapters hand them over, in both profiles (Classic names the route
// before serving, for its in-flight gauge).
func TestHostileValuesOfTheAdapterServer(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			r, srv := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (*otelred.Server, error) {
				return otelred.NewServer(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"))
			})
			for _, route := range []string{"/a/\xff", "/a/\xfe", "/" + long} {
				req := httptest.NewRequest("GET", "/x", nil)
				srv.Start(req, route).End(route, http.StatusOK, false)
			}
			name, key := duration, "http.route"
			if p == otelred.Classic {
				name, key = "http_request_duration_seconds", "path"
			}
			routes := map[string]uint64{}
			for set, n := range r.Counts(name) {
				for _, kv := range strings.Split(set, ",") {
					if v, ok := strings.CutPrefix(kv, key+"="); ok {
						routes[v] += n
					}
				}
			}
			testsupport.WantEqual(t, name+" by route", routes, map[string]uint64{"/a/\uFFFD": 2, "_OTHER": 1})
			if p == otelred.Classic {
				active := map[string]int64{}
				for set, n := range r.Sums("http_requests_active") {
					active[set] = n
				}
				testsupport.WantEqual(t, "http_requests_active", active, map[string]int64{
					"method=GET,path=/a/\uFFFD,service=shop": 0,
					"method=GET,path=_OTHER,service=shop":    0,
				})
			}
		})
	}
}

// TestHostileValuesOfTheClient sends, through the Transport, attribute
// values from the context and hosts that are not valid UTF-8 or are too
// long: invalid bytes are U+FFFD, and a value past the bound is _OTHER.
func TestHostileValuesOfTheClient(t *testing.T) {
	ok := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, ProtoMajor: 1, ProtoMinor: 1}, nil
	})
	c := newClientHarness(t, ok, otelred.WithAttribute("tenant"))
	send := func(ctx context.Context, host string) {
		t.Helper()
		req := (&http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: host, Path: "/"}, Header: http.Header{}}).WithContext(ctx)
		if _, err := c.client.Transport.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	bg := context.Background()
	send(otelred.ContextWithAttribute(bg, "tenant", "ac\xffme"), "api.example")
	send(otelred.ContextWithAttribute(bg, "tenant", "ac\xc0me"), "api.example")
	send(otelred.ContextWithAttribute(bg, "tenant", long), "api.example")
	send(bg, "b\xffd.example:8080")
	send(bg, "b\xfed.example:8080")
	send(bg, long)
	send(bg, strings.Repeat("h", 60_000)+".example")
	send(bg, "[\xff::1]:9000")
	// Lower case may be longer: "Ⱥ" (2 bytes) is "ⱥ" (3 bytes).
	send(bg, strings.Repeat("Ⱥ", otelred.MaxValueLength/2))

	peer := func(addr, port string, kv ...string) string {
		all := []string{"http.request.method=GET", "http.response.status_code=200", "network.protocol.version=1.1", "server.address=" + addr}
		if port != "" {
			all = append(all, "server.port="+port)
		}
		return sortedAttrs(append(all, kv...))
	}
	wantCounts(t, c.counts(otelred.Semconv.ClientNames().Duration), map[string]uint64{
		peer("api.example", "80", "tenant=ac\uFFFDme"): 2,
		peer("api.example", "80", "tenant=_OTHER"):     1,
		peer("b\uFFFDd.example", "8080"):               2,
		peer("\uFFFD::1", "9000"):                      1,
		peer("_OTHER", ""):                             3,
	})
}

// TestHostileOperationNames starts operations whose names are not valid
// UTF-8 or are too long.
func TestHostileOperationNames(t *testing.T) {
	h, ops := newOpsHarness(t)
	ctx := context.Background()
	for _, name := range []string{"job.\xff", "job.\xfe", long, long + "y", "job.ok"} {
		ops.Start(ctx, name).End(nil)
	}
	_ = ops.Track(ctx, "job.\xff", func(context.Context) error { return errors.New("x") })
	wantCounts(t, h.counts(opDuration), map[string]uint64{
		"operation.name=job.\uFFFD":                   2,
		"error.type=_OTHER,operation.name=job.\uFFFD": 1,
		"operation.name=_OTHER":                       2,
		"operation.name=job.ok":                       1,
	})
}

// TestHostileValuesCollectAsValidUTF8 checks the collected data itself:
// after hostile input through every entry point of this package, every
// string attribute of every point of every instrument is valid UTF-8 and
// at most MaxValueLength bytes, in both profiles.
func TestHostileValuesCollectAsValidUTF8(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			driveHostile(t, mp, p, []string{"\xff", "a\xc3", long, "\xed\xa0\x80", strings.Repeat("\xff", 1000)})
			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			n := 0
			eachAttr(rm, func(metric string, kv attribute.KeyValue) {
				n++
				if v := kv.Value.String(); !validValue(v) || !validValue(string(kv.Key)) {
					t.Errorf("%s: %s=%.60q: not valid UTF-8 or longer than %d bytes", metric, kv.Key, v, otelred.MaxValueLength)
				}
			})
			if n == 0 {
				t.Fatal("no attributes collected: the test checks nothing")
			}
		})
	}
}

func validValue(s string) bool {
	return len(s) <= otelred.MaxValueLength && strings.ToValidUTF8(s, "?") == s
}

// driveHostile sends each value through every entry point of otelred:
// SetAttribute, SetRoute, WithRoute, ContextWithAttribute, a client host
// and an operation name, on mp.
func driveHostile(t testing.TB, mp metric.MeterProvider, p otelred.Profile, values []string) {
	t.Helper()
	common := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"), otelred.WithBodySizes()}
	mw, err := otelred.New(append(common, otelred.WithAttribute("tenant"),
		otelred.WithRoute(func(r *http.Request) string { return r.Header.Get("X-Route") }))...)
	if err != nil {
		t.Fatal(err)
	}
	ok := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, ProtoMajor: 1, ProtoMinor: 1}, nil
	})
	tr, err := otelred.NewTransport(ok, append(common, otelred.WithAttribute("tenant"))...)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := otelred.NewOperations(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otelred.SetAttribute(w, "tenant", v)
			if r.URL.Path == "/set" {
				otelred.SetRoute(w, v)
			}
		}))
		for _, path := range []string{"/set", "/with"} {
			req := httptest.NewRequest("GET", path, nil)
			req.Header = http.Header{"X-Route": {v}} // as it is, not canonicalised
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		req := (&http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: v, Path: "/"}, Header: http.Header{}}).
			WithContext(otelred.ContextWithAttribute(context.Background(), "tenant", v))
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		ops.Start(context.Background(), v).End(nil)
	}
}

// eachAttr calls fn with every attribute of every data point in rm.
func eachAttr(rm metricdata.ResourceMetrics, fn func(metric string, kv attribute.KeyValue)) {
	each := func(name string, s attribute.Set) {
		for _, kv := range s.ToSlice() {
			fn(name, kv)
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					each(m.Name, dp.Attributes)
				}
			case metricdata.Histogram[int64]:
				for _, dp := range d.DataPoints {
					each(m.Name, dp.Attributes)
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					each(m.Name, dp.Attributes)
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					each(m.Name, dp.Attributes)
				}
			}
		}
	}
}

// TestConfigValuesMustBeValidUTF8AndShort checks that a configured value
// that would become an attribute value or key, and is not valid UTF-8 or
// is too long, is an error that wraps ErrInvalidOption and names the
// option, rather than a value quietly cleaned.
func TestConfigValuesMustBeValidUTF8AndShort(t *testing.T) {
	mp := sdkmetric.NewMeterProvider()
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	classic := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(otelred.Classic)}
	longLen := strconv.Itoa(len(long)) + " bytes long"
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"a service name that is not UTF-8", func() error {
			return second(otelred.New(append(classic, otelred.WithService("sh\xffop"))...))
		}, `WithService: "sh\xffop" is not valid UTF-8`},
		{"a service name too long", func() error {
			return second(otelred.New(append(classic, otelred.WithService(long))...))
		}, "WithService: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"… is " + longLen},
		{"an attribute key that is not UTF-8", func() error {
			return second(otelred.New(otelred.WithMeterProvider(mp), otelred.WithAttribute("ten\xffant")))
		}, `WithAttribute: the key "ten\xffant" is not valid UTF-8`},
		{"an attribute key too long", func() error {
			return second(otelred.NewTransport(nil, otelred.WithMeterProvider(mp), otelred.WithAttribute(long)))
		}, "WithAttribute: the key \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"… is " + longLen},
		{"an allowed value that is not UTF-8", func() error {
			return second(otelred.New(otelred.WithMeterProvider(mp), otelred.WithAttribute("plan", "gold", "fr\xc3e")))
		}, `WithAttribute("plan"): the allowed value "fr\xc3e" is not valid UTF-8`},
		{"an allowed value too long", func() error {
			return second(otelred.New(otelred.WithMeterProvider(mp), otelred.WithAttribute("plan", long)))
		}, `WithAttribute("plan"): the allowed value "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… is ` + longLen},
		{"a host that is not UTF-8", func() error {
			return second(otelred.NewTransport(nil, otelred.WithMeterProvider(mp), otelred.WithHosts("api.example", "b\xffd.example")))
		}, `WithHosts: "b\xffd.example" is not valid UTF-8`},
		{"a host too long", func() error {
			return second(otelred.NewTransport(nil, otelred.WithMeterProvider(mp), otelred.WithHosts(long)))
		}, "WithHosts: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"… is " + longLen},
		{"a host too long once in lower case", func() error {
			return second(otelred.NewTransport(nil, otelred.WithMeterProvider(mp), otelred.WithHosts(strings.Repeat("Ⱥ", otelred.MaxValueLength/2))))
		}, "WithHosts: \"ⱥⱥⱥⱥⱥⱥⱥⱥⱥⱥ\"… is " + strconv.Itoa(3*otelred.MaxValueLength/2) + " bytes long"},
		{"a provider's service name that is not UTF-8", func() error {
			return second(otelred.New(otelred.WithMeterProvider(namedProvider{mp, "sh\xffop"}), otelred.WithProfile(otelred.Classic)))
		}, `New: the service name from the MeterProvider's ServiceName(), which the classic profile labels every series with: "sh\xffop" is not valid UTF-8; pass WithService`},
		{"a service name from OTEL_SERVICE_NAME that is not UTF-8", func() error {
			t.Setenv("OTEL_SERVICE_NAME", "sh\xffop")
			return second(otelred.NewOperations(classic...))
		}, `NewOperations: the service name from the environment (OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES), which the classic profile labels every series with: "sh\xffop" is not valid UTF-8`},
		{"a service name from OTEL_RESOURCE_ATTRIBUTES too long", func() error {
			t.Setenv("OTEL_SERVICE_NAME", "")
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name="+long)
			return second(otelred.NewTransport(nil, classic...))
		}, "NewTransport: the service name from the environment (OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES), which the classic profile labels every series with: \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"… is " + longLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if !errors.Is(err, otelred.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant ErrInvalidOption with %s", err, tc.want)
			}
		})
	}
	// Semconv has no service label: a service name it would not record is
	// no error of otelred's.
	t.Setenv("OTEL_SERVICE_NAME", "sh\xffop")
	if _, err := otelred.New(otelred.WithMeterProvider(mp)); err != nil {
		t.Errorf("Semconv New with OTEL_SERVICE_NAME not UTF-8: %v", err)
	}
	// A value at the bound is fine.
	atBound := strings.Repeat("é", otelred.MaxValueLength/2)
	if _, err := otelred.NewTransport(nil, otelred.WithMeterProvider(mp), otelred.WithProfile(otelred.Classic), otelred.WithService(atBound),
		otelred.WithAttribute(atBound, atBound), otelred.WithHosts(atBound)); err != nil {
		t.Errorf("values of exactly MaxValueLength bytes: %v", err)
	}
}
