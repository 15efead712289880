package views_test

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	api "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// BenchmarkRecord records durations into otelred's server histogram with
// prebuilt options, as the middleware does, through the views of each
// mode: "explicit" (RED, the 14 default boundaries) and "exponential"
// (Exponential, 160 buckets from scale 20). The durations are spread
// log-uniformly from 100 µs to 5 s, so the exponential series has lowered
// its scale to fit them before the timer starts, as in a service that has
// run a while. Besides ns/op, the serial ones report cpu-ns/op, the CPU
// time of the recording thread (on Linux), steadier than the wall clock on
// a busy machine. "-parallel" records from every P at once into the same
// series.
func BenchmarkRecord(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	durations := make([]float64, 4096)
	for i := range durations {
		durations[i] = 1e-4 * math.Pow(5e4, rng.Float64())
	}
	modes := []struct {
		name  string
		views func() ([]metric.View, error)
	}{
		{"explicit", func() ([]metric.View, error) { return views.RED(otelred.Semconv, nil) }},
		{"exponential", func() ([]metric.View, error) {
			return views.Exponential(otelred.Semconv, views.DefaultMaxSize, views.DefaultMaxScale)
		}},
	}
	for _, mode := range modes {
		setup := func(b *testing.B) (api.Float64Histogram, []api.RecordOption) {
			vs, err := mode.views()
			if err != nil {
				b.Fatal(err)
			}
			mp := metric.NewMeterProvider(metric.WithReader(metric.NewManualReader()), metric.WithView(vs...))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			h, err := mp.Meter(otelred.ScopeName).Float64Histogram(otelred.Semconv.Names().Duration, api.WithUnit("s"))
			if err != nil {
				b.Fatal(err)
			}
			opts := []api.RecordOption{api.WithAttributeSet(attribute.NewSet(
				attribute.String("http.request.method", "GET"),
				attribute.String("http.route", "/users/{id}"),
				attribute.Int("http.response.status_code", 200)))}
			for _, d := range durations { // warm: the series exists at its final scale
				h.Record(context.Background(), d, opts...)
			}
			return h, opts
		}
		b.Run(mode.name, func(b *testing.B) {
			h, opts := setup(b)
			ctx := context.Background()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			cpu0, ok := threadCPU()
			i := 0
			for b.Loop() {
				h.Record(ctx, durations[i&4095], opts...)
				i++
			}
			if cpu1, _ := threadCPU(); ok {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
		b.Run(mode.name+"-parallel", func(b *testing.B) {
			h, opts := setup(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				i := rand.IntN(4096)
				for pb.Next() {
					h.Record(ctx, durations[i&4095], opts...)
					i++
				}
			})
		})
	}
}
