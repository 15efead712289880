package exporter_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/otelred"
)

// prometheusNativeAccept is the Accept header of a Prometheus 2.42 scrape
// with --enable-feature=native-histograms: protobuf first, as Prometheus 3
// asks too with scrape_native_histograms: true.
const prometheusNativeAccept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited," +
	"application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75," +
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

func TestValidateRejectsBadHistogramFields(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  exporter.Config
		want []string
	}{
		{"an unknown histogram mode", exporter.Config{Histogram: "exponential"}, []string{"Histogram", `"exponential"`}},
		{"boundaries with native histograms", exporter.Config{Histogram: "native", Boundaries: []float64{0.1, 0.3}}, []string{"Boundaries", "[0.1 0.3]", `"native"`}},
		{"a negative maximum size", exporter.Config{Native: exporter.Native{MaxSize: -1}}, []string{"Native.MaxSize", "-1"}},
		{"a maximum scale above 20", exporter.Config{Native: exporter.Native{MaxScale: 21}}, []string{"Native.MaxScale", "21"}},
		{"a negative maximum scale", exporter.Config{Native: exporter.Native{MaxScale: -2}}, []string{"Native.MaxScale", "-2"}},
		{"a negative cardinality limit", exporter.Config{CardinalityLimit: -5}, []string{"CardinalityLimit", "-5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.cfg.Validate(), tc.want, nil)
		})
	}
	for _, cfg := range []exporter.Config{
		{Histogram: "explicit", Boundaries: []float64{0.1}},
		{Histogram: "native", Native: exporter.Native{MaxSize: 20, MaxScale: 1}},
		{CardinalityLimit: 1},
	} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func TestHistogramAndLimitFromTheEnvironment(t *testing.T) {
	const std = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"
	for _, tc := range []struct {
		name      string
		cfg       exporter.Config
		env       map[string]string
		histogram string
		limit     int
		err       []string
	}{
		{name: "nothing set leaves both at zero", cfg: exporter.Config{}},
		{name: "OTELRED_HISTOGRAM native, in any case", env: map[string]string{"OTELRED_HISTOGRAM": "Native"}, histogram: "native"},
		{name: "OTELRED_HISTOGRAM explicit", env: map[string]string{"OTELRED_HISTOGRAM": "explicit"}, histogram: "explicit"},
		{name: "the field wins over OTELRED_HISTOGRAM", cfg: exporter.Config{Histogram: "explicit"}, env: map[string]string{"OTELRED_HISTOGRAM": "native"}, histogram: "explicit"},
		{name: "an unknown OTELRED_HISTOGRAM", env: map[string]string{"OTELRED_HISTOGRAM": "sparse"}, err: []string{"OTELRED_HISTOGRAM", `"sparse"`}},
		{name: "the standard variable, with OTLP alone", cfg: exporter.Config{Exporters: []string{"otlp"}}, env: map[string]string{std: "BASE2_exponential_bucket_histogram"}, histogram: "native"},
		{name: "the standard variable's explicit, with OTLP alone", cfg: exporter.Config{Exporters: []string{"otlp"}}, env: map[string]string{std: "explicit_bucket_histogram"}, histogram: "explicit"},
		{name: "the standard variable is not read beside Prometheus", cfg: exporter.Config{Exporters: []string{"otlp", "prometheus"}}, env: map[string]string{std: "base2_exponential_bucket_histogram"}},
		{name: "the standard variable is not read without OTLP", cfg: exporter.Config{}, env: map[string]string{std: "base2_exponential_bucket_histogram"}},
		{name: "OTELRED_HISTOGRAM wins over the standard variable", cfg: exporter.Config{Exporters: []string{"otlp"}}, env: map[string]string{"OTELRED_HISTOGRAM": "explicit", std: "base2_exponential_bucket_histogram"}, histogram: "explicit"},
		{name: "an unknown standard value, with OTLP alone", cfg: exporter.Config{Exporters: []string{"otlp"}}, env: map[string]string{std: "exponential"}, err: []string{std, `"exponential"`}},
		{name: "OTELRED_CARDINALITY_LIMIT", env: map[string]string{"OTELRED_CARDINALITY_LIMIT": "42"}, limit: 42},
		{name: "the field wins over OTELRED_CARDINALITY_LIMIT", cfg: exporter.Config{CardinalityLimit: 7}, env: map[string]string{"OTELRED_CARDINALITY_LIMIT": "42"}, limit: 7},
		{name: "a zero OTELRED_CARDINALITY_LIMIT", env: map[string]string{"OTELRED_CARDINALITY_LIMIT": "0"}, err: []string{"OTELRED_CARDINALITY_LIMIT", `"0"`}},
		{name: "an OTELRED_CARDINALITY_LIMIT that is not a number", env: map[string]string{"OTELRED_CARDINALITY_LIMIT": "many"}, err: []string{"OTELRED_CARDINALITY_LIMIT", `"many"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := tc.cfg.WithEnv()
			if tc.err != nil {
				checkErr(t, err, tc.err, nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Histogram != tc.histogram || got.CardinalityLimit != tc.limit {
				t.Errorf("Histogram %q, CardinalityLimit %d; want %q and %d", got.Histogram, got.CardinalityLimit, tc.histogram, tc.limit)
			}
		})
	}
}

// TestNativeHistogramsServedAsProtobuf scrapes a provider of each mode as
// a Prometheus with native histograms does: with "native", the duration
// histogram is a native histogram (a schema, spans and deltas, no classic
// buckets) with exactly the requests sent; with "explicit", it has the
// classic buckets only. The text format still serves the native one's
// count and sum.
func TestNativeHistogramsServedAsProtobuf(t *testing.T) {
	for _, mode := range []string{"native", "explicit"} {
		t.Run(mode, func(t *testing.T) {
			clearEnv(t)
			p := setup(t, exporter.Config{ServiceName: "shop", Histogram: mode, Native: exporter.Native{MaxScale: 12}})
			h := app(t, p, otelred.Semconv)
			for range 5 {
				serve(context.Background(), h, "/users/1")
			}
			serve(context.Background(), h, "/fail")

			ct, body := scrape(t, p.Handler(), prometheusNativeAccept)
			if !strings.HasPrefix(ct, "application/vnd.google.protobuf") {
				t.Fatalf("Content-Type = %q, want delimited protobuf", ct)
			}
			dec := expfmt.NewDecoder(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
			var found *dto.MetricFamily
			for {
				mf := &dto.MetricFamily{}
				err := dec.Decode(mf)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if mf.GetName() == "http_server_request_duration_seconds" {
					found = mf
				}
			}
			if found == nil || found.GetType() != dto.MetricType_HISTOGRAM {
				t.Fatalf("no histogram family http_server_request_duration_seconds: %v", found)
			}
			counts := map[string]uint64{}
			for _, m := range found.GetMetric() {
				var route string
				for _, l := range m.GetLabel() {
					if l.GetName() == "http_route" {
						route = l.GetValue()
					}
				}
				hist := m.GetHistogram()
				counts[route] = hist.GetSampleCount()
				native := hist.Schema != nil
				if mode == "native" {
					var inSpans uint32
					for _, s := range hist.GetPositiveSpan() {
						inSpans += s.GetLength()
					}
					var total uint64
					var v int64
					for _, d := range hist.GetPositiveDelta() {
						v += d
						total += uint64(v)
					}
					switch {
					case !native || hist.GetSchema() > 8 || hist.GetSchema() < -4:
						t.Errorf("%s: schema %v, want a native histogram's, at most 8", route, hist.Schema)
					case len(hist.GetBucket()) != 0:
						t.Errorf("%s: %d classic buckets, want none", route, len(hist.GetBucket()))
					case int(inSpans) != len(hist.GetPositiveDelta()) || total+hist.GetZeroCount() != hist.GetSampleCount():
						t.Errorf("%s: spans of %d buckets, %d deltas, %d observations in buckets and %d at zero, count %d",
							route, inSpans, len(hist.GetPositiveDelta()), total, hist.GetZeroCount(), hist.GetSampleCount())
					}
				} else if native || len(hist.GetBucket()) != 14 {
					t.Errorf("%s: schema %v and %d classic buckets, want no schema and the 14 default buckets", route, hist.Schema, len(hist.GetBucket()))
				}
			}
			if counts["/users/{id}"] != 5 || counts["/fail"] != 1 || len(counts) != 2 {
				t.Errorf("counts by route %v, want /users/{id} 5 and /fail 1", counts)
			}

			_, text := scrape(t, p.Handler(), "")
			if v, ok := sample(text, `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"}`); !ok || v != "5" {
				t.Errorf("text format: request count = %q (found %v), want 5", v, ok)
			}
		})
	}
}

