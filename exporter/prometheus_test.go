package exporter_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"weak"

	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	openMetrics = "application/openmetrics-text; version=1.0.0"
	traceIDHex  = "0102030405060708090a0b0c0d0e0f10"
	spanIDHex   = "a1a2a3a4a5a6a7a8"
)

// spanContext returns a context carrying a remote span context, sampled or
// not, as an upstream tracing middleware would leave it.
func spanContext(t *testing.T, sampled bool) context.Context {
	t.Helper()
	tid, err := trace.TraceIDFromHex(traceIDHex)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := trace.SpanIDFromHex(spanIDHex)
	if err != nil {
		t.Fatal(err)
	}
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	return trace.ContextWithSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true,
	}))
}

// sample returns the value of the first sample line that starts with
// prefix.
func sample(body, prefix string) (string, bool) {
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, prefix) {
			fields := strings.Fields(strings.TrimPrefix(line, prefix))
			if len(fields) > 0 {
				return fields[0], true
			}
		}
	}
	return "", false
}

// exemplarLine matches a bucket with the exemplar of the test's span; the
// exporter writes the exemplar's two labels in either order.
var exemplarLine = regexp.MustCompile(`(?m)^http_server_request_duration_seconds_bucket\{.*\} 1 # \{(` +
	`trace_id="` + traceIDHex + `",span_id="` + spanIDHex + `"|span_id="` + spanIDHex + `",trace_id="` + traceIDHex + `")\} \S+ \S+$`)

func TestHandlerNegotiatesTheFormat(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{ServiceName: "shop"})
	h := app(t, p, otelred.Semconv)
	serve(spanContext(t, true), h, "/users/1")

	t.Run("OpenMetrics when asked, with an exemplar on the bucket", func(t *testing.T) {
		ct, body := scrape(t, p.Handler(), openMetrics)
		if !strings.HasPrefix(ct, "application/openmetrics-text; version=1.0.0") {
			t.Errorf("Content-Type = %q, want OpenMetrics 1.0.0", ct)
		}
		if !exemplarLine.MatchString(body) {
			t.Errorf("no bucket carries the exemplar of trace %s:\n%s", traceIDHex, body)
		}
		if !strings.HasSuffix(body, "# EOF\n") {
			t.Error("the OpenMetrics exposition does not end with # EOF")
		}
	})
	t.Run("the text format otherwise, without exemplars", func(t *testing.T) {
		ct, body := scrape(t, p.Handler(), "")
		if !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
			t.Errorf("Content-Type = %q, want text 0.0.4", ct)
		}
		if strings.Contains(body, "# {") || strings.Contains(body, "# EOF") {
			t.Errorf("the text format carries OpenMetrics syntax:\n%s", body)
		}
		if v, ok := sample(body, `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"}`); !ok || v != "1" {
			t.Errorf("request count = %q (found %v), want 1", v, ok)
		}
	})
}

func TestNoExemplarWithoutASampledSpan(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{})
	serve(spanContext(t, false), app(t, p, otelred.Semconv), "/users/1")
	_, body := scrape(t, p.Handler(), openMetrics)
	if strings.Contains(body, "trace_id=") {
		t.Errorf("an unsampled span left an exemplar:\n%s", body)
	}
}

func TestOpenMetricsCanBeTurnedOff(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{Prometheus: exporter.Prometheus{DisableOpenMetrics: true}})
	serve(spanContext(t, true), app(t, p, otelred.Semconv), "/users/1")
	ct, body := scrape(t, p.Handler(), openMetrics)
	if !strings.HasPrefix(ct, "text/plain; version=0.0.4") || strings.Contains(body, "trace_id=") {
		t.Errorf("asked for OpenMetrics with it disabled, got Content-Type %q and:\n%s", ct, body)
	}
}

func TestPrometheusOptions(t *testing.T) {
	const count = `http_server_request_duration_seconds_count{`
	for _, tc := range []struct {
		name          string
		cfg           exporter.Config
		want, notWant []string
	}{
		{
			name:    "by default, no scope labels and a target_info",
			want:    []string{count + `http_request_method="GET",`, `target_info{service_instance_id="`, `",service_name="shop",`},
			notWant: []string{"otel_scope_"},
		},
		{
			name: "scope labels when asked",
			cfg:  exporter.Config{Prometheus: exporter.Prometheus{ScopeLabels: true}},
			want: []string{`otel_scope_name="` + otelred.ScopeName + `"`, `otel_scope_version="` + otelred.Version + `"`},
		},
		{
			name:    "no target_info when disabled",
			cfg:     exporter.Config{Prometheus: exporter.Prometheus{DisableTargetInfo: true}},
			want:    []string{count},
			notWant: []string{"target_info"},
		},
		{
			name:    "a namespace prefixes every metric but target_info",
			cfg:     exporter.Config{Prometheus: exporter.Prometheus{Namespace: "shop"}},
			want:    []string{"shop_" + count, "shop_http_server_active_requests{", "\ntarget_info{"},
			notWant: []string{"\n" + count},
		},
		{
			name: "resource attributes copied as labels",
			cfg: exporter.Config{
				ResourceAttributes: map[string]string{"deployment.environment": "prod", "team": "pay"},
				Prometheus:         exporter.Prometheus{ResourceLabels: []string{"deployment.environment"}},
			},
			want:    []string{count + `deployment_environment="prod",`},
			notWant: []string{count + `team=`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			tc.cfg.ServiceName = "shop"
			p := setup(t, tc.cfg)
			serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
			_, body := scrape(t, p.Handler(), "")
			body = "\n" + body
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the scrape lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(body, w) {
					t.Errorf("the scrape has %q:\n%s", w, body)
				}
			}
		})
	}
}

