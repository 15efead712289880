package exporter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelred/otelred/internal/otlptest"
)

// sdkExporter returns the SDK's OTLP exporter for rcv, uncompressed and
// with retries off, so that the receiver's sizes are those of the
// messages the SDK encodes.
func sdkExporter(t *testing.T, rcv *otlptest.Receiver) sdkmetric.Exporter {
	t.Helper()
	var (
		exp sdkmetric.Exporter
		err error
	)
	if rcv.Protocol() == otlptest.GRPC {
		exp, err = otlpmetricgrpc.New(t.Context(), otlpmetricgrpc.WithEndpointURL(rcv.Endpoint()),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false}))
	} else {
		exp, err = otlpmetrichttp.New(t.Context(), otlpmetrichttp.WithEndpointURL(rcv.Endpoint()),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

// long returns a value of n bytes, unique to what and i.
func long(what string, i, n int) string {
	s := fmt.Sprintf("%s-%d-", what, i)
	return s + strings.Repeat("v", max(0, n-len(s)))
}

// everyKind returns a ResourceMetrics with n points of every kind of
// metric (sums and gauges of int64 and float64, histograms, exponential
// histograms of both, a summary), each with four attributes of values of
// valueLen bytes, and with each point two exemplars with filtered
// attributes and trace and span ids if exemplars is set: the worst case of
// what a point carries.
func everyKind(n, valueLen int, exemplars bool) *metricdata.ResourceMetrics {
	now := time.Now()
	start := now.Add(-time.Hour)
	attrs := func(i int) attribute.Set {
		return attribute.NewSet(
			attribute.String("tenant", long("tenant", i, valueLen)), attribute.String("region", long("region", i, valueLen)),
			attribute.String("plan", long("plan", i, valueLen)), attribute.String("http.route", long("/route", i, valueLen)))
	}
	ex := func(i int) []metricdata.Exemplar[float64] {
		if !exemplars {
			return nil
		}
		e := metricdata.Exemplar[float64]{
			FilteredAttributes: []attribute.KeyValue{attribute.String("user", long("user", i, valueLen)), attribute.Int("shard", -i)},
			Time:               now, Value: 0.25, SpanID: make([]byte, 8), TraceID: make([]byte, 16),
		}
		return []metricdata.Exemplar[float64]{e, e}
	}
	exInt := func(i int) []metricdata.Exemplar[int64] {
		var out []metricdata.Exemplar[int64]
		for _, e := range ex(i) {
			out = append(out, metricdata.Exemplar[int64]{FilteredAttributes: e.FilteredAttributes, Time: e.Time, Value: math.MinInt64, SpanID: e.SpanID, TraceID: e.TraceID})
		}
		return out
	}
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	var (
		sumInt   []metricdata.DataPoint[int64]
		gaugeF   []metricdata.DataPoint[float64]
		sumF     []metricdata.DataPoint[float64]
		gaugeInt []metricdata.DataPoint[int64]
		hist     []metricdata.HistogramDataPoint[float64]
		histInt  []metricdata.HistogramDataPoint[int64]
		exp      []metricdata.ExponentialHistogramDataPoint[float64]
		expInt   []metricdata.ExponentialHistogramDataPoint[int64]
		summary  []metricdata.SummaryDataPoint
	)
	counts := make([]uint64, len(bounds)+1)
	expCounts := make([]uint64, 160)
	for i := range counts {
		counts[i] = math.MaxUint64 - uint64(i)
	}
	for i := range expCounts {
		expCounts[i] = 1 << (i % 64)
	}
	for i := range n {
		a := attrs(i)
		sumInt = append(sumInt, metricdata.DataPoint[int64]{Attributes: a, StartTime: start, Time: now, Value: math.MaxInt64, Exemplars: exInt(i)})
		gaugeInt = append(gaugeInt, metricdata.DataPoint[int64]{Attributes: a, StartTime: start, Time: now, Value: -1, Exemplars: exInt(i)})
		sumF = append(sumF, metricdata.DataPoint[float64]{Attributes: a, StartTime: start, Time: now, Value: 1.5, Exemplars: ex(i)})
		gaugeF = append(gaugeF, metricdata.DataPoint[float64]{Attributes: a, StartTime: start, Time: now, Value: -2.5, Exemplars: ex(i)})
		hist = append(hist, metricdata.HistogramDataPoint[float64]{Attributes: a, StartTime: start, Time: now, Count: math.MaxUint64,
			Bounds: bounds, BucketCounts: counts, Min: metricdata.NewExtrema(0.001), Max: metricdata.NewExtrema(9.0), Sum: 1e9, Exemplars: ex(i)})
		histInt = append(histInt, metricdata.HistogramDataPoint[int64]{Attributes: a, StartTime: start, Time: now, Count: 7,
			Bounds: bounds, BucketCounts: counts, Min: metricdata.NewExtrema[int64](-5), Max: metricdata.NewExtrema[int64](1 << 40), Sum: 99, Exemplars: exInt(i)})
		exp = append(exp, metricdata.ExponentialHistogramDataPoint[float64]{Attributes: a, StartTime: start, Time: now, Count: 1 << 50,
			Min: metricdata.NewExtrema(-3.0), Max: metricdata.NewExtrema(3.0), Sum: -1, Scale: -10, ZeroCount: 3, ZeroThreshold: 1e-9,
			PositiveBucket: metricdata.ExponentialBucket{Offset: math.MinInt32, Counts: expCounts},
			NegativeBucket: metricdata.ExponentialBucket{Offset: math.MaxInt32, Counts: expCounts}, Exemplars: ex(i)})
		expInt = append(expInt, metricdata.ExponentialHistogramDataPoint[int64]{Attributes: a, StartTime: start, Time: now, Count: 2,
			Scale: 20, ZeroCount: 0, PositiveBucket: metricdata.ExponentialBucket{Offset: -1, Counts: expCounts[:3]}, Exemplars: exInt(i)})
		summary = append(summary, metricdata.SummaryDataPoint{Attributes: a, StartTime: start, Time: now, Count: 10, Sum: 5,
			QuantileValues: []metricdata.QuantileValue{{Quantile: 0.5, Value: 1}, {Quantile: 0.99, Value: 2}}})
	}
	res := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.37.0",
		attribute.String("service.name", "shop"), attribute.String("service.instance.id", long("instance", 0, 36)),
		attribute.StringSlice("host.ip", []string{"10.0.0.1", "fe80::1"}))
	return &metricdata.ResourceMetrics{
		Resource: res,
		ScopeMetrics: []metricdata.ScopeMetrics{
			{
				Scope: instrumentation.Scope{Name: "github.com/otelred/otelred/otelred", Version: "v0.1.0", SchemaURL: "https://opentelemetry.io/schemas/1.37.0",
					Attributes: attribute.NewSet(attribute.Bool("test", true))},
				Metrics: []metricdata.Metrics{
					{Name: "sum.int", Description: "a counter", Unit: "{request}", Data: metricdata.Sum[int64]{Temporality: metricdata.CumulativeTemporality, IsMonotonic: true, DataPoints: sumInt}},
					{Name: "sum.float", Unit: "s", Data: metricdata.Sum[float64]{Temporality: metricdata.DeltaTemporality, DataPoints: sumF}},
					{Name: "gauge.int", Data: metricdata.Gauge[int64]{DataPoints: gaugeInt}},
					{Name: "gauge.float", Data: metricdata.Gauge[float64]{DataPoints: gaugeF}},
					{Name: "histogram.float", Description: "durations", Unit: "s", Data: metricdata.Histogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: hist}},
				},
			},
			{
				Scope: instrumentation.Scope{Name: "second"},
				Metrics: []metricdata.Metrics{
					{Name: "histogram.int", Unit: "By", Data: metricdata.Histogram[int64]{Temporality: metricdata.DeltaTemporality, DataPoints: histInt}},
					{Name: "exponential.float", Data: metricdata.ExponentialHistogram[float64]{Temporality: metricdata.CumulativeTemporality, DataPoints: exp}},
					{Name: "exponential.int", Data: metricdata.ExponentialHistogram[int64]{Temporality: metricdata.DeltaTemporality, DataPoints: expInt}},
					{Name: "summary", Data: metricdata.Summary{DataPoints: summary}},
				},
			},
		},
	}
}

