package redpage

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// recorder records a known load on the instruments of a profile, by their
// names, in otelred's scope, as the middleware would.
type recorder struct {
	names    otelred.Names
	duration metric.Float64Histogram
	requests metric.Int64Counter
	errors   metric.Int64Counter
	active   metric.Int64UpDownCounter
}

func newRecorder(t *testing.T, mp metric.MeterProvider, p otelred.Profile) *recorder {
	t.Helper()
	m := mp.Meter(otelred.ScopeName)
	r := &recorder{names: p.Names()}
	var err error
	if r.duration, err = m.Float64Histogram(r.names.Duration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(p.Boundaries()...)); err != nil {
		t.Fatal(err)
	}
	if r.names.Requests != "" {
		if r.requests, err = m.Int64Counter(r.names.Requests); err != nil {
			t.Fatal(err)
		}
	}
	if r.names.Errors != "" {
		if r.errors, err = m.Int64Counter(r.names.Errors); err != nil {
			t.Fatal(err)
		}
	}
	if r.active, err = m.Int64UpDownCounter(r.names.Active); err != nil {
		t.Fatal(err)
	}
	return r
}

// request records n requests of route, each lasting secs, with status;
// failed marks them as failures, the profile's way.
func (r *recorder) request(route string, status int, failed bool, secs float64, n int) {
	ctx := context.Background()
	kv := []attribute.KeyValue{r.names.Method.String("GET"), r.names.Route.String(route), r.names.Status.Int(status)}
	if failed && r.names.ErrorType != "" {
		kv = append(kv, r.names.ErrorType.String("500"))
	}
	for range n {
		r.duration.Record(ctx, secs, metric.WithAttributes(kv...))
	}
	counted := metric.WithAttributes(r.names.Method.String("GET"), r.names.Route.String(route), r.names.Status.Int(status))
	if r.requests != nil {
		r.requests.Add(ctx, int64(n), counted)
	}
	if failed && r.errors != nil {
		r.errors.Add(ctx, int64(n), counted)
	}
}

// inFlight adds n requests in flight on route: by route where the profile
// counts them so, else by method alone.
func (r *recorder) inFlight(route string, n int64) {
	kv := []attribute.KeyValue{r.names.Method.String("GET")}
	if r.names.Service != "" { // Classic counts them by route
		kv = append(kv, r.names.Route.String(route))
	}
	r.active.Add(context.Background(), n, metric.WithAttributes(kv...))
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func null(t *testing.T, what string, got *float64) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %v, want null", what, *got)
	}
}

func inFlight(t *testing.T, what string, got *int64, want int64, has bool) {
	t.Helper()
	switch {
	case !has && got != nil:
		t.Errorf("%s in flight = %d, want null", what, *got)
	case has && got == nil:
		t.Errorf("%s in flight = null, want %d", what, want)
	case has && *got != want:
		t.Errorf("%s in flight = %d, want %d", what, *got, want)
	}
}

