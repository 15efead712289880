package otelred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/red"
)

// noMeterProvider is the report of a constructor given no MeterProvider
// while the global one is the default.
func noMeterProvider(ctor string) string {
	return "otelred: no MeterProvider: the global one is still OpenTelemetry's default, which records nothing: " + ctor +
		" was given no WithMeterProvider, and records nothing until otel.SetMeterProvider is called (from then on it records into the provider set). " +
		"Pass WithMeterProvider(provider), the Provider of exporter.Setup say, or call otel.SetMeterProvider before serving " +
		"(see docs/middleware.md#no-meterprovider)"
}

// TestNoMeterProviderIsReported builds every instrumentation with no
// WithMeterProvider while OpenTelemetry's global MeterProvider is the one
// the process starts with: each reports it once, naming the fix. Setting
// the global provider afterwards still works: what is served then is
// recorded, in both profiles. Once it is set, nothing more is reported.
func TestNoMeterProviderIsReported(t *testing.T) {
	if !testsupport.InChild(t) {
		return
	}
	got := testsupport.CaptureReports(t)
	semconv, err := otelred.New()
	if err != nil {
		t.Fatal(err)
	}
	classic, err := otelred.New(otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otelred.NewServer(); err != nil {
		t.Fatal(err)
	}
	tr, err := otelred.NewTransport(ok200)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := otelred.NewOperations()
	if err != nil {
		t.Fatal(err)
	}
	got.Want(t, otelred.ErrNoMeterProvider,
		noMeterProvider("New"), noMeterProvider("New"), noMeterProvider("NewServer"),
		noMeterProvider("NewTransport"), noMeterProvider("NewOperations"))

	// Set later, the global provider gets what is recorded from then on,
	// through the instruments and callbacks made before.
	r := testsupport.NewReader(t, otelred.ScopeName)
	otel.SetMeterProvider(r.Provider)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
	for _, h := range []http.Handler{semconv(mux), classic(mux)} {
		for range 3 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/7", nil))
		}
	}
	req, _ := http.NewRequest("GET", "http://api.example/", nil)
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	ops.Start(context.Background(), "job").End(nil)
	wantCounts(t, r.Counts(duration), map[string]uint64{series("GET", "/users/{id}", 200, ""): 3})
	if got := r.Sums(otelred.Classic.Names().Requests); render(got) != render(map[string]int64{"method=GET,path=/users/{id},service=shop,status_code=200": 3}) {
		t.Errorf("%s = %s, want 3 requests of /users/{id}", otelred.Classic.Names().Requests, render(got))
	}
	wantCounts(t, r.Counts(clientDuration), map[string]uint64{clientSeries("GET", "api.example", 80, 200, ""): 1})
	wantCounts(t, r.Counts(otelred.Semconv.OperationNames().Duration), map[string]uint64{"operation.name=job": 1})

	if _, err := otelred.New(); err != nil {
		t.Fatal(err)
	}
	if n := len(got.Texts()); n != 5 {
		t.Errorf("%d reports once the global provider is set, want the 5 from before", n)
	}
}

// TestDefaultGlobalDetection checks, both ways, how otelred tells
// OpenTelemetry's global MeterProvider as the process starts it from any
// other: it is the default before otel.SetMeterProvider; an SDK provider,
// a no-op one (a choice), and the global one once it delegates are not.
func TestDefaultGlobalDetection(t *testing.T) {
	if !testsupport.InChild(t) {
		return
	}
	start := otel.GetMeterProvider()
	sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	t.Cleanup(func() { sdk.Shutdown(context.Background()) })
	for _, tc := range []struct {
		name string
		mp   func() metric.MeterProvider
		want bool
	}{
		{"the global provider as the process starts it", func() metric.MeterProvider { return start }, true},
		{"an SDK provider", func() metric.MeterProvider { return sdk }, false},
		{"a no-op provider", func() metric.MeterProvider { return noop.NewMeterProvider() }, false},
	} {
		if got := isDefault(t, tc.mp()); got != tc.want {
			t.Errorf("%s: default = %v, want %v", tc.name, got, tc.want)
		}
	}
	otel.SetMeterProvider(sdk)
	if isDefault(t, otel.GetMeterProvider()) {
		t.Errorf("the global provider once set: default, want not")
	}
	if isDefault(t, start) {
		t.Errorf("the provider the process started with, once it delegates: default, want not")
	}
}

