package bench

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/exporter"
)

// scrapeSeries is how many histogram series a scrape serves.
const scrapeSeries = 1000

// scrapeHandlers builds the three /metrics handlers BenchmarkScrape
// compares, over the same data:
//
//   - otelred: the exporter package's handler;
//   - upstream: the OpenTelemetry Prometheus exporter on a private registry
//     and promhttp.HandlerFor, configured to write the same exposition
//     (without otel_scope_* labels, as otelred's exporter by default);
//   - native: a client_golang HistogramVec holding the same observations.
//
// The two OpenTelemetry handlers read one MeterProvider, which holds one
// histogram with scrapeSeries attribute sets.
func scrapeHandlers(tb testing.TB) map[string]http.Handler {
	ctx := context.Background()
	exp, err := exporter.New(ctx, exporter.Config{Exporters: []string{"prometheus"}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = exp.Shutdown(ctx) })

	upReg := prometheus.NewRegistry()
	up, err := otelprom.New(otelprom.WithRegisterer(upReg), otelprom.WithoutScopeInfo())
	if err != nil {
		tb.Fatal(err)
	}
	opts := []sdkmetric.Option{sdkmetric.WithReader(up)}
	for _, r := range exp.Readers() {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	tb.Cleanup(func() { _ = mp.Shutdown(ctx) })

	hist, err := mp.Meter("bench").Float64Histogram("http.server.request.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of HTTP server requests."),
		metric.WithExplicitBucketBoundaries(buckets...))
	if err != nil {
		tb.Fatal(err)
	}
	nativeReg := prometheus.NewRegistry()
	native := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_server_request_duration_seconds", Help: "Duration of HTTP server requests.", Buckets: buckets,
	}, []string{"http_request_method", "http_response_status_code", "http_route"})
	nativeReg.MustRegister(native)

	for i := range scrapeSeries {
		r := "/r" + strconv.Itoa(i) + "/{id}"
		set := metric.WithAttributeSet(attribute.NewSet(
			attribute.String("http.request.method", http.MethodGet),
			attribute.String("http.route", r),
			attribute.Int("http.response.status_code", http.StatusOK)))
		obs := native.WithLabelValues(http.MethodGet, "200", r)
		for _, v := range []float64{0.003, 0.02, 0.2, float64(i) / scrapeSeries} {
			hist.Record(ctx, v, set)
			obs.Observe(v)
		}
	}
	return map[string]http.Handler{
		"otelred":  exp.Handler(),
		"upstream": promhttp.HandlerFor(upReg, promhttp.HandlerOpts{}),
		"native":   promhttp.HandlerFor(nativeReg, promhttp.HandlerOpts{}),
	}
}

// BenchmarkScrape is one /metrics request, in the text format, on each
// handler of scrapeHandlers. The response goes to a writer that keeps only
// its length, so buffering it costs no handler anything.
func BenchmarkScrape(b *testing.B) {
	hs := scrapeHandlers(b)
	for _, name := range []string{"otelred", "upstream", "native"} {
		b.Run(name, func(b *testing.B) {
			h := hs[name]
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			w := &discard{header: http.Header{}}
			h.ServeHTTP(w, req) // grow the heap to its steady size before timing
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, req)
			}
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
			b.ReportMetric(float64(w.n), "B/scrape")
		})
	}
}

// discard is a ResponseWriter that keeps the status and the body's length.
type discard struct {
	header http.Header
	code   int
	n      int
}

func (d *discard) Header() http.Header { return d.header }
func (d *discard) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}

func (d *discard) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	d.n += len(p)
	return len(p), nil
}

func (d *discard) reset() {
	clear(d.header)
	d.code, d.n = 0, 0
}

// TestScrapeSameData checks that BenchmarkScrape compares like with like:
// otelred's handler and the upstream one serve the same samples, and the
// native registry the same histogram series.
func TestScrapeSameData(t *testing.T) {
	hs := scrapeHandlers(t)
	scrape := func(name string) []string {
		rec := httptest.NewRecorder()
		hs[name].ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", name, rec.Code)
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes()))
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "http_server_request_duration_seconds") {
				lines = append(lines, l)
			}
		}
		slices.Sort(lines)
		return lines
	}
	own, up, native := scrape("otelred"), scrape("upstream"), scrape("native")
	if want := scrapeSeries * (len(buckets) + 3); len(own) != want {
		t.Errorf("otelred's handler serves %d duration samples, want %d", len(own), want)
	}
	if !slices.Equal(own, up) {
		t.Errorf("otelred's handler and the upstream one serve different samples")
	}
	if len(native) != len(own) {
		t.Errorf("the native registry serves %d duration samples, otelred's handler %d", len(native), len(own))
	}
}
