package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// routeStats is what the RED instruments hold for one route: requests,
// failed requests, and the duration histogram's buckets.
type routeStats struct {
	requests uint64
	errors   uint64
	bounds   []float64 // upper bounds, in seconds; +Inf is implicit
	buckets  []uint64  // per bucket (not cumulative), len(bounds)+1
	// exp holds the buckets of a native (exponential) histogram, which
	// bounds and buckets then show; nil for explicit buckets.
	exp *expHist
}

// snapshot is the state of the RED instruments at one collection, by route.
// Counts are cumulative since the start, as the reader keeps them.
type snapshot struct {
	at     time.Time
	routes map[string]*routeStats
}

// readSnapshot extracts the RED instruments of profile names from one
// collection of a reader. Requests and latency come from the duration
// histogram; failures from the error.type attribute on it (Semconv) or from
// the errors counter (Classic).
func readSnapshot(rm *metricdata.ResourceMetrics, names otelred.Names, at time.Time) snapshot {
	s := snapshot{at: at, routes: map[string]*routeStats{}}
	// Requests that matched no route have no route in Semconv: the line
	// shows them as Classic names them.
	route := func(set *attribute.Set) string {
		v, ok := set.Value(names.Route)
		if !ok {
			return otelred.Unmatched
		}
		return v.String()
	}
	get := func(r string) *routeStats {
		rs, ok := s.routes[r]
		if !ok {
			rs = &routeStats{}
			s.routes[r] = rs
		}
		return rs
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelred.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			switch {
			case m.Name == names.Duration:
				if e, ok := m.Data.(metricdata.ExponentialHistogram[float64]); ok {
					for _, dp := range e.DataPoints {
						rs := get(route(&dp.Attributes))
						rs.addExp(func(h *expHist) { h.addPoint(dp) })
						rs.requests += dp.Count
						if names.ErrorType != "" && dp.Attributes.HasValue(names.ErrorType) {
							rs.errors += dp.Count
						}
					}
					continue
				}
				h, ok := m.Data.(metricdata.Histogram[float64])
				if !ok {
					continue
				}
				for _, dp := range h.DataPoints {
					rs := get(route(&dp.Attributes))
					rs.add(dp.Bounds, dp.BucketCounts)
					rs.requests += dp.Count
					if names.ErrorType != "" && dp.Attributes.HasValue(names.ErrorType) {
						rs.errors += dp.Count
					}
				}
			case names.Errors != "" && m.Name == names.Errors:
				sum, ok := m.Data.(metricdata.Sum[int64])
				if !ok {
					continue
				}
				for _, dp := range sum.DataPoints {
					get(route(&dp.Attributes)).errors += uint64(max(dp.Value, 0))
				}
			}
		}
	}
	for _, rs := range s.routes {
		rs.addExp(nil)
	}
	return s
}

// addExp changes the native histogram with fn (nil for none), and shows
// it in bounds and buckets; it does nothing to explicit buckets.
func (rs *routeStats) addExp(fn func(*expHist)) {
	if fn != nil {
		if rs.exp == nil {
			rs.exp = newExpHist()
		}
		fn(rs.exp)
	}
	if rs.exp != nil {
		rs.bounds, rs.buckets = rs.exp.explicit()
	}
}

// add adds a data point's buckets; points with other bounds than the first
// one's are left out of the buckets (a view changed mid-run, which does not
// happen in the demo).
func (rs *routeStats) add(bounds []float64, counts []uint64) {
	if rs.buckets == nil {
		rs.bounds = slices.Clone(bounds)
		rs.buckets = make([]uint64, len(bounds)+1)
	}
	if !slices.Equal(rs.bounds, bounds) || len(counts) != len(rs.buckets) {
		return
	}
	for i, c := range counts {
		rs.buckets[i] += c
	}
}