func isDefault(t *testing.T, mp metric.MeterProvider) bool {
	t.Helper()
	h, err := mp.Meter("probe").Float64Histogram("probe")
	if err != nil {
		t.Fatal(err)
	}
	return red.DefaultGlobal(mp, h)
}

// docLink is a doc section a report names.
var docLink = regexp.MustCompile(`docs/([a-z-]+\.md)#([a-z0-9-]+)`)

// TestReportsNameDocSectionsThatExist checks that every doc section a
// warning names is a heading of that page.
func TestReportsNameDocSectionsThatExist(t *testing.T) {
	for _, link := range []string{red.DocNoMeterProvider, red.DocNoRoute, red.DocCountedTwice, red.DocCardinalityLimit} {
		m := docLink.FindStringSubmatch(link)
		if m == nil {
			t.Errorf("%q is not a link to a section of docs/", link)
			continue
		}
		body, err := os.ReadFile("../docs/" + m[1])
		if err != nil {
			t.Errorf("%s: %v", link, err)
			continue
		}
		if !slicesContains(anchors(string(body)), m[2]) {
			t.Errorf("%s: no heading with the anchor %q in docs/%s", link, m[2], m[1])
		}
	}
}

// anchors returns the anchors of the headings of a Markdown page, as
// GitHub makes them: lower case, spaces to hyphens, other punctuation
// dropped.
func anchors(md string) []string {
	var out []string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func slicesContains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// noRouteReport is the report of a middleware whose successful requests
// come back with no route.
const noRouteReport = "otelred: successful requests are recorded with no route: 100 requests were answered 2xx with no route, and none has matched one: " +
	"a middleware between otelred and the router replaced the request (r.WithContext), so the router's match never reached otelred; " +
	"put otelred inside that middleware (first in chi's r.Use), or hand the route over with WithRoute or SetRoute. " +
	"A handler with no router names its route with WithRoute (see docs/middleware.md#requests-with-no-route)"

// replacing is a middleware that serves next with a new request, as
// chi's middleware.RequestID does: the router behind it sets the pattern
// on a request otelred, outside, never sees.
func replacing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routerKey{}, "id")))
	})
}

// TestNoRouteIsReported serves requests that come back with no route,
// and checks when a middleware reports it: once, at the 100th success,
// when a middleware between otelred and the ServeMux replaced the request
// or there is no router; never for the router's own 404 and 405, for a
// middleware whose WithRoute names the routes, or once a request has
// matched a route.
func TestNoRouteIsReported(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
	bare := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	type send struct {
		method, path string
		n            int
	}
	for _, tc := range []struct {
		name    string
		opts    []otelred.Option
		handler http.Handler
		sends   []send
		reports int
	}{
		{"a middleware that replaces the request hides the mux's match: reported at the 100th", nil, replacing(mux),
			[]send{{"GET", "/users/1", 150}}, 1},
		{"99 successes with no route are not reported", nil, replacing(mux), []send{{"GET", "/users/1", 99}}, 0},
		{"the mux's 404 and 405 are not successes", nil, mux, []send{{"GET", "/nowhere", 120}, {"POST", "/users/1", 120}}, 0},
		{"a request that matched a route stops the count", nil, mux, []send{{"GET", "/users/1", 1}}, 0},
		{"a bare handler with no router is reported", nil, bare, []send{{"GET", "/", 100}}, 1},
		{"a bare handler named by WithRoute is not", []otelred.Option{otelred.WithRoute(func(*http.Request) string { return "/" })}, bare,
			[]send{{"GET", "/", 150}}, 0},
		{"WithRoute returning no route is not", []otelred.Option{otelred.WithRoute(func(*http.Request) string { return "" })}, replacing(mux),
			[]send{{"GET", "/users/1", 150}}, 0},
	} {
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			t.Run(p.String()+": "+tc.name, func(t *testing.T) {
				got := testsupport.CaptureReports(t)
				h := newHarness(t, append([]otelred.Option{otelred.WithProfile(p), otelred.WithService("shop")}, tc.opts...)...)
				inner := h.mw(tc.handler)
				if tc.name == "a request that matched a route stops the count" {
					// The same middleware serves the mux's match first,
					// then a handler with no route.
					inner.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/1", nil))
					inner = h.mw(bare)
					tc.sends = []send{{"GET", "/", 150}}
				}
				for _, s := range tc.sends {
					for range s.n {
						inner.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(s.method, s.path, nil))
					}
				}
				want := make([]string, tc.reports)
				for i := range want {
					want[i] = noRouteReport
				}
				got.Want(t, otelred.ErrNoRoute, want...)
			})
		}
	}
}