// randomMetrics returns a ResourceMetrics of random shape and content:
// one to three scopes of up to six metrics of random kinds, of up to 30
// points each (none at times), with attributes of every type, nested
// slices and maps included, strings of up to 300 bytes of one- to
// four-byte runes, and numbers, times and counts from zero to their
// extremes.
func randomMetrics(r *rand.Rand) *metricdata.ResourceMetrics {
	runes := []rune{'a', 'Z', '0', ' ', '/', 'é', 'ß', '€', '中', '😀'}
	str := func() string {
		var b strings.Builder
		for range r.IntN([]int{1, 8, 40, 300}[r.IntN(4)]) {
			if b.Len() > 300 {
				break
			}
			b.WriteRune(runes[r.IntN(len(runes))])
		}
		return b.String()
	}
	i64 := func() int64 {
		switch r.IntN(4) {
		case 0:
			return 0
		case 1:
			return r.Int64N(300) - 150
		case 2:
			return math.MinInt64 + r.Int64N(10)
		}
		return r.Int64()
	}
	u64 := func() uint64 {
		if r.IntN(3) == 0 {
			return 0
		}
		return r.Uint64() >> r.IntN(64)
	}
	f64 := func() float64 {
		if r.IntN(3) == 0 {
			return 0
		}
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(20)-10))
	}
	var value func(depth int) attribute.Value
	keyValues := func(n, depth int) []attribute.KeyValue {
		kvs := make([]attribute.KeyValue, n)
		for i := range kvs {
			kvs[i] = attribute.KeyValue{Key: attribute.Key(str()), Value: value(depth)}
		}
		return kvs
	}
	value = func(depth int) attribute.Value {
		n := r.IntN(5)
		kinds := 10
		if depth < 2 {
			kinds = 12
		}
		switch r.IntN(kinds) {
		case 0:
			return attribute.Value{} // EMPTY
		case 1:
			return attribute.BoolValue(r.IntN(2) == 0)
		case 2:
			return attribute.Int64Value(i64())
		case 3:
			return attribute.Float64Value(f64())
		case 4:
			bs := make([]bool, n)
			for i := range bs {
				bs[i] = r.IntN(2) == 0
			}
			return attribute.BoolSliceValue(bs)
		case 5:
			is := make([]int64, n)
			for i := range is {
				is[i] = i64()
			}
			return attribute.Int64SliceValue(is)
		case 6:
			fs := make([]float64, n)
			for i := range fs {
				fs[i] = f64()
			}
			return attribute.Float64SliceValue(fs)
		case 7:
			ss := make([]string, n)
			for i := range ss {
				ss[i] = str()
			}
			return attribute.StringSliceValue(ss)
		case 8:
			b := make([]byte, r.IntN(40))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return attribute.ByteSliceValue(b)
		case 10:
			vs := make([]attribute.Value, n)
			for i := range vs {
				vs[i] = value(depth + 1)
			}
			return attribute.SliceValue(vs...)
		case 11:
			return attribute.MapValue(keyValues(n, depth+1)...)
		}
		return attribute.StringValue(str())
	}
	set := func() attribute.Set { return attribute.NewSet(keyValues(r.IntN(6), 0)...) }
	tm := func() time.Time {
		if r.IntN(4) == 0 {
			return time.Time{}
		}
		return time.Unix(0, r.Int64N(math.MaxInt64))
	}
	extrema := func() metricdata.Extrema[float64] {
		if r.IntN(2) == 0 {
			return metricdata.Extrema[float64]{}
		}
		return metricdata.NewExtrema(f64())
	}
	exemplars := func() []metricdata.Exemplar[float64] {
		out := make([]metricdata.Exemplar[float64], r.IntN(3))
		for i := range out {
			out[i] = metricdata.Exemplar[float64]{FilteredAttributes: keyValues(r.IntN(3), 1), Time: tm(), Value: f64()}
			if r.IntN(2) == 0 {
				out[i].SpanID, out[i].TraceID = make([]byte, 8), make([]byte, 16)
			}
		}
		return out
	}
	uints := func(n int) []uint64 {
		out := make([]uint64, n)
		for i := range out {
			out[i] = u64()
		}
		return out
	}
	temporality := func() metricdata.Temporality {
		return []metricdata.Temporality{metricdata.CumulativeTemporality, metricdata.DeltaTemporality}[r.IntN(2)]
	}
	metric := func() metricdata.Metrics {
		m := metricdata.Metrics{Name: str(), Description: str(), Unit: str()}
		n := r.IntN(31)
		switch r.IntN(6) {
		case 0, 1:
			pts := make([]metricdata.DataPoint[float64], n)
			for i := range pts {
				pts[i] = metricdata.DataPoint[float64]{Attributes: set(), StartTime: tm(), Time: tm(), Value: f64(), Exemplars: exemplars()}
			}
			if r.IntN(2) == 0 {
				m.Data = metricdata.Gauge[float64]{DataPoints: pts}
			} else {
				m.Data = metricdata.Sum[float64]{Temporality: temporality(), IsMonotonic: r.IntN(2) == 0, DataPoints: pts}
			}
		case 2:
			pts := make([]metricdata.DataPoint[int64], n)
			for i := range pts {
				pts[i] = metricdata.DataPoint[int64]{Attributes: set(), StartTime: tm(), Time: tm(), Value: i64()}
			}
			m.Data = metricdata.Sum[int64]{Temporality: temporality(), IsMonotonic: r.IntN(2) == 0, DataPoints: pts}
		case 3:
			pts := make([]metricdata.HistogramDataPoint[float64], n)
			for i := range pts {
				bounds := make([]float64, r.IntN(20))
				for j := range bounds {
					bounds[j] = f64()
				}
				pts[i] = metricdata.HistogramDataPoint[float64]{Attributes: set(), StartTime: tm(), Time: tm(), Count: u64(), Sum: f64(),
					Bounds: bounds, BucketCounts: uints(len(bounds) + r.IntN(2)), Min: extrema(), Max: extrema(), Exemplars: exemplars()}
			}
			m.Data = metricdata.Histogram[float64]{Temporality: temporality(), DataPoints: pts}
		case 4:
			pts := make([]metricdata.ExponentialHistogramDataPoint[float64], n)
			for i := range pts {
				pts[i] = metricdata.ExponentialHistogramDataPoint[float64]{Attributes: set(), StartTime: tm(), Time: tm(), Count: u64(), Sum: f64(),
					Scale: int32(r.IntN(31) - 10), ZeroCount: u64(), ZeroThreshold: f64(), Min: extrema(), Max: extrema(),
					PositiveBucket: metricdata.ExponentialBucket{Offset: int32(r.Uint32()), Counts: uints(r.IntN(200))},
					NegativeBucket: metricdata.ExponentialBucket{Offset: int32(r.IntN(21) - 10), Counts: uints(r.IntN(5))},
					Exemplars:      exemplars()}
			}
			m.Data = metricdata.ExponentialHistogram[float64]{Temporality: temporality(), DataPoints: pts}
		default:
			pts := make([]metricdata.SummaryDataPoint, n)
			for i := range pts {
				qs := make([]metricdata.QuantileValue, r.IntN(4))
				for j := range qs {
					qs[j] = metricdata.QuantileValue{Quantile: f64(), Value: f64()}
				}
				pts[i] = metricdata.SummaryDataPoint{Attributes: set(), StartTime: tm(), Time: tm(), Count: u64(), Sum: f64(), QuantileValues: qs}
			}
			m.Data = metricdata.Summary{DataPoints: pts}
		}
		return m
	}
	rm := &metricdata.ResourceMetrics{Resource: resource.NewWithAttributes(str(), keyValues(r.IntN(5), 0)...)}
	for range 1 + r.IntN(3) {
		attrs := set()
		sm := metricdata.ScopeMetrics{Scope: instrumentation.Scope{Name: str(), Version: str(), SchemaURL: str(), Attributes: attrs}}
		for range r.IntN(7) {
			sm.Metrics = append(sm.Metrics, metric())
		}
		rm.ScopeMetrics = append(rm.ScopeMetrics, sm)
	}
	return rm
}

