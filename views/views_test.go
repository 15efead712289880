package views_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	api "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// stream identifies one collected metric.
type stream struct{ scope, name string }

// newProvider returns a MeterProvider with a ManualReader and the views,
// shut down when the test ends.
func newProvider(t *testing.T, vs ...metric.View) (*metric.MeterProvider, *metric.ManualReader) {
	t.Helper()
	r := metric.NewManualReader()
	mp := metric.NewMeterProvider(metric.WithReader(r), metric.WithView(vs...))
	t.Cleanup(func() {
		if err := mp.Shutdown(context.Background()); err != nil {
			t.Errorf("MeterProvider.Shutdown: %v", err)
		}
	})
	return mp, r
}

// collect reads every metric from r, keyed by scope and name. Two metrics
// with the same scope and name (duplicate streams) fail the test.
func collect(t *testing.T, r *metric.ManualReader) map[stream]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	out := map[stream]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			k := stream{sm.Scope.Name, m.Name}
			if _, dup := out[k]; dup {
				t.Fatalf("metric %q is exported twice in scope %q", m.Name, sm.Scope.Name)
			}
			out[k] = m
		}
	}
	return out
}

// floatHistogram returns the data points of the float64 histogram k.
func floatHistogram(t *testing.T, got map[stream]metricdata.Metrics, k stream) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	m, ok := got[k]
	if !ok {
		t.Fatalf("no metric %q in scope %q", k.name, k.scope)
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("metric %q in scope %q is %T, want a float64 histogram", k.name, k.scope, m.Data)
	}
	if len(h.DataPoints) == 0 {
		t.Fatalf("metric %q in scope %q has no data points", k.name, k.scope)
	}
	return h.DataPoints
}

// bounds returns the bucket bounds of the first data point of the float64
// histogram k.
func bounds(t *testing.T, got map[stream]metricdata.Metrics, k stream) []float64 {
	t.Helper()
	return floatHistogram(t, got, k)[0].Bounds
}

// keys returns the attribute keys of a set, sorted.
func keys(s attribute.Set) []string {
	var ks []string
	for it := s.Iter(); it.Next(); {
		ks = append(ks, string(it.Attribute().Key))
	}
	slices.Sort(ks)
	return ks
}

// attributeSets returns the attribute sets of every data point of metric m,
// whatever its kind.
func attributeSets(t *testing.T, m metricdata.Metrics) []attribute.Set {
	t.Helper()
	var sets []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			sets = append(sets, dp.Attributes)
		}
	default:
		t.Fatalf("metric %q: unexpected data %T", m.Name, m.Data)
	}
	return sets
}

// durationHistogram creates the duration histogram the way otelred does:
// in otelred's scope, named by the profile, with the profile's bucket advice.
func durationHistogram(t *testing.T, mp api.MeterProvider, p otelred.Profile) api.Float64Histogram {
	t.Helper()
	h, err := mp.Meter(otelred.ScopeName, api.WithInstrumentationVersion(otelred.Version)).Float64Histogram(
		p.Names().Duration,
		api.WithUnit("s"),
		api.WithExplicitBucketBoundaries(p.Boundaries()...),
	)
	if err != nil {
		t.Fatalf("Float64Histogram: %v", err)
	}
	return h
}

// otelhttpLikeHistogram creates a histogram in otelhttp's scope with
// otelhttp's name and bucket advice for the server duration.
func otelhttpLikeHistogram(t *testing.T, mp api.MeterProvider) api.Float64Histogram {
	t.Helper()
	h, err := mp.Meter(otelhttp.ScopeName, api.WithInstrumentationVersion(otelhttp.Version)).Float64Histogram(
		"http.server.request.duration",
		api.WithUnit("s"),
		api.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10),
	)
	if err != nil {
		t.Fatalf("Float64Histogram: %v", err)
	}
	return h
}

