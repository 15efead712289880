package otelred_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// BenchmarkMiddleware serves GET /users/{id} through a ServeMux, bare and
// with each profile, on an SDK provider with a ManualReader. Compare the
// sub-benchmarks of one run; "floor" is the SDK's own cost: two clock
// readings and one histogram record with prebuilt options.
func BenchmarkMiddleware(b *testing.B) {
	for _, status := range []int{200, 500} {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
		name := "status=" + http.StatusText(status)
		b.Run(name+"/bare", func(b *testing.B) { benchServe(b, mux) })
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			b.Run(name+"/"+p.String(), func(b *testing.B) {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(p))
				if err != nil {
					b.Fatal(err)
				}
				benchServe(b, mw(mux))
			})
		}
		b.Run(name+"/floor", func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			hist, _ := mp.Meter("floor").Float64Histogram("d", metric.WithUnit("s"))
			opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String("http.request.method", "GET"),
				attribute.String("http.route", "/users/{id}"),
				attribute.Int("http.response.status_code", status)))}
			benchServe(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				mux.ServeHTTP(w, r)
				hist.Record(r.Context(), time.Since(start).Seconds(), opts...)
			}))
		})
	}
}

func benchServe(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/users/42", nil)
	b.ReportAllocs()
	for b.Loop() {
		req.Pattern = ""
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
