package exporter_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/otelred"
)

// traffic is the request mix the push tests send: path → count.
var traffic = []struct {
	path  string
	count int
}{
	{"/users/1", 4}, {"/users/2", 3}, // 7 × 200 on /users/{id}
	{"/fail", 3},   // 3 × 500
	{"/nope/x", 2}, // 2 × 404, unmatched
}

// send drives the traffic through a real HTTP server in front of h.
func send(t *testing.T, h http.Handler) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tr := range traffic {
		for range tr.count {
			resp, err := srv.Client().Get(srv.URL + tr.path)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
	}
}

// series is one expected series: its attributes and its request count.
type series struct {
	attrs map[string]string
	count float64
}

// expected returns what the traffic must produce, per profile: the
// duration histogram's series and, for Classic, the two counters'.
func expected(p otelred.Profile) (hist, requests, errs []series) {
	if p == otelred.Semconv {
		return []series{
			{map[string]string{"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"}, 7},
			{map[string]string{"http.request.method": "GET", "http.route": "/fail", "http.response.status_code": "500", "error.type": "500", "network.protocol.version": "1.1", "url.scheme": "http"}, 3},
			{map[string]string{"http.request.method": "GET", "http.response.status_code": "404", "network.protocol.version": "1.1", "url.scheme": "http"}, 2}, // no route: no http.route
		}, nil, nil
	}
	ok := map[string]string{"method": "GET", "path": "/users/{id}", "status_code": "200", "service": "shop"}
	fail := map[string]string{"method": "GET", "path": "/fail", "status_code": "500", "service": "shop"}
	none := map[string]string{"method": "GET", "path": otelred.Unmatched, "status_code": "404", "service": "shop"}
	hist = []series{{ok, 7}, {fail, 3}, {none, 2}}
	return hist, hist, []series{{fail, 3}, {none, 2}}
}

// TestPushImmediateShutdownHoldsEveryRequest sends requests through the
// middleware on a provider from Setup, then shuts down at once. The
// interval is an hour, so the only export is the shutdown's flush, and it
// must hold every request, per route and status, in the configured
// buckets, with the resource and the headers.
func TestPushImmediateShutdownHoldsEveryRequest(t *testing.T) {
	bounds := []float64{0.05, 0.1, 0.3, 1}
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			t.Run(proto+"/"+profile.String(), func(t *testing.T) {
				clearEnv(t)
				rcv := otlptest.Start(t, proto)
				p, err := exporter.Setup(context.Background(), exporter.Config{
					Exporters:   []string{"otlp"},
					ServiceName: "checkout",
					Naming:      profile.String(),
					Boundaries:  bounds,
					OTLP: exporter.OTLP{
						Protocol:    proto,
						Endpoint:    rcv.Endpoint(),
						Headers:     map[string]string{"authorization": "Bearer " + secret},
						Compression: "gzip",
						Interval:    time.Hour,
					},
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

				if n := len(rcv.Requests()); n != 1 {
					t.Fatalf("the receiver got %d requests, want exactly 1 (the shutdown flush)", n)
				}
				names := profile.Names()
				hist, requests, errs := expected(profile)
				for _, s := range hist {
					hp, ok := rcv.Histogram(names.Duration, s.attrs)
					if !ok {
						t.Errorf("no %s point for %v", names.Duration, s.attrs)
						continue
					}
					if float64(hp.GetCount()) != s.count {
						t.Errorf("%s%v count = %d, want %v", names.Duration, s.attrs, hp.GetCount(), s.count)
					}
					if !slices.Equal(hp.GetExplicitBounds(), bounds) {
						t.Errorf("%s bounds = %v, want %v", names.Duration, hp.GetExplicitBounds(), bounds)
					}
					var sum uint64
					for _, c := range hp.GetBucketCounts() {
						sum += c
					}
					if sum != hp.GetCount() || len(hp.GetBucketCounts()) != len(bounds)+1 {
						t.Errorf("bucket counts %v do not add up to count %d in %d buckets", hp.GetBucketCounts(), hp.GetCount(), len(bounds)+1)
					}
				}
				for _, s := range requests {
					if v, ok := rcv.Value(names.Requests, s.attrs); !ok || v != s.count {
						t.Errorf("%s%v = %v (found %v), want %v", names.Requests, s.attrs, v, ok, s.count)
					}
				}
				for _, s := range errs {
					if v, ok := rcv.Value(names.Errors, s.attrs); !ok || v != s.count {
						t.Errorf("%s%v = %v (found %v), want %v", names.Errors, s.attrs, v, ok, s.count)
					}
				}
				if got := rcv.Resource()["service.name"]; got != "checkout" {
					t.Errorf("resource service.name = %q, want checkout", got)
				}
				if got := rcv.Headers()[0].Get("Authorization"); got != "Bearer "+secret {
					t.Errorf("Authorization header = %q, want the configured one", got)
				}
			})
		}
	}
}