// must returns v, panicking on an error; for constructors that cannot fail
// with the arguments a test gives them.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestDurationSetsTheBuckets(t *testing.T) {
	slo, err := views.SLOBoundaries(views.Default(otelred.Semconv), 0.3)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		profile    otelred.Profile
		boundaries []float64
		want       []float64
	}{
		{"semconv with nil boundaries uses its defaults", otelred.Semconv, nil, views.Default(otelred.Semconv)},
		{"classic with nil boundaries uses its defaults", otelred.Classic, nil, views.Default(otelred.Classic)},
		{"semconv with SLO boundaries overrides the advice", otelred.Semconv, slo, slo},
		{"classic with custom boundaries overrides the advice", otelred.Classic, []float64{0.1, 0.3, 1}, []float64{0.1, 0.3, 1}},
		{"a single boundary gives two buckets", otelred.Semconv, []float64{0.5}, []float64{0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := views.Duration(tt.profile, tt.boundaries)
			if err != nil {
				t.Fatalf("Duration: %v", err)
			}
			red, err := views.RED(tt.profile, tt.boundaries)
			if err != nil {
				t.Fatalf("RED: %v", err)
			}
			for name, vs := range map[string][]metric.View{"Duration": {d}, "RED": red} {
				mp, r := newProvider(t, vs...)
				durationHistogram(t, mp, tt.profile).Record(context.Background(), 0.2)
				dps := floatHistogram(t, collect(t, r), stream{otelred.ScopeName, tt.profile.Names().Duration})
				if got := dps[0].Bounds; !slices.Equal(got, tt.want) {
					t.Errorf("%s: bounds = %v, want %v", name, got, tt.want)
				}
				if got := len(dps[0].BucketCounts); got != len(tt.want)+1 {
					t.Errorf("%s: %d bucket counts, want %d", name, got, len(tt.want)+1)
				}
				if dps[0].Count != 1 {
					t.Errorf("%s: count = %d, want 1", name, dps[0].Count)
				}
			}
		})
	}
}

func TestDurationCopiesTheBoundaries(t *testing.T) {
	b := []float64{0.1, 0.2, 0.3}
	v, err := views.Duration(otelred.Semconv, b)
	if err != nil {
		t.Fatal(err)
	}
	b[0], b[1], b[2] = 7, 8, 9

	mp, r := newProvider(t, v)
	durationHistogram(t, mp, otelred.Semconv).Record(context.Background(), 0.2)
	got := bounds(t, collect(t, r), stream{otelred.ScopeName, otelred.Semconv.Names().Duration})
	if want := []float64{0.1, 0.2, 0.3}; !slices.Equal(got, want) {
		t.Fatalf("bounds after mutating the caller's slice = %v, want %v", got, want)
	}
}

func TestConstructorsRejectInvalidBoundaries(t *testing.T) {
	constructors := []struct {
		name string
		new  func([]float64) error
	}{
		{"Duration", func(b []float64) error { _, err := views.Duration(otelred.Semconv, b); return err }},
		{"RED", func(b []float64) error { _, err := views.RED(otelred.Classic, b); return err }},
		{"Otelhttp", func(b []float64) error { _, err := views.Otelhttp(b); return err }},
		{"OtelhttpWithoutBodySize", func(b []float64) error { _, err := views.OtelhttpWithoutBodySize(b); return err }},
	}
	for _, c := range constructors {
		for _, tt := range invalidBoundaries {
			t.Run(c.name+" "+tt.name, func(t *testing.T) {
				checkInvalid(t, c.new(tt.boundaries), tt.wantInErr)
			})
		}
	}

	t.Run("Duration and RED reject an unknown profile", func(t *testing.T) {
		v, err := views.Duration(otelred.Profile(200), nil)
		if v != nil || !errors.Is(err, otelred.ErrInvalidOption) {
			t.Errorf("Duration(Profile(200)) = %v, %v; want nil and an ErrInvalidOption", v, err)
		}
		vs, err := views.RED(otelred.Profile(200), nil)
		if vs != nil || !errors.Is(err, otelred.ErrInvalidOption) {
			t.Errorf("RED(Profile(200)) = %v, %v; want nil and an ErrInvalidOption", vs, err)
		}
	})
}