// TestNoRouteIsReportedOncePerMiddleware: the handlers one middleware
// wraps share its count and its one report; another middleware has its
// own.
func TestNoRouteIsReportedOncePerMiddleware(t *testing.T) {
	got := testsupport.CaptureReports(t)
	bare := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	one, two := newHarness(t), newHarness(t)
	a, b, c := one.mw(bare), one.mw(bare), two.mw(bare)
	for range 60 { // 120 for one, across its two handlers
		a.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		b.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	got.Want(t, otelred.ErrNoRoute, noRouteReport)
	for range 300 {
		c.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	got.Want(t, otelred.ErrNoRoute, noRouteReport, noRouteReport)
}

// TestNestedMiddlewareCountsOnce serves requests through two otelred
// middlewares, one inside the other: on one provider and profile the
// request is counted once, by the outer one, which gets what handlers
// hand over (SetRoute, SetAttribute) and the route the inner one sees
// nearer the router, even through a middleware that replaces the
// request; on two providers, or in two profiles, each records it.
func TestNestedMiddlewareCountsOnce(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		otelred.SetAttribute(w, "tenant", "acme")
	})
	mux.HandleFunc("GET /legacy/", func(w http.ResponseWriter, _ *http.Request) {
		otelred.SetRoute(w, "/legacy/{rest}")
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	// /boom first, on a fresh connection: the client would retry a GET
	// whose reused connection the panic broke.
	paths := []string{"/boom", "/users/1", "/users/2", "/legacy/a", "/nowhere"}

	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		opts := []otelred.Option{otelred.WithProfile(p), otelred.WithService("shop"), otelred.WithAttribute("tenant")}
		// want is what one middleware of profile p records of paths.
		want := map[otelred.Profile]map[string]uint64{
			otelred.Semconv: {
				"http.request.method=GET,http.response.status_code=200,http.route=/users/{id},network.protocol.version=1.1,tenant=acme,url.scheme=http": 2,
				series("GET", "/legacy/{rest}", 202, ""):  1,
				series("GET", "/boom", noStatus, "panic"): 1,
				series("GET", noRoute, 404, ""):           1,
			},
			otelred.Classic: {
				"method=GET,path=/users/{id},service=shop,status_code=200,tenant=acme": 2,
				"method=GET,path=/legacy/{rest},service=shop,status_code=202":          1,
				"method=GET,path=/boom,service=shop,status_code=500":                   1,
				"method=GET,path=unmatched,service=shop,status_code=404":               1,
			},
		}[p]
		t.Run(p.String()+", one provider: counted once", func(t *testing.T) {
			for _, between := range []struct {
				name string
				mw   func(http.Handler) http.Handler
			}{
				{"directly", func(h http.Handler) http.Handler { return h }},
				{"through a middleware that replaces the request", replacing},
			} {
				t.Run(between.name, func(t *testing.T) {
					h := newHarness(t, opts...)
					inner, err := otelred.New(append([]otelred.Option{otelred.WithMeterProvider(h.Provider)}, opts...)...)
					if err != nil {
						t.Fatal(err)
					}
					s := h.server(between.mw(inner(mux)))
					for _, path := range paths {
						h.do(s, "GET", path)
					}
					wantCounts(t, h.counts(p.Names().Duration), want)
					if p == otelred.Classic {
						counted := map[string]int64{}
						for k, v := range want {
							counted[k] = int64(v)
						}
						if got := h.sums(p.Names().Requests); render(got) != render(counted) {
							t.Errorf("%s:\n got  %s\n want %s", p.Names().Requests, render(got), render(counted))
						}
					}
				})
			}
		})
	}

	t.Run("two providers: each records", func(t *testing.T) {
		outer, inner := newHarness(t), newHarness(t)
		s := outer.server(inner.mw(mux))
		outer.do(s, "GET", "/users/1")
		for _, h := range []*harness{outer, inner} {
			wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/users/{id}", 200, ""): 1})
		}
	})
	t.Run("two profiles on one provider: each records", func(t *testing.T) {
		h := newHarness(t)
		classic, err := otelred.New(otelred.WithMeterProvider(h.Provider), otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
		if err != nil {
			t.Fatal(err)
		}
		s := h.server(classic(mux))
		h.do(s, "GET", "/users/1")
		wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/users/{id}", 200, ""): 1})
		wantCounts(t, h.counts(otelred.Classic.Names().Duration), map[string]uint64{"method=GET,path=/users/{id},service=shop,status_code=200": 1})
	})
}

// limitReport is the report of an instrument whose limit of limit
// attribute sets folded the next one into the overflow series, key naming
// it there.
func limitReport(instrument, ctor, key string, limit int, raise string) string {
	return fmt.Sprintf("otelred: the cardinality limit folds attribute sets into the overflow series: %s of %s has reached its limit of %d attribute sets, "+
		"with %d asked for so far: the new ones are recorded in the overflow series (%s=\"overflow\", otel.metric.overflow=true), so nothing is lost, "+
		"but they are not told apart. Raise the limit with %s, or bound the values (see docs/middleware.md#the-cardinality-limit)",
		instrument, ctor, limit, limit+1, key, raise)
}

const raiseLimit = "WithCardinalityLimit, or exporter Config.CardinalityLimit (OTELRED_CARDINALITY_LIMIT), which the Provider of exporter.Setup hands to otelred"

// TestCardinalityLimitIsReported fills the cardinality limit of each
// instrumentation, and goes past it more than once: each instrument whose
// sets are folded into the overflow series reports it once (the
// per-request attribute values share the duration's report), and the
// requests past the limit are all in the overflow series.
func TestCardinalityLimitIsReported(t *testing.T) {
	const limit = 2
	mux := http.NewServeMux()
	for _, p := range []string{"/r0", "/r1", "/r2", "/r3", "/r4"} {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			otelred.SetAttribute(w, "tenant", r.URL.Query().Get("tenant"))
		})
	}
	t.Run("server, Semconv", func(t *testing.T) {
		got := testsupport.CaptureReports(t)
		h := newHarness(t, otelred.WithCardinalityLimit(limit), otelred.WithAttribute("tenant"))
		s := h.server(mux)
		for _, path := range []string{"/r0", "/r1", "/r2", "/r3", "/r4", "/r0?tenant=a", "/r0?tenant=b", "/r0?tenant=c"} {
			h.do(s, "GET", path)
		}
		got.Want(t, otelred.ErrCardinalityLimit, limitReport("http.server.request.duration", "New", "http.route", limit, raiseLimit))
		wantCounts(t, h.counts(duration), map[string]uint64{
			series("GET", "/r0", 200, ""):                   1,
			series("GET", "/r1", 200, ""):                   1,
			"http.route=overflow,otel.metric.overflow=true": 6,
		})
	})
	t.Run("server, Classic: the duration and the in-flight gauge by route", func(t *testing.T) {
		got := testsupport.CaptureReports(t)
		h := newHarness(t, otelred.WithCardinalityLimit(limit), otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
		s := h.server(mux)
		for _, path := range []string{"/r0", "/r1", "/r2", "/r3"} {
			h.do(s, "GET", path)
		}
		got.Want(t, otelred.ErrCardinalityLimit,
			limitReport("http_requests_active", "New", "path", limit, raiseLimit),
			limitReport("http_request_duration_seconds", "New", "path", limit, raiseLimit))
	})
	t.Run("client", func(t *testing.T) {
		got := testsupport.CaptureReports(t)
		status := 200
		c := newClientHarness(t, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			status++
			return &http.Response{StatusCode: status, Body: http.NoBody, Request: r}, nil
		}), otelred.WithCardinalityLimit(limit))
		for range 4 {
			if err := c.get(context.Background(), "http://api.example/"); err != nil {
				t.Fatal(err)
			}
		}
		got.Want(t, otelred.ErrCardinalityLimit, limitReport("http.client.request.duration", "NewTransport", "server.address", limit, raiseLimit))
	})
	t.Run("operations", func(t *testing.T) {
		got := testsupport.CaptureReports(t)
		r, ops := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (*otelred.Operations, error) {
			return otelred.NewOperations(otelred.WithMeterProvider(mp), otelred.WithCardinalityLimit(limit))
		})
		for _, name := range []string{"a", "b", "c", "d"} {
			ops.Start(context.Background(), name).End(nil)
		}
		got.Want(t, otelred.ErrCardinalityLimit, limitReport("operation.duration", "NewOperations", "operation.name", limit, raiseLimit))
		wantCounts(t, r.Counts(otelred.Semconv.OperationNames().Duration), map[string]uint64{
			"operation.name=a": 1, "operation.name=b": 1, "operation.name=overflow,otel.metric.overflow=true": 2,
		})
	})
}