// exponentialPoint returns the latest exponential histogram data point of
// the metric name whose attributes are attrs, among rcv's requests.
func exponentialPoint(rcv *otlptest.Receiver, name string, attrs map[string]string) (*metricpb.ExponentialHistogramDataPoint, bool) {
	var last *metricpb.ExponentialHistogramDataPoint
	for _, req := range rcv.Requests() {
		for _, rm := range req.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					if m.GetName() != name {
						continue
					}
					for _, dp := range m.GetExponentialHistogram().GetDataPoints() {
						got := otlptest.Attributes(dp.GetAttributes())
						if len(got) != len(attrs) {
							continue
						}
						same := true
						for k, v := range attrs {
							same = same && got[k] == v
						}
						if same {
							last = dp
						}
					}
				}
			}
		}
	}
	return last, last != nil
}

// TestPushExponentialHistograms pushes, over both protocols, with
// Histogram "native": the duration histogram arrives as an OTLP
// ExponentialHistogram, one point per series with exactly its requests,
// all of them in its buckets, at most at the maximum scale.
func TestPushExponentialHistograms(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			t.Run(proto+"/"+profile.String(), func(t *testing.T) {
				clearEnv(t)
				rcv := otlptest.Start(t, proto)
				p, err := exporter.Setup(context.Background(), exporter.Config{
					Exporters:   []string{"otlp"},
					ServiceName: "checkout",
					Naming:      profile.String(),
					Histogram:   "native",
					Native:      exporter.Native{MaxSize: 40, MaxScale: 10},
					OTLP:        exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: time.Hour},
				})
				if err != nil {
					t.Fatal(err)
				}
				send(t, app(t, p, profile))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := p.Shutdown(ctx); err != nil {
					t.Fatalf("Shutdown: %v", err)
				}

				name := profile.Names().Duration
				hist, _, _ := expected(profile)
				for _, s := range hist {
					dp, ok := exponentialPoint(rcv, name, s.attrs)
					if !ok {
						t.Errorf("no exponential %s point for %v", name, s.attrs)
						continue
					}
					var inBuckets uint64
					for _, n := range dp.GetPositive().GetBucketCounts() {
						inBuckets += n
					}
					if float64(dp.GetCount()) != s.count || float64(inBuckets+dp.GetZeroCount()) != s.count {
						t.Errorf("%s%v: count %d, %d in buckets, %d at zero; want %v", name, s.attrs, dp.GetCount(), inBuckets, dp.GetZeroCount(), s.count)
					}
					if dp.GetScale() > 10 || len(dp.GetPositive().GetBucketCounts()) > 40 || dp.GetSum() <= 0 {
						t.Errorf("%s%v: scale %d, %d buckets, sum %v; want at most 10 and 40, and a positive sum", name, s.attrs, dp.GetScale(), len(dp.GetPositive().GetBucketCounts()), dp.GetSum())
					}
				}
				if _, ok := rcv.Histogram(name, hist[0].attrs); ok {
					t.Errorf("%s was also pushed with explicit buckets", name)
				}
			})
		}
	}
}