// TestScopesStayApart records into otelred's and otelhttp's same-named
// duration histograms and checks that each view set touches only its own.
func TestScopesStayApart(t *testing.T) {
	redBounds := []float64{0.1, 0.2, 0.4}
	httpBounds := []float64{1, 2, 4}
	advice := views.Default(otelred.Semconv) // both instruments' advice
	red := func(t *testing.T) []metric.View { return must(views.RED(otelred.Semconv, redBounds)) }
	oh := func(t *testing.T) []metric.View { return must(views.Otelhttp(httpBounds)) }

	tests := []struct {
		name                 string
		views                func(t *testing.T) []metric.View
		wantRED, wantHTTP    []float64
		wantHTTPServerAddrOK bool // server.address survives on otelhttp's instrument
	}{
		{
			name:                 "no view leaves both instruments on their advice",
			views:                func(*testing.T) []metric.View { return nil },
			wantRED:              advice,
			wantHTTP:             advice,
			wantHTTPServerAddrOK: true,
		},
		{
			name:     "Otelhttp alone leaves otelred's instrument on its advice",
			views:    oh,
			wantRED:  advice,
			wantHTTP: httpBounds,
		},
		{
			name:     "RED then Otelhttp each set their own",
			views:    func(t *testing.T) []metric.View { return append(red(t), oh(t)...) },
			wantRED:  redBounds,
			wantHTTP: httpBounds,
		},
		{
			name:     "Otelhttp then RED each set their own",
			views:    func(t *testing.T) []metric.View { return append(oh(t), red(t)...) },
			wantRED:  redBounds,
			wantHTTP: httpBounds,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, r := newProvider(t, tt.views(t)...)
			attrs := api.WithAttributes(
				attribute.String("http.request.method", "GET"),
				attribute.String("server.address", "evil.example"),
			)
			durationHistogram(t, mp, otelred.Semconv).Record(context.Background(), 0.2, attrs)
			otelhttpLikeHistogram(t, mp).Record(context.Background(), 0.2, attrs)
			got := collect(t, r)

			name := otelred.Semconv.Names().Duration
			redDP := floatHistogram(t, got, stream{otelred.ScopeName, name})[0]
			httpDP := floatHistogram(t, got, stream{otelhttp.ScopeName, name})[0]
			if !slices.Equal(redDP.Bounds, tt.wantRED) {
				t.Errorf("otelred's bounds = %v, want %v", redDP.Bounds, tt.wantRED)
			}
			if !slices.Equal(httpDP.Bounds, tt.wantHTTP) {
				t.Errorf("otelhttp's bounds = %v, want %v", httpDP.Bounds, tt.wantHTTP)
			}
			if !redDP.Attributes.HasValue("server.address") {
				t.Errorf("otelred's attributes %v lost server.address to otelhttp's filter", keys(redDP.Attributes))
			}
			if got := httpDP.Attributes.HasValue("server.address"); got != tt.wantHTTPServerAddrOK {
				t.Errorf("otelhttp's attributes %v: server.address present = %v, want %v", keys(httpDP.Attributes), got, tt.wantHTTPServerAddrOK)
			}
		})
	}
}

