package redgen

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// scrape serves a few requests through otelred with profile p, bucket
// boundaries b and the exporter's namespace ns, as the exporter package
// sets it up (exporter.Setup: private registry, no scope labels), sends a few client
// requests through its Transport and runs a few operations, with the Go
// runtime metrics on, and returns the exposition in the text format and in
// OpenMetrics.
func scrape(t *testing.T, prof otelred.Profile, ns string, b []float64) (text, openMetrics string) {
	t.Helper()
	p, err := exporter.Setup(context.Background(), exporter.Config{
		Exporters:      []string{"prometheus"},
		Naming:         prof.String(),
		Boundaries:     b,
		RuntimeMetrics: true,
		Prometheus:     exporter.Prometheus{Namespace: ns},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	mp := p.MeterProvider

	mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(prof), otelred.WithService("example"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	srv := httptest.NewServer(mw(mux))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/hello/a", "/fail", "/nowhere"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// The client: one success, one 500 and one transport failure.
	rt, err := otelred.NewTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		switch r.URL.Path {
		case "/down":
			return nil, errors.New("connection refused")
		case "/fail":
			return &http.Response{StatusCode: http.StatusInternalServerError, Body: http.NoBody}, nil
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	}), otelred.WithMeterProvider(mp), otelred.WithProfile(prof), otelred.WithService("example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/ok", "/fail", "/down"} {
		req, _ := http.NewRequest(http.MethodGet, "http://api.example"+path, nil)
		if resp, err := rt.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	// The operations: one success, one failure.
	ops, err := otelred.NewOperations(otelred.WithMeterProvider(mp), otelred.WithProfile(prof), otelred.WithService("example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{nil, errors.New("out of stock")} {
		_ = ops.Track(context.Background(), "orders.process", func(context.Context) error { return err })
	}
	// The gRPC server: one call that succeeds, one that fails.
	grpcRED, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{nil, status.Error(codes.NotFound, "no such order")} {
		_, _ = grpcRED.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/shop.Orders/Create"},
			func(context.Context, any) (any, error) { return nil, err })
	}

	metrics := httptest.NewServer(p.Handler())
	t.Cleanup(metrics.Close)
	get := func(accept string) string {
		req, _ := http.NewRequest(http.MethodGet, metrics.URL, nil)
		req.Header.Set("Accept", accept)
		resp, err := metrics.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	return get("text/plain;version=0.0.4"), get("application/openmetrics-text;version=1.0.0")
}

// The names and labels the rules and dashboard query must be the ones the
// exporter writes, and each latency threshold's le matcher must match the
// bucket as scraped, in both formats Prometheus asks for.
func TestGeneratedNamesMatchTheScrape(t *testing.T) {
	o := exporter.Objectives{
		Availability: 0.999,
		Latency:      &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99},
		// An integer threshold, which the two formats write differently.
		Routes: []exporter.RouteObjective{{Route: "/fail", Latency: &exporter.LatencyObjective{Threshold: 1, Target: 0.9}}},
	}
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		ns      string
		prefix  string // what the exporter puts before every name
	}{
		{"semconv", otelred.Semconv, "", ""},
		{"classic", otelred.Classic, "", ""},
		{"semconv with a namespace", otelred.Semconv, "shop", "shop_"},
		{"classic with a namespace", otelred.Classic, "shop", "shop_"},
		// The exporter escapes the namespace as it escapes a label name.
		{"semconv with a namespace the exporter escapes", otelred.Semconv, "shop:eu", "shop_eu_"},
		{"classic with a namespace the exporter escapes", otelred.Classic, "shop:eu", "shop_eu_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Objectives: o, Profile: tc.profile, Namespace: tc.ns}
			m, err := c.plan()
			if err != nil {
				t.Fatal(err)
			}
			text, om := scrape(t, tc.profile, tc.ns, m.boundaries)

			parser := expfmt.NewTextParser(model.LegacyValidation)
			families, err := parser.TextToMetricFamilies(strings.NewReader(text))
			if err != nil {
				t.Fatalf("parsing the scrape: %v\n%s", err, text)
			}
			// family is the metric family of a Prometheus series name.
			family := func(name string) string {
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if base, ok := strings.CutSuffix(name, suffix); ok && families[base] != nil && families[base].GetType() == dto.MetricType_HISTOGRAM {
						return base
					}
				}
				return name
			}
			// series finds the samples of a Prometheus series name.
			series := func(name string) []*dto.Metric {
				if f := families[family(name)]; f != nil {
					return f.Metric
				}
				return nil
			}
			hasLabel := func(ms []*dto.Metric, label, value string) bool {
				return slices.ContainsFunc(ms, func(mt *dto.Metric) bool {
					return slices.ContainsFunc(mt.Label, func(l *dto.LabelPair) bool {
						return l.GetName() == label && (value == "" || l.GetValue() == value)
					})
				})
			}
			// unmatched reports whether ms has a series of requests that
			// matched no route, as redgen's rules select them.
			unmatched := func(ms []*dto.Metric) bool {
				if m.n.unmatched != "" {
					return hasLabel(ms, m.n.route, m.n.unmatched)
				}
				return slices.ContainsFunc(ms, func(mt *dto.Metric) bool {
					return !slices.ContainsFunc(mt.Label, func(l *dto.LabelPair) bool { return l.GetName() == m.n.route })
				})
			}
			// Every family of otelred's instruments is one the rules or the
			// dashboard read: none is left out, or named some other way.
			read := map[string]bool{}
			for _, rn := range []redNames{m.n.redNames, m.client.redNames, m.ops.redNames, m.grpc.redNames} {
				for _, name := range []string{rn.requests, rn.errors, rn.bucket, rn.count, rn.active} {
					if name != "" {
						read[family(name)] = true
					}
				}
			}
			var unread []string
			for name := range families {
				if name != "target_info" && !strings.HasPrefix(name, tc.prefix+"go_") && !read[name] {
					unread = append(unread, name)
				}
			}
			if len(unread) > 0 {
				slices.Sort(unread)
				t.Errorf("the scrape has %q, which no rule or panel reads (redgen reads %v)", unread, slices.Sorted(maps.Keys(read)))
			}
			for _, name := range []string{m.n.requests, m.n.errors, m.n.bucket, m.n.count, m.n.active} {
				ms := series(name)
				if len(ms) == 0 {
					t.Errorf("the rules query %s, which the scrape does not have:\n%s", name, text)
					continue
				}
				if name != m.n.active || m.n.activeRte {
					if !hasLabel(ms, m.n.route, "/fail") {
						t.Errorf("%s has no %s label with the route templates", name, m.n.route)
					}
					if !unmatched(ms) {
						t.Errorf("%s has no series of requests that matched no route (%s %q)", name, m.n.route, m.n.unmatched)
					}
				} else if hasLabel(ms, m.n.route, "") {
					t.Errorf("%s has a %s label, which the dashboard does not group the in-flight requests by", name, m.n.route)
				}
				if !hasLabel(ms, m.n.status, "") && name != m.n.active {
					t.Errorf("%s has no %s label", name, m.n.status)
				}
				if !hasLabel(ms, m.n.method, "GET") {
					t.Errorf("%s has no %s label", name, m.n.method)
				}
				if tc.profile.Names().Service != "" && !hasLabel(ms, m.svc, "example") {
					t.Errorf("%s has no %s label, the profile's default service label", name, m.svc)
				}
			}
			if m.n.errMatch != "" {
				key := m.n.errMatch[:strings.IndexByte(m.n.errMatch, '!')]
				if !hasLabel(series(m.n.errors), key, "500") {
					t.Errorf("no failure series with %s=\"500\"", key)
				}
			} else if !hasLabel(series(m.n.errors), "status_code", "500") {
				t.Errorf("%s does not count the failure", m.n.errors)
			}

			// The client's, the operations' and the gRPC server's names and
			// labels.
			for _, sn := range []signalNames{m.client, m.ops, m.grpc} {
				for _, name := range []string{sn.requests, sn.errors, sn.bucket, sn.active} {
					if name == "" {
						continue // the profile has no such instrument
					}
					ms := series(name)
					if len(ms) == 0 {
						t.Errorf("the %s rules query %s, which the scrape does not have:\n%s", sn.signal, name, text)
						continue
					}
					if !hasLabel(ms, sn.by, "") {
						t.Errorf("%s has no %s label to group by", name, sn.by)
					}
					if sn.svc != "job" && !hasLabel(ms, sn.svc, "example") {
						t.Errorf("%s has no %s label", name, sn.svc)
					}
				}
				if sn.errMatch != "" {
					key := sn.errMatch[:strings.IndexByte(sn.errMatch, '!')]
					if !hasLabel(series(sn.errors), key, "") {
						t.Errorf("%s: no failure series with %s", sn.errors, key)
					}
				} else if len(series(sn.errors)) == 0 {
					t.Errorf("%s does not count the failures", sn.errors)
				}
			}
			if !hasLabel(series(m.client.requests), m.client.by, "api.example") {
				t.Errorf("%s has no %s=\"api.example\"", m.client.requests, m.client.by)
			}
			if !hasLabel(series(m.ops.requests), m.ops.by, "orders.process") {
				t.Errorf("%s has no %s=\"orders.process\"", m.ops.requests, m.ops.by)
			}
			if !hasLabel(series(m.grpc.requests), m.grpc.by, "shop.Orders/Create") || !hasLabel(series(m.grpc.errors), "error_type", "NOT_FOUND") {
				t.Errorf("%s has no %s=\"shop.Orders/Create\" and error_type=\"NOT_FOUND\":\n%s", m.grpc.requests, m.grpc.by, text)
			}
			// The runtime's.
			for _, name := range []string{m.rt.goroutines, m.rt.memoryUsed, m.rt.gcGoal, m.rt.allocated} {
				if len(series(name)) == 0 {
					t.Errorf("the dashboard queries %s, which the scrape does not have:\n%s", name, text)
				}
			}
			if !hasLabel(series(m.rt.memoryUsed), "go_memory_type", "stack") {
				t.Errorf("%s has no go_memory_type label", m.rt.memoryUsed)
			}

			leRE := regexp.MustCompile(regexp.QuoteMeta(m.n.bucket) + `\{[^}]*le="([^"]*)"`)
			for format, body := range map[string]string{"text": text, "OpenMetrics": om} {
				var les []string
				for _, sm := range leRE.FindAllStringSubmatch(body, -1) {
					les = append(les, sm[1])
				}
				if len(les) == 0 {
					t.Fatalf("no %s buckets in the %s scrape:\n%s", m.n.bucket, format, body)
				}
				for _, th := range o.Thresholds() {
					op, v := le(th)
					match := func(s string) bool { return s == v }
					if op == "=~" {
						re := regexp.MustCompile("^(?:" + v + ")$")
						match = re.MatchString
					}
					if !slices.ContainsFunc(les, match) {
						t.Errorf("threshold %v: le%s%q matches no bucket of the %s scrape (le values %q)", th, op, v, format, slices.Compact(les))
					}
				}
			}
		})
	}
}

// The le values the two formats write for integer boundaries differ, which
// is why le() returns a regular expression for them. If this test fails,
// client_golang changed its formatting and le() can be simplified.
func TestIntegerBoundariesDifferBetweenFormats(t *testing.T) {
	text, om := scrape(t, otelred.Semconv, "", []float64{0.3, 1, 2.5})
	for _, tc := range []struct{ format, body, want string }{
		{"text", text, `le="1"`},
		{"OpenMetrics", om, `le="1.0"`},
		{"text", text, `le="0.3"`},
		{"OpenMetrics", om, `le="0.3"`},
		{"text", text, `le="2.5"`},
		{"OpenMetrics", om, `le="2.5"`},
	} {
		if !strings.Contains(tc.body, tc.want) {
			t.Errorf("the %s scrape has no %s", tc.format, tc.want)
		}
	}
	if op, v := le(1); op != "=~" || v != `1(\.0)?` {
		t.Errorf("le(1) = %s %q, want =~ %q", op, v, `1(\.0)?`)
	}
	if op, v := le(0.3); op != "=" || v != "0.3" {
		t.Errorf("le(0.3) = %s %q, want = %q", op, v, "0.3")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