// largeHeads returns a ResourceMetrics whose size is mostly its resource
// and scopes: each with 20 attributes of 128 bytes, and one point of a
// counter.
func largeHeads() *metricdata.ResourceMetrics {
	var attrs []attribute.KeyValue
	for i := range 20 {
		attrs = append(attrs, attribute.String(long("key", i, 32), long("value", i, 128)))
	}
	rm := everyKind(1, 1, false)
	rm.Resource = resource.NewWithAttributes("", attrs...)
	for i := range rm.ScopeMetrics {
		sm := &rm.ScopeMetrics[i]
		sm.Scope.Attributes = attribute.NewSet(attrs...)
		sm.Metrics = sm.Metrics[:1]
	}
	return rm
}

// TestRequestSizeIsAnUpperBound exports ResourceMetrics through the SDK's
// OTLP exporters, over gRPC and HTTP, to a real peer that reports the size
// of each request as it came, and checks that requestSize is never below
// it: for 300 random ones, for points of every kind with values of 128
// bytes, with and without exemplars, and for large resources and scopes. It also checks that requestSize
// is not far above: at most 1% over for the realistic cases, where every
// field is set, and at most 10% over for the random ones, whose many zero
// fields protobuf leaves out but the estimate counts; each plus 16 bytes,
// and 16 bytes a metric (a gauge has no temporality, but the estimate
// counts one).
func TestRequestSizeIsAnUpperBound(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			rcv := otlptest.Start(t, proto)
			exp := sdkExporter(t, rcv)
			// check exports rm, and returns the estimate's ratio to the real
			// size.
			check := func(t *testing.T, name string, rm *metricdata.ResourceMetrics, maxRatio float64, slack int) float64 {
				for _, sm := range rm.ScopeMetrics {
					slack += 16 * len(sm.Metrics)
				}
				t.Helper()
				if err := exp.Export(t.Context(), rm); err != nil {
					t.Fatalf("%s: Export: %v", name, err)
				}
				sizes := rcv.Sizes()
				real, est := sizes[len(sizes)-1], requestSize(rm)
				if est < real {
					t.Errorf("%s: requestSize = %d, below the real size %d", name, est, real)
				}
				if float64(est) > maxRatio*float64(real)+float64(slack) {
					t.Errorf("%s: requestSize = %d, more than %.2f × the real size %d + %d bytes", name, est, maxRatio, real, slack)
				}
				return float64(est) / float64(real)
			}
			for _, tc := range []struct {
				name string
				rm   *metricdata.ResourceMetrics
			}{
				{"every kind, exemplars", everyKind(50, 128, true)},
				{"every kind, no exemplars", everyKind(50, 128, false)},
				{"every kind, one point, short values", everyKind(1, 1, false)},
				{"a large resource and scope, one point each", largeHeads()},
				{"no scope", &metricdata.ResourceMetrics{Resource: resource.Empty()}},
			} {
				ratio := check(t, tc.name, tc.rm, 1.01, 16)
				t.Logf("%s: estimate %d bytes, ratio %.4f", tc.name, requestSize(tc.rm), ratio)
			}
			r := rand.New(rand.NewPCG(1, 2))
			worst := 1.0
			for i := range 300 {
				worst = max(worst, check(t, fmt.Sprintf("random %d", i), randomMetrics(r), 1.1, 16))
			}
			t.Logf("random: the largest ratio of the estimate to the real size is %.3f", worst)
		})
	}
}