func TestDropAndKeepRemoveExactlyTheKeys(t *testing.T) {
	recorded := []attribute.KeyValue{
		attribute.String("http.request.method", "GET"),
		attribute.String("http.route", "/users/{id}"),
		attribute.String("user.id", "42"),
		attribute.String("client.address", "203.0.113.9"),
	}
	all := []string{"client.address", "http.request.method", "http.route", "user.id"}
	a, b, other := stream{"scope.a", "app.latency"}, stream{"scope.b", "app.latency"}, stream{"scope.a", "rpc.latency"}

	tests := []struct {
		name string
		view metric.View
		want map[stream][]string
	}{
		{
			name: "Drop removes the listed keys in every scope",
			view: views.Drop("app.latency", "user.id", "client.address"),
			want: map[stream][]string{a: {"http.request.method", "http.route"}, b: {"http.request.method", "http.route"}, other: all},
		},
		{
			name: "Drop of a key the measurement lacks changes nothing",
			view: views.Drop("app.latency", "session.id"),
			want: map[stream][]string{a: all, b: all, other: all},
		},
		{
			name: "Keep keeps only the listed keys",
			view: views.Keep("app.latency", "http.route", "http.request.method", "not.recorded"),
			want: map[stream][]string{a: {"http.request.method", "http.route"}, b: {"http.request.method", "http.route"}, other: all},
		},
		{
			name: "Keep with no keys removes every attribute",
			view: views.Keep("app.latency"),
			want: map[stream][]string{a: nil, b: nil, other: all},
		},
		{
			name: "a wildcard name reaches every matching instrument",
			view: views.Drop("*.latency", "user.id"),
			want: map[stream][]string{
				a:     {"client.address", "http.request.method", "http.route"},
				b:     {"client.address", "http.request.method", "http.route"},
				other: {"client.address", "http.request.method", "http.route"},
			},
		},
		{
			name: "an empty instrument name matches nothing",
			view: views.Keep(""),
			want: map[stream][]string{a: all, b: all, other: all},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, r := newProvider(t, tt.view)
			for _, s := range []stream{a, b, other} {
				h, err := mp.Meter(s.scope).Float64Histogram(s.name)
				if err != nil {
					t.Fatal(err)
				}
				h.Record(context.Background(), 0.2, api.WithAttributes(recorded...))
			}
			got := collect(t, r)
			for s, want := range tt.want {
				dps := floatHistogram(t, got, s)
				if len(dps) != 1 {
					t.Fatalf("%v: %d data points, want 1", s, len(dps))
				}
				if k := keys(dps[0].Attributes); !slices.Equal(k, want) {
					t.Errorf("%v: attribute keys %v, want %v", s, k, want)
				}
			}
		})
	}

	t.Run("measurements that differ only in dropped keys share a series", func(t *testing.T) {
		mp, r := newProvider(t, views.Drop("app.latency", "user.id"))
		h, err := mp.Meter("scope.a").Float64Histogram("app.latency")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			h.Record(context.Background(), 0.2, api.WithAttributes(
				attribute.String("http.route", "/users/{id}"),
				attribute.Int("user.id", i),
			))
		}
		dps := floatHistogram(t, collect(t, r), a)
		if len(dps) != 1 || dps[0].Count != 50 {
			t.Fatalf("got %d data points (first count %d), want 1 with count 50", len(dps), dps[0].Count)
		}
	})
}