// exposition returns the text scrape of a fresh Setup after a fixed set of
// requests through the middleware of profile, on 0.1 and 1 s buckets.
func exposition(t *testing.T, profile otelred.Profile, prom exporter.Prometheus) string {
	t.Helper()
	clearEnv(t)
	p := setup(t, exporter.Config{
		ServiceName: "shop",
		Naming:      profile.String(),
		Boundaries:  []float64{0.1, 1},
		Prometheus:  prom,
	})
	h := app(t, p, profile)
	for _, path := range []string{"/users/1", "/users/2", "/fail", "/nope"} {
		serve(t.Context(), h, path)
	}
	_, body := scrape(t, p.Handler(), "")
	return body
}

// TestTextScrapePassesPromtool lints the text scrape of each profile and
// label option with promtool check metrics, of Prometheus 2 and 3.
func TestTextScrapePassesPromtool(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		prom    exporter.Prometheus
	}{
		{"semconv", otelred.Semconv, exporter.Prometheus{}},
		{"classic", otelred.Classic, exporter.Prometheus{}},
		{"semconv with every label option", otelred.Semconv, exporter.Prometheus{Namespace: "shop", ScopeLabels: true, ResourceLabels: []string{"service.name"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testsupport.Promtool(t, exposition(t, tc.profile, tc.prom))
		})
	}
}

var (
	finiteBucket = regexp.MustCompile(`(?m)^(\w+_bucket\{.*le="[0-9.e+-]+"\}) \d+$`)
	sum          = regexp.MustCompile(`(?m)^(\w+_sum\{.*\}) \S+$`)
	sdkVersion   = regexp.MustCompile(`telemetry_sdk_version="[^"]*"`)
	instanceUUID = regexp.MustCompile(`service_instance_id="[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`)
)

// normalize replaces what varies from run to run: durations decide the
// finite buckets and the sums; the SDK version changes with go.mod; the
// default service.instance.id is a new random UUID at every Setup.
func normalize(s string) string {
	s = finiteBucket.ReplaceAllString(s, "$1 <n>")
	s = sum.ReplaceAllString(s, "$1 <seconds>")
	s = instanceUUID.ReplaceAllString(s, `service_instance_id="<uuid>"`)
	return sdkVersion.ReplaceAllString(s, `telemetry_sdk_version="<version>"`)
}

