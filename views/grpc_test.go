package views_test

import (
	"context"
	"slices"
	"testing"

	api "go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
	"github.com/otelred/otelred/views"
)

// otelgrpcScope stands for another library's scope with a same-named
// histogram (contrib's otelgrpc, which is not a dependency here).
const otelgrpcScope = "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"

func TestREDSetsTheGRPCBuckets(t *testing.T) {
	for _, tc := range []struct {
		name       string
		profile    otelred.Profile
		boundaries []float64
		want       []float64
	}{
		{"semconv with nil boundaries uses its defaults", otelred.Semconv, nil, views.Default(otelred.Semconv)},
		{"classic with nil boundaries uses its defaults", otelred.Classic, nil, views.Default(otelred.Classic)},
		{"custom boundaries override the advice", otelred.Semconv, []float64{0.1, 0.3, 1}, []float64{0.1, 0.3, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := views.RED(tc.profile, tc.boundaries)
			if err != nil {
				t.Fatal(err)
			}
			mp, r := newProvider(t, vs...)
			s, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
			if err != nil {
				t.Fatal(err)
			}
			s.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/shop.Orders/Get"},
				func(context.Context, any) (any, error) { return nil, nil })
			// A same-named histogram in another scope keeps its advice.
			advice := []float64{0.5, 5}
			other, err := mp.Meter(otelgrpcScope).Float64Histogram(otelredgrpc.DurationName,
				api.WithUnit("s"), api.WithExplicitBucketBoundaries(advice...))
			if err != nil {
				t.Fatal(err)
			}
			other.Record(context.Background(), 0.2)

			got := collect(t, r)
			dps := floatHistogram(t, got, stream{otelredgrpc.ScopeName, otelredgrpc.DurationName})
			if !slices.Equal(dps[0].Bounds, tc.want) || dps[0].Count != 1 {
				t.Errorf("otelredgrpc's histogram: bounds %v, count %d; want %v and 1", dps[0].Bounds, dps[0].Count, tc.want)
			}
			if b := bounds(t, got, stream{otelgrpcScope, otelredgrpc.DurationName}); !slices.Equal(b, advice) {
				t.Errorf("the other scope's histogram: bounds %v, want its own advice %v", b, advice)
			}
		})
	}
}