// TestViewPrecedence pins the SDK behaviour the package documentation
// describes: for one instrument, the first registered view that yields a
// stream wins, and a later one yielding the same stream is ignored.
func TestViewPrecedence(t *testing.T) {
	custom := []float64{0.1, 0.3, 1}
	advice := views.Default(otelred.Semconv)
	name := otelred.Semconv.Names().Duration
	duration := func(t *testing.T) metric.View { return must(views.Duration(otelred.Semconv, custom)) }

	tests := []struct {
		name           string
		views          func(t *testing.T) []metric.View
		wantBounds     []float64
		wantRouteKept  bool
		wantHTTPBounds []float64 // otelhttp-scoped same-named instrument
		wantHTTPRoute  bool
	}{
		{
			name:           "a Drop registered before Duration silently takes its buckets",
			views:          func(t *testing.T) []metric.View { return []metric.View{views.Drop(name, "http.route"), duration(t)} },
			wantBounds:     advice,
			wantRouteKept:  false,
			wantHTTPBounds: advice,
			wantHTTPRoute:  false,
		},
		{
			name:           "a Drop registered after Duration is ignored for otelred but reaches otelhttp",
			views:          func(t *testing.T) []metric.View { return []metric.View{duration(t), views.Drop(name, "http.route")} },
			wantBounds:     custom,
			wantRouteKept:  true,
			wantHTTPBounds: advice,
			wantHTTPRoute:  false,
		},
		{
			name:           "a Drop with no keys matches nothing, so it hides nothing",
			views:          func(t *testing.T) []metric.View { return []metric.View{views.Drop(name), duration(t)} },
			wantBounds:     custom,
			wantRouteKept:  true,
			wantHTTPBounds: advice,
			wantHTTPRoute:  true,
		},
		{
			name: "of two Duration views the first wins",
			views: func(t *testing.T) []metric.View {
				return []metric.View{duration(t), must(views.Duration(otelred.Semconv, []float64{5}))}
			},
			wantBounds:     custom,
			wantRouteKept:  true,
			wantHTTPBounds: advice,
			wantHTTPRoute:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, r := newProvider(t, tt.views(t)...)
			attrs := api.WithAttributes(attribute.String("http.route", "/users/{id}"))
			durationHistogram(t, mp, otelred.Semconv).Record(context.Background(), 0.2, attrs)
			otelhttpLikeHistogram(t, mp).Record(context.Background(), 0.2, attrs)
			got := collect(t, r)

			redDP := floatHistogram(t, got, stream{otelred.ScopeName, name})[0]
			if !slices.Equal(redDP.Bounds, tt.wantBounds) {
				t.Errorf("otelred's bounds = %v, want %v", redDP.Bounds, tt.wantBounds)
			}
			if got := redDP.Attributes.HasValue("http.route"); got != tt.wantRouteKept {
				t.Errorf("otelred's http.route kept = %v, want %v", got, tt.wantRouteKept)
			}
			httpDP := floatHistogram(t, got, stream{otelhttp.ScopeName, name})[0]
			if !slices.Equal(httpDP.Bounds, tt.wantHTTPBounds) {
				t.Errorf("otelhttp's bounds = %v, want %v", httpDP.Bounds, tt.wantHTTPBounds)
			}
			if got := httpDP.Attributes.HasValue("http.route"); got != tt.wantHTTPRoute {
				t.Errorf("otelhttp's http.route kept = %v, want %v", got, tt.wantHTTPRoute)
			}
		})
	}
}

// Names of the instruments otelhttp v0.72 creates.
const (
	serverDuration     = "http.server.request.duration"
	clientDuration     = "http.client.request.duration"
	serverRequestBody  = "http.server.request.body.size"
	serverResponseBody = "http.server.response.body.size"
	clientRequestBody  = "http.client.request.body.size"
)

// requestDerived are the keys Otelhttp must remove.
var requestDerived = []attribute.Key{
	"server.address", "server.port", "client.address", "network.peer.address", "network.peer.port",
	"user_agent.original", "url.full", "url.path", "url.query", "http.request.method_original",
}

// serveOtelhttp runs n requests, each with its own Host header and User-Agent,
// and one failing request through a real otelhttp handler and a real
// otelhttp transport recording into mp.
func serveOtelhttp(t *testing.T, mp api.MeterProvider, n int) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+r.PathValue("id"))
	})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	tp := noop.NewTracerProvider()
	srv := httptest.NewServer(otelhttp.NewHandler(mux, "server",
		otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(tp)))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: otelhttp.NewTransport(srv.Client().Transport,
		otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(tp))}

	do := func(method, path, host, agent string) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("User-Agent", agent)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	for i := range n {
		do(http.MethodGet, fmt.Sprintf("/users/%d", i), fmt.Sprintf("evil%d.example:%d", i, 1000+i), fmt.Sprintf("bot/%d", i))
	}
	do(http.MethodPost, "/fail", "evil.example:1234", "bot")
}