// points returns the address of each data point of rm, in order.
func points(rm *metricdata.ResourceMetrics) []uintptr {
	var out []uintptr
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, metricPoints(m)...)
		}
	}
	return out
}

// metricPoints returns the address of each data point of m, in order:
// points of any kind, found by reflection.
func metricPoints(m metricdata.Metrics) []uintptr {
	if m.Data == nil {
		return nil
	}
	pts := reflect.ValueOf(m.Data).FieldByName("DataPoints")
	out := make([]uintptr, pts.Len())
	for i := range out {
		out[i] = pts.Index(i).Addr().Pointer()
	}
	return out
}

// withoutPoints returns data with no data points, or nil for nil.
func withoutPoints(data metricdata.Aggregation) any {
	if data == nil {
		return nil
	}
	v := reflect.New(reflect.TypeOf(data)).Elem()
	v.Set(reflect.ValueOf(data))
	v.FieldByName("DataPoints").SetZero()
	return v.Interface()
}

// checkParts checks that parts hold exactly rm's points, in order and not
// copied, each with its scope and its metric's name, description, unit
// and data (temporality, monotonicity) as in rm, with rm's Resource; and
// that each part's estimate is at most budget, unless it holds one point.
func checkParts(t *testing.T, rm *metricdata.ResourceMetrics, parts []*metricdata.ResourceMetrics, budget int) {
	t.Helper()
	// The scope and metric of each of rm's points.
	type origin struct {
		scope instrumentation.Scope
		m     metricdata.Metrics
	}
	where := map[uintptr]origin{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			for _, p := range metricPoints(m) {
				where[p] = origin{sm.Scope, m}
			}
		}
	}
	var got []uintptr
	for i, part := range parts {
		if part.Resource != rm.Resource {
			t.Errorf("part %d has another Resource", i)
		}
		pts := points(part)
		if n := requestSize(part); n > budget && len(pts) > 1 {
			t.Errorf("part %d of %d: estimated at %d bytes, over the budget of %d, with %d points", i, len(parts), n, budget, len(pts))
		}
		for _, sm := range part.ScopeMetrics {
			for _, m := range sm.Metrics {
				for _, p := range metricPoints(m) {
					o, ok := where[p]
					switch {
					case !ok:
						t.Fatalf("part %d holds a point that is not one of rm's: copied", i)
					case !reflect.DeepEqual(o.scope, sm.Scope) || o.m.Name != m.Name || o.m.Description != m.Description || o.m.Unit != m.Unit:
						t.Errorf("part %d: a point of %q in scope %q is in metric %q of scope %q", i, o.m.Name, o.scope.Name, m.Name, sm.Scope.Name)
					case !reflect.DeepEqual(withoutPoints(o.m.Data), withoutPoints(m.Data)):
						t.Errorf("part %d: metric %q has data %#v, want %#v", i, m.Name, withoutPoints(m.Data), withoutPoints(o.m.Data))
					}
				}
			}
		}
		got = append(got, pts...)
	}
	if want := points(rm); !reflect.DeepEqual(got, want) {
		t.Errorf("the parts hold %d points, want rm's %d, each once and in order", len(got), len(want))
	}
}

