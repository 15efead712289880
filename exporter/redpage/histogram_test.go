package redpage

import (
	"context"
	"math"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

func TestQuantileOfExplicitBuckets(t *testing.T) {
	bounds := []float64{0.1, 0.2, 0.5}
	for _, tc := range []struct {
		name   string
		counts []uint64
		q      float64
		want   float64
	}{
		{"the first bucket starts at zero", []uint64{10, 0, 0, 0}, 0.5, 0.05},
		{"the rank is interpolated inside its bucket", []uint64{0, 10, 0, 0}, 0.25, 0.125},
		{"empty buckets below are skipped", []uint64{0, 0, 4, 0}, 0.5, 0.35},
		{"a rank at a bucket's top is its upper bound", []uint64{5, 5, 0, 0}, 0.5, 0.1},
		{"q=1 is the upper bound of the last bucket used", []uint64{5, 5, 0, 0}, 1, 0.2},
		{"a rank in the +Inf bucket is the highest finite bound", []uint64{1, 0, 0, 9}, 0.5, 0.5},
		{"no observations is NaN", []uint64{0, 0, 0, 0}, 0.5, math.NaN()},
		{"q above 1 is NaN", []uint64{1, 0, 0, 0}, 1.5, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explicitHist(bounds, tc.counts).quantile(tc.q)
			if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want) || math.Abs(got-tc.want) < 1e-12) {
				t.Errorf("quantile(%v) of %v = %v, want %v", tc.q, tc.counts, got, tc.want)
			}
		})
	}
}

func TestQuantileOfExponentialBuckets(t *testing.T) {
	// Scale 0: base 2, bucket i covers (2^i, 2^(i+1)].
	for _, tc := range []struct {
		name string
		h    hist
		q    float64
		want float64
	}{
		{"a rank at a bucket's top is its upper bound", exponentialHist(0, 0, 0, []uint64{10, 10}), 0.5, 2},
		{"the rank is interpolated inside its bucket", exponentialHist(0, 0, 0, []uint64{10, 10}), 0.75, 3},
		{"negative indexes cover fractions of a second", exponentialHist(0, 0, -4, []uint64{4}), 0.5, 0.0625 + 0.0625*0.5},
		{"a rank in the zero bucket is 0", exponentialHist(0, 6, 0, []uint64{4}), 0.5, 0},
		{"scale 1 has base sqrt 2", exponentialHist(1, 0, 2, []uint64{2}), 0.5, 2 + (math.Pow(2, 1.5)-2)*0.5},
		{"no observations is NaN", exponentialHist(3, 0, 0, nil), 0.5, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.h.quantile(tc.q)
			if !(math.IsNaN(got) && math.IsNaN(tc.want) || math.Abs(got-tc.want) < 1e-12) {
				t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestExponentialBucketsAcrossScales(t *testing.T) {
	// At scale 1, indexes 0..3 cover (1, 4]; at scale 0 they merge in
	// pairs into indexes 0 and 1.
	fine := exponentialHist(1, 1, 0, []uint64{1, 2, 3, 4})
	if got := fine.downscale(0); got.scale != 0 || got.offset != 0 || !equal(got.counts, []uint64{3, 7}) || got.zero != 1 {
		t.Errorf("downscale(0) = %+v, want offset 0, counts [3 7], zero 1", got)
	}
	// Negative indexes shift towards minus infinity: -3 >> 1 is -2.
	if got := exponentialHist(1, 0, -3, []uint64{1, 1, 1}).downscale(0); got.offset != -2 || !equal(got.counts, []uint64{1, 2}) {
		t.Errorf("downscale of -3..-1 = %+v, want offset -2, counts [1 2]", got)
	}
	// Later the SDK rescaled to 0 and observed more: the interval's
	// buckets are the difference at the coarser scale.
	later := exponentialHist(0, 3, 0, []uint64{5, 9, 1})
	d := later.sub(fine)
	if d.scale != 0 || d.zero != 2 || d.offset != 0 || !equal(d.counts, []uint64{2, 2, 1}) {
		t.Errorf("sub = %+v, want scale 0, zero 2, counts [2 2 1]", d)
	}
	var sum hist
	sum.add(fine)
	sum.add(exponentialHist(0, 0, 2, []uint64{1}))
	if sum.scale != 0 || !equal(sum.counts, []uint64{3, 7, 1}) {
		t.Errorf("add = %+v, want scale 0, counts [3 7 1]", sum)
	}
}

// TestFeedOfExponentialHistograms records through a view with the
// base-2 exponential aggregation, as a native-histogram setup does, and
// checks the counts exactly and the quantiles to the width of a bucket.
func TestFeedOfExponentialHistograms(t *testing.T) {
	names := otelred.Semconv.Names()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(sdkmetric.NewView(
		sdkmetric.Instrument{Name: names.Duration},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}},
	)))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	rec := newRecorder(t, mp, otelred.Semconv)
	clk := newClock()
	h := newTestHandler(reader, clk, otelred.Semconv)
	// Requests before the first collection are left out of the feed.
	rec.request("/a", 200, false, 0.003, 50)
	h.Feed(context.Background())
	rec.request("/a", 200, false, 0.010, 98)
	rec.request("/a", 500, true, 2.5, 2)
	clk.advance(2 * time.Second)

	a := feedOf(t, h).section(t, "HTTP server").row(t, "/a")
	near(t, "rate", a.Rate, 50)
	near(t, "error ratio", a.ErrorRatio, 0.02)
	// The range 3 ms to 2.5 s fits 160 buckets at scale 4: buckets are
	// 2^(1/16) wide, about 4.4%.
	within(t, "p50", a.P50, 10, 0.05)
	within(t, "p99", a.P99, 2500, 0.05)
}

func within(t *testing.T, what string, got *float64, want, rel float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > rel*want {
		t.Errorf("%s = %v, want %v within %.0f%%", what, deref(got), want, 100*rel)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