func TestOtelhttp(t *testing.T) {
	const n = 20
	custom := []float64{0.001, 0.3, 2}
	wantServerKeys := []string{
		"http.request.method", "http.response.status_code", "http.route",
		"network.protocol.name", "network.protocol.version", "url.scheme",
	}
	wantClientKeys := []string{
		"http.request.method", "http.response.status_code",
		"network.protocol.name", "network.protocol.version", "url.scheme",
	}

	tests := []struct {
		name         string
		views        func(t *testing.T) []metric.View
		wantBounds   []float64
		wantBodySize bool
	}{
		{
			name:         "Otelhttp re-buckets, trims, and keeps body sizes",
			views:        func(t *testing.T) []metric.View { return must(views.Otelhttp(custom)) },
			wantBounds:   custom,
			wantBodySize: true,
		},
		{
			name:         "Otelhttp with nil boundaries uses the semconv defaults",
			views:        func(t *testing.T) []metric.View { return must(views.Otelhttp(nil)) },
			wantBounds:   views.Default(otelred.Semconv),
			wantBodySize: true,
		},
		{
			name:         "OtelhttpWithoutBodySize drops the body-size histograms",
			views:        func(t *testing.T) []metric.View { return must(views.OtelhttpWithoutBodySize(custom)) },
			wantBounds:   custom,
			wantBodySize: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp, r := newProvider(t, tt.views(t)...)
			serveOtelhttp(t, mp, n)
			got := collect(t, r)

			for _, c := range []struct {
				name     string
				wantKeys []string
			}{{serverDuration, wantServerKeys}, {clientDuration, wantClientKeys}} {
				dps := floatHistogram(t, got, stream{otelhttp.ScopeName, c.name})
				// One series per route and status, however many hosts.
				if len(dps) != 2 {
					t.Errorf("%s: %d data points, want 2 (one per route and status)", c.name, len(dps))
				}
				var count uint64
				for _, dp := range dps {
					count += dp.Count
					if !slices.Equal(dp.Bounds, tt.wantBounds) {
						t.Errorf("%s: bounds = %v, want %v", c.name, dp.Bounds, tt.wantBounds)
					}
					if k := keys(dp.Attributes); !slices.Equal(k, c.wantKeys) {
						t.Errorf("%s: attribute keys %v, want %v", c.name, k, c.wantKeys)
					}
				}
				if count != n+1 {
					t.Errorf("%s: total count %d, want %d", c.name, count, n+1)
				}
			}

			for _, name := range []string{serverRequestBody, serverResponseBody, clientRequestBody} {
				m, ok := got[stream{otelhttp.ScopeName, name}]
				if ok != tt.wantBodySize {
					t.Errorf("%s exported = %v, want %v", name, ok, tt.wantBodySize)
					continue
				}
				if ok && len(attributeSets(t, m)) != 2 {
					t.Errorf("%s: %d data points, want 2", name, len(attributeSets(t, m)))
				}
			}

			for s, m := range got {
				for _, set := range attributeSets(t, m) {
					for _, k := range requestDerived {
						if set.HasValue(k) {
							v, _ := set.Value(k)
							t.Errorf("%s in scope %s carries %s=%s", s.name, s.scope, k, v.String())
						}
					}
				}
			}
		})
	}

	// The control: without the views the hazard is real, so the checks above
	// can fail.
	t.Run("without the views otelhttp records the Host header", func(t *testing.T) {
		mp, r := newProvider(t)
		serveOtelhttp(t, mp, n)
		dps := floatHistogram(t, collect(t, r), stream{otelhttp.ScopeName, serverDuration})
		if len(dps) != n+1 {
			t.Errorf("%d data points, want %d (one per Host header)", len(dps), n+1)
		}
		v, ok := dps[0].Attributes.Value("server.address")
		if !ok || v.AsString() == "" || v.AsString() == "127.0.0.1" {
			t.Errorf("server.address = %q (present %v), want a Host header value", v.String(), ok)
		}
	})
}

// TestOtelhttpCoversEveryInstrument fails when otelhttp creates an
// instrument Otelhttp does not know, or stops using the scope name it
// matches.
func TestOtelhttpCoversEveryInstrument(t *testing.T) {
	mp, r := newProvider(t)
	serveOtelhttp(t, mp, 1)
	var names []string
	for s := range collect(t, r) {
		if s.scope != otelhttp.ScopeName {
			t.Errorf("metric %q in unexpected scope %q", s.name, s.scope)
		}
		names = append(names, s.name)
	}
	slices.Sort(names)
	want := []string{clientRequestBody, clientDuration, serverRequestBody, serverDuration, serverResponseBody}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("otelhttp records %v, Otelhttp covers %v", names, want)
	}
}