// since returns what happened between prev and s: counts are subtracted,
// so a route's numbers cover the interval only.
func (s snapshot) since(prev snapshot) snapshot {
	d := snapshot{at: s.at, routes: make(map[string]*routeStats, len(s.routes))}
	for r, cur := range s.routes {
		rs := &routeStats{
			requests: cur.requests,
			errors:   cur.errors,
			bounds:   cur.bounds,
			buckets:  slices.Clone(cur.buckets),
		}
		if p, ok := prev.routes[r]; ok {
			rs.requests -= min(p.requests, rs.requests)
			rs.errors -= min(p.errors, rs.errors)
			if cur.exp == nil && slices.Equal(p.bounds, rs.bounds) && len(p.buckets) == len(rs.buckets) {
				for i := range rs.buckets {
					rs.buckets[i] -= min(p.buckets[i], rs.buckets[i])
				}
			}
		}
		if cur.exp != nil { // native: subtracted bucket by bucket, at the coarser scale
			var p *expHist
			if pr, ok := prev.routes[r]; ok {
				p = pr.exp
			}
			rs.exp = cur.exp.minus(p)
			rs.addExp(nil)
		}
		d.routes[r] = rs
	}
	return d
}

// total merges every route into one.
func (s snapshot) total() *routeStats {
	t := &routeStats{}
	for _, r := range s.sortedRoutes() {
		rs := s.routes[r]
		t.requests += rs.requests
		t.errors += rs.errors
		if rs.exp != nil {
			t.addExp(func(h *expHist) { h.merge(rs.exp) })
		} else if rs.buckets != nil {
			t.add(rs.bounds, rs.buckets)
		}
	}
	return t
}

func (s snapshot) sortedRoutes() []string {
	rs := make([]string, 0, len(s.routes))
	for r := range s.routes {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	return rs
}

// quantile estimates the q-quantile (0 <= q <= 1) of a histogram as
// Prometheus's histogram_quantile does: it finds the bucket that holds the
// rank q*count and interpolates linearly inside it, the first bucket
// starting at 0. A rank in the +Inf bucket gives the highest finite bound.
// With no observations it is NaN.
func quantile(q float64, bounds []float64, buckets []uint64) float64 {
	if len(bounds) == 0 || len(buckets) != len(bounds)+1 || q < 0 || q > 1 {
		return math.NaN()
	}
	cum := make([]float64, len(buckets))
	var n float64
	for i, c := range buckets {
		n += float64(c)
		cum[i] = n
	}
	if n == 0 {
		return math.NaN()
	}
	rank := q * n
	b, _ := slices.BinarySearchFunc(cum[:len(bounds)], rank, func(c, r float64) int {
		if c >= r {
			return 1
		}
		return -1
	})
	if b == len(bounds) {
		return bounds[len(bounds)-1]
	}
	if b == 0 && bounds[0] <= 0 {
		return bounds[0]
	}
	start, end, count := 0.0, bounds[b], cum[b]
	if b > 0 {
		start = bounds[b-1]
		count -= cum[b-1]
		rank -= cum[b-1]
	}
	return start + (end-start)*(rank/count)
}

// formatLine is the live line of -load: the request rate, error ratio, p50
// and p99 of all requests, then of each route, over the interval that d
// covers (d is a snapshot.since result, and interval its length).
//
//	all 52.0/s err 25.0% p50 3.3ms p99 480.0ms | /fail 13.0/s err 100.0% p50 …
func formatLine(d snapshot, interval time.Duration) string {
	var b strings.Builder
	segment := func(name string, rs *routeStats) {
		fmt.Fprintf(&b, "%s %s err %s p50 %s p99 %s", name,
			formatRate(rs.requests, interval), formatRatio(rs.errors, rs.requests),
			formatSeconds(quantile(0.5, rs.bounds, rs.buckets)),
			formatSeconds(quantile(0.99, rs.bounds, rs.buckets)))
	}
	segment("all", d.total())
	for _, r := range d.sortedRoutes() {
		b.WriteString(" | ")
		segment(r, d.routes[r])
	}
	return b.String()
}

func formatRate(n uint64, interval time.Duration) string {
	if interval <= 0 {
		return "-/s"
	}
	return fmt.Sprintf("%.1f/s", float64(n)/interval.Seconds())
}

func formatRatio(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func formatSeconds(s float64) string {
	switch {
	case math.IsNaN(s):
		return "-"
	case s < 1:
		return fmt.Sprintf("%.1fms", s*1000)
	default:
		return fmt.Sprintf("%.2fs", s)
	}
}