// largestItem returns the largest estimate of a request that holds only
// one of what split puts in a part: one of rm's points, with its scope and
// metric; a metric without points, with its scope; a scope without
// metrics.
func largestItem(rm *metricdata.ResourceMetrics) int {
	largest := 0
	alone := func(sm metricdata.ScopeMetrics, ms ...metricdata.Metrics) {
		sm.Metrics = ms
		largest = max(largest, requestSize(&metricdata.ResourceMetrics{Resource: rm.Resource, ScopeMetrics: []metricdata.ScopeMetrics{sm}}))
	}
	for _, sm := range rm.ScopeMetrics {
		if len(sm.Metrics) == 0 {
			alone(sm)
		}
		for _, m := range sm.Metrics {
			if m.Data == nil {
				alone(sm, m)
				continue
			}
			data := reflect.ValueOf(m.Data)
			pts := data.FieldByName("DataPoints")
			if pts.Len() == 0 {
				alone(sm, m)
			}
			for i := range pts.Len() {
				one := reflect.New(data.Type()).Elem()
				one.Set(data)
				one.FieldByName("DataPoints").Set(pts.Slice(i, i+1))
				m.Data = one.Interface().(metricdata.Aggregation)
				alone(sm, m)
			}
		}
	}
	return largest
}

// TestSplitKeepsEveryPointOnce splits 100 random ResourceMetrics, and
// points of every kind, under budgets from 512 bytes (about one point
// each) to 64 KiB, and checks the parts with checkParts; and that the
// split is not wasteful: when nothing that split puts in a part alone
// (largestItem) takes more than a quarter of the budget, every part but
// the last is estimated at more than half the budget.
func TestSplitKeepsEveryPointOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []*metricdata.ResourceMetrics{everyKind(40, 128, true), everyKind(3, 128, false)}
	for range 100 {
		cases = append(cases, randomMetrics(r))
	}
	filled := 0 // the splits whose parts' fill is checked
	for i, rm := range cases {
		largest := largestItem(rm)
		for _, budget := range []int{512, 4 << 10, 64 << 10} {
			parts := split(rm, budget)
			t.Run(fmt.Sprintf("case %d budget %d", i, budget), func(t *testing.T) {
				checkParts(t, rm, parts, budget)
				if largest > budget/4 {
					return
				}
				filled++
				for j, part := range parts[:len(parts)-1] {
					if n := requestSize(part); n <= budget/2 {
						t.Errorf("part %d of %d is estimated at %d bytes, not more than half the budget of %d", j, len(parts), n, budget)
					}
				}
			})
		}
	}
	if filled < len(cases) {
		t.Errorf("the fill of parts was checked for %d splits only, want at least %d", filled, len(cases))
	}
}

