package main

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// point is an SDK exponential data point with positive buckets only.
func point(scale int32, zero uint64, offset int32, counts ...uint64) metricdata.ExponentialHistogramDataPoint[float64] {
	return metricdata.ExponentialHistogramDataPoint[float64]{
		Scale:          scale,
		ZeroCount:      zero,
		PositiveBucket: metricdata.ExponentialBucket{Offset: offset, Counts: counts},
	}
}

func TestExpHist(t *testing.T) {
	r2 := math.Sqrt2
	for _, tc := range []struct {
		name    string
		points  []metricdata.ExponentialHistogramDataPoint[float64]
		prev    []metricdata.ExponentialHistogramDataPoint[float64]
		bounds  []float64
		buckets []uint64
	}{
		{
			name:    "buckets from the lowest to the highest, empty ones included",
			points:  []metricdata.ExponentialHistogramDataPoint[float64]{point(1, 0, 0, 2, 0, 1)},
			bounds:  []float64{1, r2, 2, 2 * r2},
			buckets: []uint64{0, 2, 0, 1, 0},
		},
		{
			name:    "two points at different scales merge at the coarser one",
			points:  []metricdata.ExponentialHistogramDataPoint[float64]{point(2, 0, 0, 1, 1, 1, 1), point(1, 0, 1, 3)},
			bounds:  []float64{1, r2, 2},
			buckets: []uint64{0, 2, 5, 0},
		},
		{
			name:    "a scale above 8 is lowered to 8, as the Prometheus exporter does",
			points:  []metricdata.ExponentialHistogramDataPoint[float64]{point(10, 0, 8, 1, 1, 1, 1)},
			bounds:  []float64{math.Exp2(2.0 / 256), math.Exp2(3.0 / 256)},
			buckets: []uint64{0, 4, 0},
		},
		{
			name:    "negative indexes and scales, with zeros below",
			points:  []metricdata.ExponentialHistogramDataPoint[float64]{point(-1, 3, -2, 1)},
			bounds:  []float64{1.0 / 16, 0.25},
			buckets: []uint64{3, 1, 0},
		},
		{
			name:    "minus the previous collection",
			points:  []metricdata.ExponentialHistogramDataPoint[float64]{point(1, 0, 0, 2, 0, 4)},
			prev:    []metricdata.ExponentialHistogramDataPoint[float64]{point(2, 0, 0, 2)},
			bounds:  []float64{2, 2 * r2},
			buckets: []uint64{0, 4, 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newExpHist()
			for _, p := range tc.points {
				h.addPoint(p)
			}
			if tc.prev != nil {
				prev := newExpHist()
				for _, p := range tc.prev {
					prev.addPoint(p)
				}
				h = h.minus(prev)
			}
			bounds, buckets := h.explicit()
			if len(bounds) != len(tc.bounds) || !slices.Equal(buckets, tc.buckets) {
				t.Fatalf("explicit() = %v, %v; want %v, %v", bounds, buckets, tc.bounds, tc.buckets)
			}
			for i := range bounds {
				if math.Abs(bounds[i]-tc.bounds[i]) > 1e-12 {
					t.Errorf("explicit() bounds = %v, want %v", bounds, tc.bounds)
				}
			}
		})
	}
}

// TestSnapshotReadsNativeHistograms reads the instruments of the demo run
// with -histogram native, as -load does: the same counts as with explicit
// buckets, and a p99 of /slow inside the native bucket that holds it.
func TestSnapshotReadsNativeHistograms(t *testing.T) {
	d := startDemo(t, options{histogram: "native", stats: true})
	if !d.native || d.boundaries != nil {
		t.Fatalf("native %v, boundaries %v; want native and none", d.native, d.boundaries)
	}
	c := newClient(t)
	var slowest time.Duration // of /slow, as the client saw it: more than the server
	for path, n := range map[string]int{"/fail": 3, "/hello/ada": 4, "/slow?ms=120": 2} {
		for range n {
			start := time.Now()
			get(t, c, d.url()+path)
			if path == "/slow?ms=120" {
				slowest = max(slowest, time.Since(start))
			}
		}
	}
	s, err := d.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]uint64{"/fail": {3, 3}, "/hello/{name}": {4, 0}, "/slow": {2, 0}}
	for r, rs := range s.routes {
		var inBuckets uint64
		for _, b := range rs.buckets {
			inBuckets += b
		}
		if w := want[r]; rs.requests != w[0] || rs.errors != w[1] || inBuckets != w[0] || rs.exp == nil {
			t.Errorf("%s: %d requests, %d errors, %d in buckets (native %v); want %d, %d, %d", r, rs.requests, rs.errors, inBuckets, rs.exp != nil, w[0], w[1], w[0])
		}
	}
	// The p99 is in the bucket of the slowest request: above 120 ms, and
	// at most one bucket's width above what the client measured.
	slow := s.routes["/slow"]
	width := math.Exp2(math.Exp2(-float64(slow.exp.scale)))
	if p99 := quantile(0.99, slow.bounds, slow.buckets); !(p99 > 0.12 && p99 <= slowest.Seconds()*width) {
		t.Errorf("p99 of /slow = %v, want in (0.12, %v] (the slowest as the client saw it, %v, times the bucket width %v at scale %d)",
			p99, slowest.Seconds()*width, slowest, width, slow.exp.scale)
	}
	// The interval since an earlier snapshot holds only the later requests.
	get(t, c, d.url()+"/slow?ms=1")
	later, err := d.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rs := later.since(s).routes["/slow"]
	var inBuckets uint64
	for _, b := range rs.buckets {
		inBuckets += b
	}
	if rs.requests != 1 || inBuckets != 1 {
		t.Errorf("since: /slow %d requests, %d in buckets %v; want 1 and 1", rs.requests, inBuckets, rs.buckets)
	}
}
