package exporter_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// otelEnv lists every variable the package reads, and the SDK's exemplar
// filter, so a test starts from a clean environment whatever the machine
// has set.
var otelEnv = []string{
	"OTEL_METRICS_EXPORTER",
	"OTEL_EXPORTER_PROMETHEUS_HOST", "OTEL_EXPORTER_PROMETHEUS_PORT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_METRICS_INSECURE",
	"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
	"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
	"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT",
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_METRICS_EXEMPLAR_FILTER", "OTELRED_OTELHTTP_METRICS",
	"OTELRED_HISTOGRAM", "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION",
	"OTELRED_CARDINALITY_LIMIT", "OTEL_GO_X_CARDINALITY_LIMIT",
	"OTELRED_OBJECTIVES",
}

// clearEnv empties every variable the package reads, for this test only
// (an empty variable counts as unset).
func clearEnv(t testing.TB) {
	t.Helper()
	for _, k := range otelEnv {
		t.Setenv(k, "")
	}
}

// setup calls exporter.Setup and shuts the provider down when the test
// ends.
func setup(t testing.TB, cfg exporter.Config) *exporter.Provider {
	t.Helper()
	p, err := exporter.Setup(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx)
	})
	return p
}

// app is a small service behind the otelred middleware:
// GET /users/{id} answers 200, GET /fail 500, anything else 404.
func app(t testing.TB, mp metric.MeterProvider, profile otelred.Profile) http.Handler {
	t.Helper()
	mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(profile), otelred.WithService("shop"))
	if err != nil {
		t.Fatalf("otelred.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	return mw(mux)
}

// serve sends one GET for path to h, without a network, with ctx.
func serve(ctx context.Context, h http.Handler, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
	return rec.Code
}

// scrape asks h for its exposition with the Accept header accept ("" for
// none) and returns the Content-Type and the body.
func scrape(t *testing.T, h http.Handler, accept string) (string, string) {
	t.Helper()
	if h == nil {
		t.Fatal("the Prometheus handler is nil")
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Header().Get("Content-Type"), rec.Body.String()
}

// errSink collects the errors passed to otel.Handle during one test
// (testsupport.ErrorSink).
type errSink struct{ *testsupport.ErrorSink }

// captureErrors routes otel.Handle to a sink for the rest of the test.
func captureErrors(t testing.TB) *errSink { return &errSink{testsupport.CaptureErrors(t)} }

func (s *errSink) count() int { return s.Count() }

// wrapping returns the texts of the errors kept that wrap sentinel, and
// the number of the others.
func (s *errSink) wrapping(sentinel error) (texts []string, others int) { return s.Wrapping(sentinel) }

// waitFor waits until at least n errors have arrived, or ctx ends.
func (s *errSink) waitFor(ctx context.Context, n int) bool { return s.WaitFor(ctx, n) }