// recordingExporter is the exporter a splittingExporter wraps in the
// tests below: it keeps what each Export gets, and returns fail's error
// for the call of that index (from 0). Only Export may be called.
type recordingExporter struct {
	sdkmetric.Exporter
	got    []*metricdata.ResourceMetrics
	fail   map[int]error
	during func(call int) // called within each Export, if set
}

func (e *recordingExporter) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	call := len(e.got)
	e.got = append(e.got, rm)
	if e.during != nil {
		e.during(call)
	}
	return e.fail[call]
}

// TestExportUnderTheBudgetPassesThrough checks that an export under the
// budget reaches the wrapped exporter once, as the very ResourceMetrics
// it was, and its error as it was; and that one a byte over the budget
// does not.
func TestExportUnderTheBudgetPassesThrough(t *testing.T) {
	rm := everyKind(2, 128, true)
	errRefused := errors.New("refused")
	rec := &recordingExporter{fail: map[int]error{0: errRefused}}
	e := splittingExporter{Exporter: rec, budget: requestSize(rm)}
	if err := e.Export(t.Context(), rm); err != errRefused {
		t.Errorf("Export = %v, want the wrapped exporter's error as it is", err)
	}
	if len(rec.got) != 1 || rec.got[0] != rm {
		t.Fatalf("the wrapped exporter got %d exports, want 1, rm itself", len(rec.got))
	}
	e.budget--
	if err := e.Export(t.Context(), rm); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) < 3 || rec.got[1] == rm {
		t.Errorf("a byte over the budget, the wrapped exporter got %d exports in all, want rm in parts", len(rec.got))
	}
}

