package main

// End to end with native histograms: the demo run with -histogram native,
// scraped by a real Prometheus: 2.42 with --enable-feature=native-histograms,
// 3.16 with scrape_native_histograms: true in its configuration (on 3.x the
// flag does nothing, and 2.42 rejects the setting).

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/internal/redgen"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// nativeFlag is the Prometheus 2 flag that scrapes protobuf and stores
// native histograms. Prometheus 3 ignores it.
const nativeFlag = "--enable-feature=native-histograms"

// nativeSetting is the Prometheus 3 global setting that scrapes native
// histograms. Prometheus 2 rejects it.
const nativeSetting = "  scrape_native_histograms: true\n"

// nativeInstance is one demo in native mode with the traffic it gets.
type nativeInstance struct {
	d       *demo
	traffic []sent
}

// slowTimer is a RoundTripper that keeps, by host, the longest time a
// /slow request took to get its response headers: more than the server
// recorded for it, since /slow sleeps before it answers.
type slowTimer struct {
	base    http.RoundTripper
	mu      sync.Mutex
	slowest map[string]time.Duration
}

func (st *slowTimer) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := st.base.RoundTrip(r)
	if r.URL.Path == "/slow" {
		took := time.Since(start)
		st.mu.Lock()
		st.slowest[r.URL.Host] = max(st.slowest[r.URL.Host], took)
		st.mu.Unlock()
	}
	return resp, err
}

// histogramName is the duration histogram's Prometheus name in profile pq.
func (pq profileQueries) histogramName() string { return strings.TrimSuffix(pq.bucket, "_bucket") }

// nativeStats reads a native demo's ManualReader: the server duration
// histogram's buckets by route (all routes merged under ""), and the sum
// of every duration it holds.
func nativeStats(t *testing.T, d *demo) (map[string]*expHist, float64) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := d.manual.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	names := d.profile.Names()
	byRoute := map[string]*expHist{"": newExpHist()}
	var sum float64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sm.Scope.Name != otelred.ScopeName || m.Name != names.Duration {
				continue
			}
			e, ok := m.Data.(metricdata.ExponentialHistogram[float64])
			if !ok {
				t.Fatalf("%s is %T, want an exponential histogram", m.Name, m.Data)
			}
			for _, dp := range e.DataPoints {
				v, ok := dp.Attributes.Value(names.Route)
				if ok { // a request that matched no route has none in Semconv
					if byRoute[v.AsString()] == nil {
						byRoute[v.AsString()] = newExpHist()
					}
					byRoute[v.AsString()].addPoint(dp)
				}
				byRoute[""].addPoint(dp)
				sum += dp.Sum
			}
		}
	}
	return byRoute, sum
}

// fraction is histogram_fraction(0, upper, h) on the buckets of explicit:
// the share of observations at or below upper, interpolated inside the
// bucket that holds upper. Prometheus 2 interpolates linearly; Prometheus 3
// (logScale) on a logarithmic scale, where the exponential buckets are of
// equal width, except in the zero bucket.
func fraction(upper float64, bounds []float64, buckets []uint64, logScale bool) float64 {
	var total, below float64
	for _, c := range buckets {
		total += float64(c)
	}
	lo := 0.0
	for i, hi := range bounds {
		c := float64(buckets[i])
		switch {
		case hi <= upper:
			below += c
		case lo < upper && logScale && lo > 0:
			below += c * (math.Log2(upper) - math.Log2(lo)) / (math.Log2(hi) - math.Log2(lo))
		case lo < upper:
			below += c * (upper - lo) / (hi - lo)
		}
		lo = hi
	}
	return below / total
}

// nativeQuantile is histogram_quantile(q, h) on the buckets of explicit:
// the demo's own quantile, which interpolates linearly inside a bucket as
// Prometheus 2 does, or, for Prometheus 3 (logScale), on a logarithmic
// scale inside a bucket above the zero bucket.
func nativeQuantile(q float64, bounds []float64, buckets []uint64, logScale bool) float64 {
	v := quantile(q, bounds, buckets)
	if !logScale {
		return v
	}
	i, _ := slices.BinarySearch(bounds, v) // the bucket (bounds[i-1], bounds[i]] holds v
	if i == 0 || i == len(bounds) {
		return v
	}
	lo, hi := bounds[i-1], bounds[i]
	if lo <= 0 {
		return v
	}
	return math.Exp2(math.Log2(lo) + (math.Log2(hi)-math.Log2(lo))*(v-lo)/(hi-lo))
}

