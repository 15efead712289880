package exporter_test

import (
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// runtimeSeries are the series the Go runtime instrumentation (contrib's
// runtime package, v0.72) puts in a scrape, as the Prometheus exporter
// names them. go_memory_limit_bytes is left out: it appears only when
// GOMEMLIMIT is set.
var runtimeSeries = []string{
	"go_config_gogc_percent",
	"go_goroutines",
	"go_memory_allocated_bytes_total",
	"go_memory_allocations_total",
	"go_memory_gc_goal_bytes",
	`go_memory_used_bytes{go_memory_type="other"}`,
	`go_memory_used_bytes{go_memory_type="stack"}`,
	"go_processor_limit",
}

func TestRuntimeMetrics(t *testing.T) {
	clearEnv(t)
	t.Setenv("GOMEMLIMIT", "")

	t.Run("on, every runtime series is scraped beside the RED ones", func(t *testing.T) {
		p := setup(t, exporter.Config{ServiceName: "shop", RuntimeMetrics: true})
		serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
		_, body := scrape(t, p.Handler(), "")
		for _, s := range runtimeSeries {
			if _, ok := sample(body, s+" "); !ok {
				t.Errorf("the scrape has no %s:\n%s", s, body)
			}
		}
		if v, _ := sample(body, "go_processor_limit "); v != strconv.Itoa(runtime.GOMAXPROCS(0)) {
			t.Errorf("go_processor_limit = %q, want GOMAXPROCS %d", v, runtime.GOMAXPROCS(0))
		}
		if v, _ := sample(body, "go_goroutines "); v == "" || v == "0" {
			t.Errorf("go_goroutines = %q, want a positive count", v)
		}
		if v, ok := sample(body, `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"}`); !ok || v != "1" {
			t.Errorf("the RED request count = %q (found %v), want 1", v, ok)
		}
		testsupport.Promtool(t, body)
	})

	t.Run("off by default, no runtime series", func(t *testing.T) {
		p := setup(t, exporter.Config{ServiceName: "shop"})
		serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
		_, body := scrape(t, p.Handler(), "")
		for line := range strings.Lines(body) {
			if strings.HasPrefix(line, "go_") || strings.Contains(line, " go_") {
				t.Errorf("a runtime series without RuntimeMetrics: %s", line)
			}
		}
	})

	t.Run("two providers in one process each have their own", func(t *testing.T) {
		a := setup(t, exporter.Config{RuntimeMetrics: true})
		b := setup(t, exporter.Config{RuntimeMetrics: true})
		for _, p := range []*exporter.Provider{a, b} {
			if _, body := scrape(t, p.Handler(), ""); !strings.Contains(body, "go_goroutines ") {
				t.Errorf("a provider lacks the runtime metrics:\n%s", body)
			}
		}
	})
}

func TestRuntimeMetricsDecode(t *testing.T) {
	var fromJSON, fromYAML exporter.Config
	if err := json.Unmarshal([]byte(`{"runtime_metrics": true}`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte("runtime_metrics: true\n"), &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !fromJSON.RuntimeMetrics || !fromYAML.RuntimeMetrics {
		t.Errorf("runtime_metrics: true decoded as %v (JSON) and %v (YAML)", fromJSON.RuntimeMetrics, fromYAML.RuntimeMetrics)
	}
	if b, err := json.Marshal(exporter.Config{}); err != nil || strings.Contains(string(b), "runtime_metrics") {
		t.Errorf("the zero Config marshals as %s (%v), want no runtime_metrics", b, err)
	}
}
