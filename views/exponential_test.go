package views_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
	"github.com/otelred/otelred/views"
)

// exponentialHistogram returns the data points of the float64 exponential
// histogram k.
func exponentialHistogram(t *testing.T, got map[stream]metricdata.Metrics, k stream) []metricdata.ExponentialHistogramDataPoint[float64] {
	t.Helper()
	m, ok := got[k]
	if !ok {
		t.Fatalf("no metric %q in scope %q", k.name, k.scope)
	}
	h, ok := m.Data.(metricdata.ExponentialHistogram[float64])
	if !ok {
		t.Fatalf("metric %q in scope %q is %T, want a float64 exponential histogram", k.name, k.scope, m.Data)
	}
	return h.DataPoints
}

// TestExponentialCoversEveryDurationHistogram records through every one of
// otelred's recorders (server, client, operation, gRPC) on a provider with
// the Exponential views: each duration histogram is exponential, with
// exactly the requests sent, at most at the maximum scale; otelhttp's
// same-named histogram is dropped, as RED drops it.
func TestExponentialCoversEveryDurationHistogram(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			vs, err := views.Exponential(p, views.DefaultMaxSize, 8)
			if err != nil {
				t.Fatal(err)
			}
			mp, r := newProvider(t, vs...)
			opts := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop")}

			mw, err := otelred.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
			srv := httptest.NewServer(mw(mux))
			t.Cleanup(srv.Close)
			tr, err := otelred.NewTransport(http.DefaultTransport, opts...)
			if err != nil {
				t.Fatal(err)
			}
			c := &http.Client{Transport: tr}
			for range 3 {
				resp, err := c.Get(srv.URL + "/users/1")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			ops, err := otelred.NewOperations(opts...)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				_ = ops.Track(context.Background(), "orders.process", func(context.Context) error { return nil })
			}
			g, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
			if err != nil {
				t.Fatal(err)
			}
			g.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/shop.Orders/Get"},
				func(context.Context, any) (any, error) { return nil, nil })
			otelhttpLikeHistogram(t, mp).Record(context.Background(), 0.2)

			got := collect(t, r)
			for _, tc := range []struct {
				k    stream
				want uint64
			}{
				{stream{otelred.ScopeName, p.Names().Duration}, 3},
				{stream{otelred.ScopeName, p.ClientNames().Duration}, 3},
				{stream{otelred.ScopeName, p.OperationNames().Duration}, 2},
				{stream{otelredgrpc.ScopeName, otelredgrpc.DurationName}, 1},
			} {
				dps := exponentialHistogram(t, got, tc.k)
				if len(dps) != 1 {
					t.Errorf("%s: %d data points, want 1", tc.k.name, len(dps))
					continue
				}
				dp := dps[0]
				var inBuckets uint64
				for _, n := range dp.PositiveBucket.Counts {
					inBuckets += n
				}
				if dp.Count != tc.want || inBuckets+dp.ZeroCount != tc.want {
					t.Errorf("%s: count %d, %d in buckets and %d at zero; want %d", tc.k.name, dp.Count, inBuckets, dp.ZeroCount, tc.want)
				}
				if dp.Scale > 8 || len(dp.PositiveBucket.Counts) > views.DefaultMaxSize {
					t.Errorf("%s: scale %d and %d buckets, want at most the maximum scale 8 and %d buckets", tc.k.name, dp.Scale, len(dp.PositiveBucket.Counts), views.DefaultMaxSize)
				}
			}
			if m, ok := got[stream{otelhttp.ScopeName, "http.server.request.duration"}]; ok {
				t.Errorf("otelhttp's histogram is exported (%T), want it dropped as RED drops it", m.Data)
			}
		})
	}
}

// TestExponentialScaleDownKeepsTheSize records durations from 1 µs to 10 s:
// the series lowers its scale until its buckets fit maxSize, and every
// observation stays in the bucket that holds it.
func TestExponentialScaleDownKeepsTheSize(t *testing.T) {
	vs := must(views.Exponential(otelred.Semconv, 20, views.DefaultMaxScale))
	mp, r := newProvider(t, vs...)
	h := durationHistogram(t, mp, otelred.Semconv)
	values := []float64{1e-6, 1e-3, 0.3, 10}
	for _, v := range values {
		h.Record(context.Background(), v)
	}
	dp := exponentialHistogram(t, collect(t, r), stream{otelred.ScopeName, otelred.Semconv.Names().Duration})[0]
	if len(dp.PositiveBucket.Counts) > 20 {
		t.Errorf("%d buckets, want at most maxSize 20", len(dp.PositiveBucket.Counts))
	}
	// 1 µs to 10 s spans 2^23.3: 20 buckets need a bucket of at least
	// 2^(23.3/20) = 2^1.17, so scale -1 (factor 4).
	if dp.Scale != -1 {
		t.Errorf("scale %d, want -1", dp.Scale)
	}
	base := math.Exp2(math.Exp2(-float64(dp.Scale)))
	for _, v := range values {
		// Bucket index i holds (base^i, base^(i+1)].
		i := int(math.Ceil(math.Log(v)/math.Log(base))) - 1 - int(dp.PositiveBucket.Offset)
		if i < 0 || i >= len(dp.PositiveBucket.Counts) || dp.PositiveBucket.Counts[i] == 0 {
			t.Errorf("%v s is not counted in its bucket %d of %v (offset %d)", v, i, dp.PositiveBucket.Counts, dp.PositiveBucket.Offset)
		}
	}
}

func TestExponentialRejectsBadParameters(t *testing.T) {
	for _, tc := range []struct {
		name              string
		profile           otelred.Profile
		maxSize, maxScale int32
		sentinel          error
		want              string
	}{
		{"a zero size", otelred.Semconv, 0, 20, views.ErrInvalidExponential, "maxSize 0"},
		{"a negative size", otelred.Semconv, -1, 20, views.ErrInvalidExponential, "maxSize -1"},
		{"a scale above 20", otelred.Semconv, 160, 21, views.ErrInvalidExponential, "maxScale 21"},
		{"a scale below Prometheus's -4", otelred.Classic, 160, -5, views.ErrInvalidExponential, "maxScale -5"},
		{"an unknown profile", otelred.Profile(9), 160, 20, otelred.ErrInvalidOption, "unknown profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := views.Exponential(tc.profile, tc.maxSize, tc.maxScale)
			if !errors.Is(err, tc.sentinel) || !strings.Contains(err.Error(), tc.want) || vs != nil {
				t.Errorf("Exponential(%v, %d, %d) = %v, %v; want an error wrapping %v naming %q", tc.profile, tc.maxSize, tc.maxScale, vs, err, tc.sentinel, tc.want)
			}
		})
	}
	for _, scale := range []int32{-4, 0, 20} {
		if _, err := views.Exponential(otelred.Semconv, 1, scale); err != nil {
			t.Errorf("Exponential(semconv, 1, %d): %v", scale, err)
		}
	}
}