func TestGoldenExposition(t *testing.T) {
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(profile.String(), func(t *testing.T) {
			got := normalize(exposition(t, profile, exporter.Prometheus{}))
			path := filepath.Join("testdata", profile.String()+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("the exposition differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func TestTwoSetupsInOneProcess(t *testing.T) {
	clearEnv(t)
	a := setup(t, exporter.Config{ServiceName: "alpha"})
	b := setup(t, exporter.Config{ServiceName: "beta"})
	ha, hb := app(t, a, otelred.Semconv), app(t, b, otelred.Semconv)
	for range 3 {
		serve(t.Context(), ha, "/users/1")
	}
	serve(t.Context(), hb, "/users/1")

	const series = `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"}`
	for _, tc := range []struct {
		p           *exporter.Provider
		name, count string
	}{{a, "alpha", "3"}, {b, "beta", "1"}} {
		_, body := scrape(t, tc.p.Handler(), "")
		if v, _ := sample(body, series); v != tc.count {
			t.Errorf("%s: request count = %q, want %s", tc.name, v, tc.count)
		}
		if !strings.Contains(body, `service_name="`+tc.name+`"`) {
			t.Errorf("%s: target_info does not name the service:\n%s", tc.name, body)
		}
	}
}

func TestRegistererServesOneExporterAtATime(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	cfg := exporter.Config{Prometheus: exporter.Prometheus{Registerer: reg}}
	first, err := exporter.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if first.Handler() == nil {
		t.Error("a *prometheus.Registry is a Gatherer, but Handler() is nil")
	}

	_, err = exporter.New(ctx, cfg)
	checkErr(t, err, []string{"Prometheus.Registerer", "already serves another Exporter"}, nil)

	if err := first.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := exporter.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New after the first Exporter shut down: %v", err)
	}
	_ = again.Shutdown(ctx)
}

func TestRegistererThatIsNotAGatherer(t *testing.T) {
	clearEnv(t)
	reg := prometheus.NewRegistry()
	wrapped := prometheus.WrapRegistererWithPrefix("app_", reg)
	e, err := exporter.New(context.Background(), exporter.Config{Prometheus: exporter.Prometheus{Registerer: wrapped}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Shutdown(context.Background()) })
	if e.Handler() != nil {
		t.Error("Handler() is not nil for a Registerer that cannot be gathered")
	}
	if len(e.Readers()) != 1 {
		t.Errorf("Readers() = %d, want 1", len(e.Readers()))
	}
}

// failing is a collector whose every collection fails.
type failing struct{ desc *prometheus.Desc }

func (f failing) Describe(ch chan<- *prometheus.Desc) { ch <- f.desc }
func (f failing) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.NewInvalidMetric(f.desc, errors.New("broken collector"))
}

func TestOneBadMetricDoesNotFailTheScrape(t *testing.T) {
	clearEnv(t)
	errs := captureErrors(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(failing{prometheus.NewDesc("broken", "A collector that fails.", nil, nil)})
	p := setup(t, exporter.Config{Prometheus: exporter.Prometheus{Registerer: reg}})
	serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
	_, body := scrape(t, p.Handler(), "") // fails the test unless 200
	if !strings.Contains(body, "http_server_request_duration_seconds_count{") {
		t.Errorf("the good metrics are missing:\n%s", body)
	}
	if !strings.Contains(errs.String(), "broken collector") {
		t.Errorf("the collector's error did not reach otel.Handle; got %q", errs.String())
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	c.CloseIdleConnections()
	return resp.StatusCode, string(b)
}

func TestStandaloneListener(t *testing.T) {
	clearEnv(t)
	p, err := exporter.Setup(context.Background(), exporter.Config{
		Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0", Path: "/internal/metrics"},
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := p.Addr()
	if addr == nil {
		t.Fatal("Addr() is nil with a ListenAddr")
	}
	serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
	code, body := get(t, "http://"+addr.String()+"/internal/metrics")
	if code != http.StatusOK || !strings.Contains(body, "http_server_request_duration_seconds_count{") {
		t.Errorf("GET the metrics path: %d\n%s", code, body)
	}
	if code, _ := get(t, "http://"+addr.String()+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics = %d, want 404: only the configured path is served", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err == nil {
		_ = conn.Close()
		t.Fatal("the listener still accepts connections after Shutdown")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dialing after Shutdown: %v, want connection refused", err)
	}
}

func TestListenerFromTheEnvironment(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "0")
	p := setup(t, exporter.Config{})
	if p.Addr() == nil {
		t.Fatal("OTEL_EXPORTER_PROMETHEUS_HOST and _PORT did not start a listener")
	}
	if code, _ := get(t, "http://"+p.Addr().String()+"/metrics"); code != http.StatusOK {
		t.Errorf("GET /metrics = %d, want 200", code)
	}
}

func TestNoListenerByDefault(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{})
	if p.Addr() != nil {
		t.Errorf("Addr() = %v with no ListenAddr and no variables, want nil", p.Addr())
	}
	if p.Handler() == nil {
		t.Error("Handler() is nil with the default exporter list, want the Prometheus handler")
	}
}

// TestShutdownReleasesTheReader checks that a Registerer the user owns
// does not keep a shut-down exporter's reader alive: the OpenTelemetry
// collector cannot be unregistered from it, so the exporter must let go of
// it itself.
func TestShutdownReleasesTheReader(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	released := func() weak.Pointer[sdkmetric.ManualReader] {
		e, err := exporter.New(ctx, exporter.Config{Prometheus: exporter.Prometheus{Registerer: reg}})
		if err != nil {
			t.Fatal(err)
		}
		r := e.Readers()[0].(*otelprom.Exporter)
		if err := r.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		return weak.Make(r.Reader.(*sdkmetric.ManualReader))
	}()
	for range 5 {
		runtime.GC()
		if released.Value() == nil {
			break
		}
	}
	if released.Value() != nil {
		t.Error("the user's registry still holds the shut-down exporter's reader")
	}
	runtime.KeepAlive(reg)
}

// TestShutdownDetachesFromTheRegisterer cycles exporters on one Registerer
// the user owns, recording through each: after each Shutdown, the user's
// registry must gather nothing of the dead exporter.
func TestShutdownDetachesFromTheRegisterer(t *testing.T) {
	clearEnv(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	for i := range 3 {
		p, err := exporter.Setup(ctx, exporter.Config{Prometheus: exporter.Prometheus{Registerer: reg}})
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		hist, _ := p.Meter("test").Float64Histogram("cycle.duration")
		hist.Record(ctx, 1)
		families, err := reg.Gather()
		if err != nil || len(families) == 0 {
			t.Fatalf("cycle %d: gathering the live exporter: %d families, %v", i, len(families), err)
		}
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		families, err = reg.Gather()
		if err != nil {
			t.Fatalf("cycle %d: gathering after Shutdown: %v", i, err)
		}
		for _, f := range families {
			t.Errorf("cycle %d: %s still gathered after Shutdown", i, f.GetName())
		}
	}
}