// TestSDKAddsOneSetObservedByTwoCallbacks pins what two middlewares on
// one provider rely on for Classic's asynchronous counters and in-flight
// gauges: when two callbacks observe the same attribute set of one
// instrument in one collection, the SDK (sdk/metric's precomputed sum)
// reports the sum of the two observations, collection after collection.
func TestSDKAddsOneSetObservedByTwoCallbacks(t *testing.T) {
	r := testsupport.NewReader(t, "two-callbacks")
	meter := r.Provider.Meter("two-callbacks")
	counter, err := meter.Int64ObservableCounter("requests")
	if err != nil {
		t.Fatal(err)
	}
	gauge, err := meter.Int64ObservableUpDownCounter("active")
	if err != nil {
		t.Fatal(err)
	}
	set := metric.WithAttributes(attribute.String("path", "/users/{id}"))
	var one, two int64
	for _, n := range []*int64{&one, &two} {
		if _, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
			o.ObserveInt64(counter, *n, set)
			o.ObserveInt64(gauge, -*n, set)
			return nil
		}, counter, gauge); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ one, two int64 }{{3, 4}, {5, 9}} {
		one, two = tc.one, tc.two
		want := map[string]int64{"path=/users/{id}": tc.one + tc.two}
		if got := r.Sums("requests"); render(got) != render(want) {
			t.Errorf("counter observed %d and %d: %s, want the sum %s", tc.one, tc.two, render(got), render(want))
		}
		want["path=/users/{id}"] = -(tc.one + tc.two)
		if got := r.Sums("active"); render(got) != render(want) {
			t.Errorf("up-down counter observed %d and %d: %s, want the sum %s", -tc.one, -tc.two, render(got), render(want))
		}
	}
}

// TestReportsOnceUnderConcurrency serves, from many goroutines at once,
// successes with no route through one middleware, and new routes past
// the cardinality limit through another: each reports exactly once.
func TestReportsOnceUnderConcurrency(t *testing.T) {
	got := testsupport.CaptureReports(t)
	bare := newHarness(t).mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	limited := newHarness(t, otelred.WithCardinalityLimit(5), otelred.WithRoute(func(r *http.Request) string { return r.URL.Path })).mw(
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				bare.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				limited.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", fmt.Sprintf("/r%d-%d", g, i), nil))
			}
		})
	}
	wg.Wait()
	var noRoute, limit int
	for _, s := range got.Texts() {
		switch {
		case s == noRouteReport:
			noRoute++
		case strings.HasPrefix(s, "otelred: the cardinality limit folds attribute sets into the overflow series: http.server.request.duration of New has reached its limit of 5 attribute sets, with 6 asked for so far"):
			limit++
		default:
			t.Errorf("unexpected report %q", s)
		}
	}
	if noRoute != 1 || limit != 1 {
		t.Errorf("%d reports of no route and %d of the limit, want 1 and 1", noRoute, limit)
	}
}