// TestSplitExportDeliversTheRestWhenAPartFails fails the second of the
// parts an export is split into, and checks that the wrapped exporter
// still gets every part, in the order of split, and that Export returns an
// error naming the part, which unwraps to the wrapped exporter's.
func TestSplitExportDeliversTheRestWhenAPartFails(t *testing.T) {
	rm := everyKind(30, 128, true)
	const budget = 64 << 10
	want := split(rm, budget)
	if len(want) < 3 {
		t.Fatalf("rm splits into %d parts, want at least 3 for this test", len(want))
	}
	errRefused := errors.New("refused")
	rec := &recordingExporter{fail: map[int]error{1: errRefused}}
	err := splittingExporter{Exporter: rec, budget: budget}.Export(t.Context(), rm)
	if !errors.Is(err, errRefused) {
		t.Errorf("Export = %v, want an error wrapping the part's", err)
	}
	if msg := fmt.Sprintf("exporter: OTLP export part 2 of %d: refused", len(want)); err == nil || err.Error() != msg {
		t.Errorf("Export = %v, want %q", err, msg)
	}
	if len(rec.got) != len(want) {
		t.Fatalf("the wrapped exporter got %d parts, want all %d", len(rec.got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(points(rec.got[i]), points(want[i])) {
			t.Errorf("part %d holds other points than split's", i)
		}
	}
	checkParts(t, rm, rec.got, budget)
}

// TestSplitExportStopsWhenTheContextEnds ends the export's context while
// the second part is sent, and checks that no part is sent after it, and
// that Export's error says how many were not and wraps the context's.
func TestSplitExportStopsWhenTheContextEnds(t *testing.T) {
	rm := everyKind(30, 128, true)
	const budget = 64 << 10
	n := len(split(rm, budget))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec := &recordingExporter{during: func(call int) {
		if call == 1 {
			cancel()
		}
	}}
	err := splittingExporter{Exporter: rec, budget: budget}.Export(ctx, rm)
	if len(rec.got) != 2 {
		t.Errorf("the wrapped exporter got %d parts, want 2: none after the context ended", len(rec.got))
	}
	if msg := fmt.Sprintf("exporter: OTLP export parts 3 to %d of %d not sent: context canceled", n, n); err == nil || err.Error() != msg || !errors.Is(err, context.Canceled) {
		t.Errorf("Export = %v, want %q wrapping context.Canceled", err, msg)
	}
}

// TestSplitExportReachesThePeerUnderTheBudget exports points of every
// kind, 30 times a 64 KiB budget, through a splittingExporter around the
// SDK's OTLP exporter to a real peer, over gRPC and HTTP, and checks that
// the peer gets as many requests as split makes parts, each at most the
// budget as it came, and every point exactly once.
func TestSplitExportReachesThePeerUnderTheBudget(t *testing.T) {
	const budget = 64 << 10
	rm := everyKind(200, 128, true)
	parts := len(split(rm, budget))
	if n := requestSize(rm); n < 30*budget {
		t.Fatalf("rm is estimated at %d bytes, want at least %d for this test", n, 30*budget)
	}
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			rcv := otlptest.Start(t, proto)
			if err := (splittingExporter{Exporter: sdkExporter(t, rcv), budget: budget}).Export(t.Context(), rm); err != nil {
				t.Fatalf("Export: %v", err)
			}
			sizes := rcv.Sizes()
			if len(sizes) != parts {
				t.Errorf("the peer got %d requests, want %d", len(sizes), parts)
			}
			for i, n := range sizes {
				if n > budget {
					t.Errorf("request %d of %d is %d bytes, over the budget of %d", i, len(sizes), n, budget)
				}
			}
			// Every point once: each metric's tenants, 0 to 199, each once.
			got := map[string]map[string]int{}
			for _, req := range rcv.Requests() {
				for _, prm := range req.GetResourceMetrics() {
					if n := len(prm.GetResource().GetAttributes()); n != 3 {
						t.Errorf("a request's resource has %d attributes, want 3", n)
					}
					for _, sm := range prm.GetScopeMetrics() {
						for _, m := range sm.GetMetrics() {
							if got[m.GetName()] == nil {
								got[m.GetName()] = map[string]int{}
							}
							count := func(attrs map[string]string) { got[m.GetName()][attrs["tenant"]]++ }
							for _, p := range m.GetSum().GetDataPoints() {
								count(otlptest.Attributes(p.GetAttributes()))
							}
							for _, p := range m.GetGauge().GetDataPoints() {
								count(otlptest.Attributes(p.GetAttributes()))
							}
							for _, p := range m.GetHistogram().GetDataPoints() {
								count(otlptest.Attributes(p.GetAttributes()))
							}
							for _, p := range m.GetExponentialHistogram().GetDataPoints() {
								count(otlptest.Attributes(p.GetAttributes()))
							}
							for _, p := range m.GetSummary().GetDataPoints() {
								count(otlptest.Attributes(p.GetAttributes()))
							}
						}
					}
				}
			}
			want := map[string]int{}
			for i := range 200 {
				want[long("tenant", i, 128)] = 1
			}
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if !reflect.DeepEqual(got[m.Name], want) {
						t.Errorf("metric %s: the peer got %d distinct points, want each of the 200 once", m.Name, len(got[m.Name]))
					}
				}
			}
		})
	}
}