// TestFeedOfAKnownLoad drives a known load over a manual clock and checks
// every number of the feed: rates from the counts over the clock's
// seconds, error ratios, and the quantiles as histogram_quantile
// interpolates them in the buckets.
func TestFeedOfAKnownLoad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		// errors of the whole load: Classic counts the 404s too.
		allErrors float64
		bErrors   float64
		byRoute   bool
	}{
		{"semconv marks failures with error.type and counts in-flight requests by method", otelred.Semconv, 10, 0, false},
		{"classic counts failures with http_errors_total and in-flight requests by path", otelred.Classic, 30, 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			rec := newRecorder(t, mp, tc.profile)
			clk := newClock()
			h := newTestHandler(reader, clk, tc.profile)

			f := feedOf(t, h)
			if f.Window != nil || f.Profile != tc.profile.String() {
				t.Fatalf("first feed: window %v, profile %q; want null and %q", f.Window, f.Profile, tc.profile)
			}

			// 2 s of load: /a 90 fast and 10 failed slow requests, /b 20
			// requests of 30 ms answered 404; 3 in flight.
			rec.request("/a", 200, false, 0.001, 90)
			rec.request("/a", 500, true, 0.2, 10)
			rec.request("/b", 404, tc.bErrors > 0, 0.03, 20)
			rec.inFlight("/a", 2)
			rec.inFlight("/b", 1)
			clk.advance(2 * time.Second)

			f = feedOf(t, h)
			near(t, "window", f.Window, 2)
			if f.Time != clk.t.UnixMilli() {
				t.Errorf("time = %d, want %d", f.Time, clk.t.UnixMilli())
			}
			server := f.section(t, "HTTP server")
			if server.Key != string(tc.profile.Names().Route) {
				t.Errorf("key = %q, want %q", server.Key, tc.profile.Names().Route)
			}
			if len(server.Rows) != 2 || server.Rows[0].Name != "/a" || server.Rows[1].Name != "/b" {
				t.Fatalf("rows = %+v, want /a and /b", server.Rows)
			}
			a, b, all := server.row(t, "/a"), server.row(t, "/b"), server.Total
			near(t, "/a rate", a.Rate, 50)
			near(t, "/a error ratio", a.ErrorRatio, 0.1)
			near(t, "/a p50", a.P50, 1000*0.005*50/90) // rank 50 of 90 in (0, 5ms]
			near(t, "/a p99", a.P99, 1000*(0.1+0.15*0.9))
			near(t, "/b rate", b.Rate, 10)
			near(t, "/b error ratio", b.ErrorRatio, tc.bErrors/20)
			near(t, "/b p50", b.P50, 1000*(0.025+0.025*0.5))
			near(t, "/b p99", b.P99, 1000*(0.025+0.025*0.99))
			near(t, "all rate", all.Rate, 60)
			near(t, "all error ratio", all.ErrorRatio, tc.allErrors/120)
			near(t, "all p50", all.P50, 1000*0.005*60/90)
			near(t, "all p99", all.P99, 1000*(0.1+0.15*(118.8-110)/10))
			inFlight(t, "/a", a.InFlight, 2, tc.byRoute)
			inFlight(t, "/b", b.InFlight, 1, tc.byRoute)
			inFlight(t, "all", all.InFlight, 3, true)
			if len(server.History) != 1 {
				t.Fatalf("history = %+v, want one point", server.History)
			}
			p := server.History[0]
			if p.T != clk.t.UnixMilli() {
				t.Errorf("point time = %d, want %d", p.T, clk.t.UnixMilli())
			}
			near(t, "point rate", p.Rate, 60)
			near(t, "point error ratio", p.ErrorRatio, tc.allErrors/120)
			near(t, "point p99", p.P99, 1000*(0.1+0.15*(118.8-110)/10))
			for _, s := range f.Sections {
				if s.Title != "HTTP server" {
					t.Errorf("section %q shown without data", s.Title)
				}
			}

			// 1 s more, with no requests: the table covers all 3 s, the
			// new point is idle.
			clk.advance(time.Second)
			f = feedOf(t, h)
			server = f.section(t, "HTTP server")
			near(t, "window", f.Window, 3)
			near(t, "/a rate over 3 s", server.row(t, "/a").Rate, 100.0/3)
			if len(server.History) != 2 {
				t.Fatalf("history = %+v, want two points", server.History)
			}
			p = server.History[1]
			near(t, "idle point rate", p.Rate, 0)
			null(t, "idle point error ratio", p.ErrorRatio)
			null(t, "idle point p99", p.P99)

			// Past the window, the load is gone from the table.
			for range 11 {
				clk.advance(time.Second)
				f = feedOf(t, h)
			}
			server = f.section(t, "HTTP server")
			near(t, "window", f.Window, 10)
			near(t, "/a rate after the window", server.row(t, "/a").Rate, 0)
			null(t, "/a p99 after the window", server.row(t, "/a").P99)
			inFlight(t, "all, later", server.Total.InFlight, 3, true)
		})
	}
}

// TestFeedCollectsOncePerInterval checks that viewers share collections:
// a feed asked for sooner than Interval after the last is the same one.
func TestFeedCollectsOncePerInterval(t *testing.T) {
	c := &counting{Collector: sdkmetric.NewManualReader()}
	clk := newClock()
	h := newTestHandler(c, clk, otelred.Semconv)
	first := string(h.Feed(context.Background()))
	clk.advance(Interval - time.Millisecond)
	if again := string(h.Feed(context.Background())); again != first || c.n != 1 {
		t.Fatalf("within the interval: %d collections, feed changed %v; want 1 and the same feed", c.n, again != first)
	}
	clk.advance(time.Millisecond)
	h.Feed(context.Background())
	if c.n != 2 {
		t.Fatalf("after the interval: %d collections, want 2", c.n)
	}
}

// TestMemoryIsBounded checks that the handler keeps HistoryLen chart
// points and the collections of one Window, however long it runs.
func TestMemoryIsBounded(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rec := newRecorder(t, mp, otelred.Semconv)
	clk := newClock()
	h := newTestHandler(reader, clk, otelred.Semconv)
	for i := range HistoryLen + 50 {
		rec.request("/a", 200, false, 0.001, i)
		h.Feed(context.Background())
		clk.advance(Interval)
	}
	if n := len(h.history[0]); n != HistoryLen {
		t.Errorf("history holds %d points, want %d", n, HistoryLen)
	}
	if max := int(Window/Interval) + 1; len(h.snaps) > max {
		t.Errorf("%d collections kept, want at most %d", len(h.snaps), max)
	}
	pts := h.points(0)
	// The point of collection i counts the i requests recorded just
	// before it, over one second; collections 1 to 349 made points, and
	// the last 300 are kept.
	if first, last := pts[0].Rate, pts[len(pts)-1].Rate; first != 50 || last != HistoryLen+49 {
		t.Errorf("points run from rate %v to %v, want 50 to %d", first, last, HistoryLen+49)
	}
}

// TestDeltaReaderIsRefused checks that a reader with delta temporality is
// collected once, reported, and never collected again, so that the page
// cannot take counts from the exporter the reader feeds.
func TestDeltaReaderIsRefused(t *testing.T) {
	delta := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality {
		return metricdata.DeltaTemporality
	}))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(delta))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rec := newRecorder(t, mp, otelred.Semconv)
	rec.request("/a", 200, false, 0.001, 1)
	c := &counting{Collector: delta}
	clk := newClock()
	h := newTestHandler(c, clk, otelred.Semconv)
	for range 3 {
		f := feedOf(t, h)
		if !strings.Contains(f.Error, "deltas") {
			t.Errorf("feed error = %q, want it to name the deltas", f.Error)
		}
		clk.advance(Interval)
	}
	if c.n != 1 {
		t.Errorf("%d collections, want 1", c.n)
	}
}