// TestE2ENativeHistograms runs two semconv instances and one classic
// instance of the demo with -histogram native, sends them a known load,
// and queries a real Prometheus that scrapes them with native histograms
// on: histogram_count gives the exact requests by route and status,
// histogram_sum the demo's own sum of durations, histogram_quantile a p99
// of /slow in the native bucket of its slowest request, and
// histogram_fraction a latency SLI equal to the one the demo's own buckets
// give, within a bucket's share of the truth. No classic series are
// stored. It runs once against each Prometheus version, 2.42 and 3.16.
func TestE2ENativeHistograms(t *testing.T) {
	for _, v := range testsupport.Prometheuses() {
		t.Run(v.Name, func(t *testing.T) { e2eNativeHistograms(t, v) })
	}
}

func e2eNativeHistograms(t *testing.T, v testsupport.Prometheus) {
	bin := v.Tool(t, "prometheus")
	logScale := v.Major >= 3 // how histogram_quantile and _fraction interpolate
	start := time.Now()
	t.Cleanup(func() { t.Logf("native end-to-end test took %v", time.Since(start).Round(time.Millisecond)) })

	profiles := map[string]profileQueries{}
	for _, pq := range e2eProfiles {
		profiles[pq.naming] = pq
	}
	instances := map[string][]*nativeInstance{
		"semconv": {{traffic: trafficA}, {traffic: trafficB}},
		"classic": {{traffic: trafficA}},
	}
	// The committed native rules, generated by redgen -native for semconv.
	rules, err := filepath.Abs(filepath.Join("prometheus", "rules-native.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	var flags []string
	if v.Major >= 3 {
		cfg.WriteString(nativeSetting)
	} else {
		flags = append(flags, nativeFlag)
	}
	fmt.Fprintf(&cfg, "rule_files:\n  - %q\nscrape_configs:\n", rules)
	targets := 0
	for naming, ins := range instances {
		fmt.Fprintf(&cfg, "  - job_name: %s\n    static_configs:\n      - targets:\n", naming)
		for _, in := range ins {
			in.d = startDemo(t, options{naming: naming, histogram: "native", stats: true, config: exporterConfig(e2eService)})
			if !in.d.native {
				t.Fatalf("%s demo not in native mode", naming)
			}
			fmt.Fprintf(&cfg, "          - %q\n", in.d.ln.Addr().String())
			targets++
		}
	}
	prom := startPrometheus(t, bin, cfg.String(), flags...)

	c := newClient(t)
	timer := &slowTimer{base: c.Transport, slowest: map[string]time.Duration{}}
	c.Transport = timer
	for range waves {
		var wg sync.WaitGroup
		for _, ins := range instances {
			for _, in := range ins {
				wg.Go(func() { drive(t, c, in.d.url(), in.traffic, &traceIDs{}) })
			}
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		prom.waitScrapedAfter(t, time.Now(), targets)
	}

	for naming, ins := range instances {
		pq := profiles[naming]
		t.Run(naming, func(t *testing.T) {
			job := `job="` + naming + `"`
			hist := pq.histogramName()
			sel := hist + "{" + job + "}"

			// What was sent, and what the demos themselves recorded.
			want := map[string]float64{}
			var total, slow float64
			merged := map[string]*expHist{"": newExpHist(), "/slow": newExpHist()}
			var sum float64
			var slowest time.Duration
			for _, in := range ins {
				for _, sn := range in.traffic {
					for _, s := range sn.recorded() {
						n := float64(waves * s.n)
						want[pq.routeOf(s.route)+" "+strconv.Itoa(s.status)] += n
						total += n
						if s.route == "/slow" && s.status == 200 {
							slow += n
						}
					}
				}
				byRoute, s := nativeStats(t, in.d)
				merged[""].merge(byRoute[""])
				merged["/slow"].merge(byRoute["/slow"])
				sum += s
				slowest = max(slowest, timer.slowest[in.d.ln.Addr().String()])
			}

			// histogram_count: exact, by route and status, and in all.
			got := map[string]float64{}
			for _, s := range prom.query(t, fmt.Sprintf("sum by (%s, %s) (histogram_count(%s))", pq.route, pq.status, sel)) {
				got[s.Metric[pq.route]+" "+s.Metric[pq.status]] = s.Value
			}
			if !maps.Equal(got, want) {
				t.Errorf("histogram_count by route and status:\n got %v\nwant %v", got, want)
			}
			if n := prom.scalar(t, fmt.Sprintf("histogram_count(sum(%s))", sel)); n != total {
				t.Errorf("histogram_count(sum(...)) = %v, want %v", n, total)
			}

			// histogram_sum: the demos' own sum of durations, and at least
			// the /slow requests' sleep.
			gotSum := prom.scalar(t, fmt.Sprintf("histogram_sum(sum(%s))", sel))
			if math.Abs(gotSum-sum) > 1e-9*sum || gotSum < slow*slowMS/1000 {
				t.Errorf("histogram_sum(sum(...)) = %v, want the demos' %v, at least %v s of /slow", gotSum, sum, slow*slowMS/1000)
			}

			// histogram_quantile: p99 of /slow, in the bucket of the
			// slowest /slow request, and what the demos' buckets give.
			slowHist := merged["/slow"]
			width := math.Exp2(math.Exp2(-float64(slowHist.scale)))
			p99 := prom.scalar(t, fmt.Sprintf(`histogram_quantile(0.99, sum(%s{%s, %s="/slow"}))`, hist, job, pq.route))
			if !(p99 > slowMS/1000.0 && p99 <= slowest.Seconds()*width) {
				t.Errorf("p99 of /slow = %v, want in (%v, %v]: above the sleep, within a bucket (factor %v, scale %d) of the slowest request, %v",
					p99, slowMS/1000.0, slowest.Seconds()*width, width, slowHist.scale, slowest)
			}
			bounds, buckets := slowHist.explicit()
			if mine := nativeQuantile(0.99, bounds, buckets, logScale); math.Abs(mine-p99) > 1e-9 {
				t.Errorf("p99 of /slow: Prometheus %v, the demos' buckets %v", p99, mine)
			}

			// histogram_fraction: the latency SLI, requests within 300 ms.
			// Every request but /slow's 200s is far below it, every /slow
			// 200 above; only the bucket that holds 300 ms is
			// interpolated, so the SLI is off the truth by at most that
			// bucket's share.
			const threshold = 0.3
			sli := prom.scalar(t, fmt.Sprintf("histogram_fraction(0, %v, sum(%s))", threshold, sel))
			bounds, buckets = merged[""].explicit()
			if mine := fraction(threshold, bounds, buckets, logScale); math.Abs(mine-sli) > 1e-9 {
				t.Errorf("histogram_fraction(0, %v): Prometheus %v, the demos' buckets %v", threshold, sli, mine)
			}
			var straddle float64
			for i, hi := range bounds {
				if lo := bounds[max(i-1, 0)]; i > 0 && lo < threshold && hi > threshold {
					straddle = float64(buckets[i])
				}
			}
			truth := (total - slow) / total
			if math.Abs(sli-truth) > straddle/total+1e-12 {
				t.Errorf("SLI %v, want %v within the share %v of the bucket that holds %v s", sli, truth, straddle/total, threshold)
			}
			t.Logf("SLI %v (truth %v, %v of %v requests in the bucket that holds %v s); p99 of /slow %v (scale %d)", sli, truth, straddle, total, threshold, p99, slowHist.scale)

			// Native only: no classic bucket, count or sum series.
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if res := prom.query(t, hist+suffix+"{"+job+"}"); len(res) != 0 {
					t.Errorf("%s%s has %d classic series, want none", hist, suffix, len(res))
				}
			}
		})
	}

	t.Run("rules", func(t *testing.T) { prom.waitRulesHealthy(t, rules) })

	// Every expression of the native rules and dashboard runs, and every
	// panel but the gRPC ones (the demo has no gRPC server) shows data
	// once the rules have run over the traffic.
	t.Run("dashboard and rule queries", func(t *testing.T) {
		o, err := objectives()
		if err != nil {
			t.Fatal(err)
		}
		checkQueries(t, prom, redgen.Config{Objectives: o, Native: true}, redgen.Vars{Service: "semconv"}, redgen.Vars{Service: "semconv", Route: "/slow"}, redgen.Vars{})
	})

	// The recorded SLI of the global latency objective is what
	// histogram_fraction gives over the raw series, after the traffic:
	// the rule computes what the test above checked.
	t.Run("recorded latency SLI", func(t *testing.T) {
		direct := `1 - histogram_fraction(0, 0.3, sum by (job) (rate(http_server_request_duration_seconds{job="semconv", http_route!="", http_route!="/slow"}[5m])))`
		err := prom.poll(30*time.Second, func() (bool, string) {
			rec, err := prom.instant(`otelred:sli_latency:ratio_rate5m{job="semconv", http_route=""}`)
			if err != nil || len(rec) != 1 {
				return false, fmt.Sprintf("recorded %v %v", rec, err)
			}
			want, err := prom.instant(direct)
			if err != nil || len(want) != 1 {
				return false, fmt.Sprintf("direct %v %v", want, err)
			}
			return math.Abs(rec[0].Value-want[0].Value) < 1e-9, fmt.Sprintf("recorded %v, direct %v", rec[0].Value, want[0].Value)
		})
		if err != nil {
			t.Error(err)
		}
	})
}
