package bench

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/otelred/otelred/otelred"
)

// heapSeries is how many distinct series BenchmarkSeriesHeap creates.
const heapSeries = otelred.DefaultCardinalityLimit

// BenchmarkSeriesHeap reports the heap that one distinct series costs:
// each iteration builds a middleware, serves heapSeries requests with
// distinct routes, and divides the growth of the live heap by heapSeries.
//
//   - otelred, otelred-classic: otelred's own cache (attribute sets, prebuilt
//     options, counters; Classic adds an in-flight gauge per route), on a
//     no-op MeterProvider, so nothing else is counted;
//   - otelred+sdk: the same with an SDK MeterProvider, whose aggregation
//     (a histogram with its buckets, per series) is most of the total.
func BenchmarkSeriesHeap(b *testing.B) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		sdk     bool
	}{
		{"otelred", otelred.Semconv, false},
		{"otelred-classic", otelred.Classic, false},
		{"otelred+sdk", otelred.Semconv, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			reqs := make([]*http.Request, heapSeries)
			for i := range reqs {
				reqs[i] = httptest.NewRequest(http.MethodGet, "/r"+strconv.Itoa(i)+"/{id}", nil)
			}
			var perSeries float64
			for b.Loop() {
				perSeries += heapPerSeries(b, tc.profile, tc.sdk, reqs)
			}
			b.ReportMetric(perSeries/float64(b.N), "B/series")
		})
	}
}

func heapPerSeries(b *testing.B, p otelred.Profile, sdk bool, reqs []*http.Request) float64 {
	var mp metric.MeterProvider = metricnoop.NewMeterProvider()
	if sdk {
		mp = newProvider(b)
	}
	// The route is the request's path here, so that each request makes a
	// series of its own; a real service names routes with templates.
	mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(p),
		otelred.WithService("bench"), otelred.WithRoute(func(r *http.Request) string { return r.URL.Path }))
	if err != nil {
		b.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := &discard{header: http.Header{}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, r := range reqs {
		h.ServeHTTP(w, r)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(h)
	runtime.KeepAlive(mp)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(reqs))
}