// TestPushFromTheEnvironment configures everything through OTEL_*
// variables, with the generic endpoint, which for http/protobuf must get
// /v1/metrics appended.
func TestPushFromTheEnvironment(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			clearEnv(t)
			rcv := otlptest.Start(t, proto)
			t.Setenv("OTEL_METRICS_EXPORTER", "otlp")
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+rcv.Addr())
			t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=blue%20team")
			t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
			t.Setenv("OTEL_SERVICE_NAME", "from-env")
			p := setup(t, exporter.Config{})
			if p.Handler() != nil {
				t.Error("Handler() is not nil although Prometheus does not run")
			}
			send(t, app(t, p, otelred.Semconv))
			if err := p.ForceFlush(t.Context()); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}
			hist, _, _ := expected(otelred.Semconv)
			if hp, ok := rcv.Histogram("http.server.request.duration", hist[0].attrs); !ok || hp.GetCount() != 7 {
				t.Errorf("histogram point = %v (found %v), want count 7", hp, ok)
			}
			if got := rcv.Resource()["service.name"]; got != "from-env" {
				t.Errorf("service.name = %q, want from-env", got)
			}
			if got := rcv.Headers()[0].Get("X-Tenant"); got != "blue team" {
				t.Errorf("X-Tenant header = %q, want %q", got, "blue team")
			}
		})
	}
}

// TestTemporality checks that the preference reaches the exporter: after
// 3 requests, a flush, and 2 more, a delta histogram holds 2 and a
// cumulative one 5; the in-flight up-down counter stays cumulative.
func TestTemporality(t *testing.T) {
	for _, tc := range []struct {
		pref      string
		histCount uint64
		histTemp  metricpb.AggregationTemporality
	}{
		{"cumulative", 5, metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE},
		{"delta", 2, metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA},
		{"lowmemory", 2, metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA},
	} {
		t.Run(tc.pref, func(t *testing.T) {
			clearEnv(t)
			rcv := otlptest.Start(t, otlptest.HTTP)
			p := setup(t, exporter.Config{
				Exporters: []string{"otlp"},
				OTLP:      exporter.OTLP{Endpoint: rcv.Endpoint(), Interval: time.Hour, Temporality: tc.pref},
			})
			h := app(t, p, otelred.Semconv)
			attrs := map[string]string{"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"}
			for i, n := range []int{3, 2} {
				for range n {
					serve(t.Context(), h, "/users/1")
				}
				if err := p.ForceFlush(t.Context()); err != nil {
					t.Fatalf("flush %d: %v", i, err)
				}
			}
			hp, ok := rcv.Histogram("http.server.request.duration", attrs)
			if !ok || hp.GetCount() != tc.histCount {
				t.Errorf("latest histogram count = %d (found %v), want %d", hp.GetCount(), ok, tc.histCount)
			}
			var temps []metricpb.AggregationTemporality
			for _, rm := range rcv.Requests()[1].GetResourceMetrics() {
				for _, sm := range rm.GetScopeMetrics() {
					for _, m := range sm.GetMetrics() {
						switch m.GetName() {
						case "http.server.request.duration":
							temps = append(temps, m.GetHistogram().GetAggregationTemporality())
						case "http.server.active_requests":
							temps = append(temps, m.GetSum().GetAggregationTemporality())
						}
					}
				}
			}
			want := []metricpb.AggregationTemporality{tc.histTemp, metricpb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE}
			if !slices.Equal(temps, want) {
				t.Errorf("temporalities (histogram, active requests) = %v, want %v", temps, want)
			}
		})
	}
}
