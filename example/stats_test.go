package main

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

func TestQuantile(t *testing.T) {
	tests := []struct {
		name    string
		q       float64
		bounds  []float64
		buckets []uint64
		want    float64
	}{
		{"the median interpolates inside its bucket", 0.25, []float64{1, 2, 4}, []uint64{0, 10, 10, 0}, 1.5},
		{"a rank on a bucket's top is its bound", 0.5, []float64{1, 2, 4}, []uint64{0, 10, 10, 0}, 2},
		{"a higher quantile moves to the next bucket", 0.75, []float64{1, 2, 4}, []uint64{0, 10, 10, 0}, 3},
		{"the first bucket starts at 0", 0.5, []float64{0.5, 1}, []uint64{4, 0, 0}, 0.25},
		{"empty buckets are skipped", 0.5, []float64{1, 2, 4}, []uint64{5, 0, 5, 0}, 1},
		{"past the last bound is the last bound", 0.99, []float64{1, 2, 4}, []uint64{0, 0, 0, 5}, 4},
		{"a zero first bound is returned as is", 0.5, []float64{0, 1}, []uint64{3, 1, 0}, 0},
		{"q=1 is the top of the highest used bucket", 1, []float64{1, 2, 4}, []uint64{1, 1, 0, 0}, 2},
		{"no observations is NaN", 0.5, []float64{1, 2}, []uint64{0, 0, 0}, math.NaN()},
		{"no bounds is NaN", 0.5, nil, []uint64{3}, math.NaN()},
		{"mismatched buckets are NaN", 0.5, []float64{1, 2}, []uint64{1, 1}, math.NaN()},
		{"q above 1 is NaN", 1.5, []float64{1}, []uint64{1, 0}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := quantile(tt.q, tt.bounds, tt.buckets)
			if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
				t.Errorf("quantile(%v, %v, %v) = %v, want %v", tt.q, tt.bounds, tt.buckets, got, tt.want)
			}
		})
	}
}

func TestFormatLine(t *testing.T) {
	bounds := []float64{0.1, 0.2, 0.4, 0.8}
	rs := func(requests, errors uint64, buckets ...uint64) *routeStats {
		return &routeStats{requests: requests, errors: errors, bounds: bounds, buckets: buckets}
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	prev := snapshot{at: t0, routes: map[string]*routeStats{
		"/fail": rs(4, 4, 4, 0, 0, 0, 0),
		"/idle": rs(5, 0, 5, 0, 0, 0, 0),
	}}
	cur := snapshot{at: t0.Add(2 * time.Second), routes: map[string]*routeStats{
		"/fail":         rs(104, 104, 104, 0, 0, 0, 0),
		"/hello/{name}": rs(200, 0, 100, 100, 0, 0, 0),
		"/idle":         rs(5, 0, 5, 0, 0, 0, 0),
		"/slow":         rs(50, 0, 0, 0, 0, 40, 10),
	}}
	got := formatLine(cur.since(prev), cur.at.Sub(prev.at))
	want := "all 175.0/s err 28.6% p50 87.5ms p99 800.0ms" +
		" | /fail 50.0/s err 100.0% p50 50.0ms p99 99.0ms" +
		" | /hello/{name} 100.0/s err 0.0% p50 100.0ms p99 198.0ms" +
		" | /idle 0.0/s err - p50 - p99 -" +
		" | /slow 25.0/s err 0.0% p50 650.0ms p99 800.0ms"
	if got != want {
		t.Errorf("formatLine:\n got %s\nwant %s", got, want)
	}
	// since leaves its inputs alone.
	if c := cur.routes["/fail"]; c.requests != 104 || c.buckets[0] != 104 {
		t.Errorf("since changed the current snapshot: %+v", c)
	}
}

func TestFormatSeconds(t *testing.T) {
	for in, want := range map[float64]string{
		math.NaN(): "-",
		0:          "0.0ms",
		0.0025:     "2.5ms",
		0.25:       "250.0ms",
		1:          "1.00s",
		2.5:        "2.50s",
	} {
		if got := formatSeconds(in); got != want {
			t.Errorf("formatSeconds(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestSnapshotReadsTheInstruments sends known requests through the
// instrumented demo and reads them back from its ManualReader, as -load
// does, for both profiles: Semconv marks failures (>= 500) with error.type,
// Classic counts them (>= 400) in http_errors_total.
func TestSnapshotReadsTheInstruments(t *testing.T) {
	for _, tt := range []struct {
		naming string
		errors map[string]uint64 // by route
	}{
		{"semconv", map[string]uint64{"/fail": 3, "/hello/{name}": 0, "/slow": 0, "unmatched": 0}},
		{"classic", map[string]uint64{"/fail": 3, "/hello/{name}": 0, "/slow": 2, "unmatched": 1}},
	} {
		t.Run(tt.naming, func(t *testing.T) {
			t.Parallel()
			d := startDemo(t, options{naming: tt.naming, stats: true})
			c := newClient(t)
			for path, n := range map[string]int{"/fail": 3, "/hello/ada": 1, "/hello/ken": 1, "/slow?ms=x": 2, "/slow?ms=0": 1, "/nope": 1, "/metrics": 2} {
				for range n {
					get(t, c, d.url()+path)
				}
			}
			s, err := d.snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			requests := map[string]uint64{"/fail": 3, "/hello/{name}": 2, "/slow": 3, "unmatched": 1}
			if got := s.sortedRoutes(); !slices.Equal(got, []string{"/fail", "/hello/{name}", "/slow", "unmatched"}) {
				t.Fatalf("routes %q, want /fail, /hello/{name}, /slow and unmatched (and no /metrics)", got)
			}
			for r, rs := range s.routes {
				if rs.requests != requests[r] || rs.errors != tt.errors[r] {
					t.Errorf("%s: %d requests, %d errors; want %d, %d", r, rs.requests, rs.errors, requests[r], tt.errors[r])
				}
				var inBuckets uint64
				for _, b := range rs.buckets {
					inBuckets += b
				}
				if inBuckets != rs.requests || !slices.Equal(rs.bounds, d.boundaries) {
					t.Errorf("%s: buckets %v over bounds %v, want %d requests over %v", r, rs.buckets, rs.bounds, rs.requests, d.boundaries)
				}
			}
			p, _ := otelred.ParseProfile(tt.naming)
			o, err := objectives()
			if err != nil {
				t.Fatal(err)
			}
			want, err := o.Boundaries(views.Default(p))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.boundaries, want) || !slices.Contains(want, 0.3) || !slices.Contains(want, 0.5) {
				t.Errorf("boundaries %v, want the profile's defaults with slo.yaml's thresholds, %v, 0.3 and 0.5 among them", d.boundaries, want)
			}
		})
	}
}
