// The end-to-end story a user lives through: configure the exporters, serve
// through the middleware, scrape /metrics, and receive the OTLP push.
package otelred_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/exporter/otlptest"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// shop is the service of the story: users, one of whom does not exist, and
// an endpoint that always fails.
func shop() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "user %s\n", r.PathValue("id"))
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "failed", http.StatusInternalServerError)
	})
	return mux
}

// traffic is what the story sends, and how many of each.
var traffic = []struct {
	path string
	n    int
}{
	{"/users/1", 3},
	{"/users/2", 2},
	{"/users/0", 1},
	{"/fail", 2},
	{"/no/such/page?q=secret", 1},
	{"/metrics", 1}, // excluded: records nothing
}

// storyWant is what the story must record, per profile: the label set of
// each duration series, rendered by labels(), and its count.
var storyWant = map[otelred.Profile]map[string]uint64{
	otelred.Semconv: {
		`http_request_method="GET",http_response_status_code="200",http_route="/users/{id}"`:            5,
		`http_request_method="GET",http_response_status_code="404",http_route="/users/{id}"`:            1,
		`error_type="500",http_request_method="GET",http_response_status_code="500",http_route="/fail"`: 2,
		`http_request_method="GET",http_response_status_code="404",http_route="unmatched"`:              1,
	},
	otelred.Classic: {
		`method="GET",path="/users/{id}",service="shop",status_code="200"`: 5,
		`method="GET",path="/users/{id}",service="shop",status_code="404"`: 1,
		`method="GET",path="/fail",service="shop",status_code="500"`:       2,
		`method="GET",path="unmatched",service="shop",status_code="404"`:   1,
	},
}

func TestUserStory(t *testing.T) {
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(profile.String(), func(t *testing.T) {
			ctx := context.Background()
			receiver := otlptest.Start(t, otlptest.HTTP)

			// Configure: Prometheus for the scrape, OTLP for the push. The
			// push interval is long, so only the final flush sends.
			p, err := exporter.Setup(ctx, exporter.Config{
				Exporters:   []string{"prometheus", "otlp"},
				ServiceName: "shop",
				Naming:      profile.String(),
				OTLP: exporter.OTLP{
					Protocol: otlptest.HTTP,
					Endpoint: receiver.Endpoint(),
					Interval: time.Hour,
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithProfile(profile), otelred.WithService("shop"))
			if err != nil {
				t.Fatal(err)
			}

			// Serve.
			mux := shop()
			mux.Handle("GET /metrics", p.Handler())
			srv := httptest.NewServer(mw(mux))
			defer srv.Close()
			for _, tr := range traffic {
				for range tr.n {
					get(t, srv.URL+tr.path)
				}
			}

			// Scrape.
			body := get(t, srv.URL+"/metrics")
			families := parse(t, body)
			names := profile.Names()
			durationFamily := strings.ReplaceAll(names.Duration, ".", "_")
			if profile == otelred.Semconv {
				durationFamily += "_seconds"
			}
			hist := families[durationFamily]
			if hist == nil {
				t.Fatalf("no %s in the scrape:\n%s", durationFamily, body)
			}
			got := map[string]uint64{}
			for _, m := range hist.GetMetric() {
				got[labels(m)] = m.GetHistogram().GetSampleCount()
				var le []float64
				for _, b := range m.GetHistogram().GetBucket() {
					le = append(le, b.GetUpperBound())
				}
				if want := append(views.Default(profile), math.Inf(1)); !slices.Equal(le, want) {
					t.Errorf("%s buckets = %v, want %v", labels(m), le, want)
				}
			}
			if !maps.Equal(got, storyWant[profile]) {
				t.Errorf("scraped counts:\n got  %v\n want %v", got, storyWant[profile])
			}
			if profile == otelred.Classic {
				checkCounter(t, families, "http_requests_total", storyWant[profile])
				errorsWant := map[string]uint64{}
				for k, v := range storyWant[profile] {
					if !strings.Contains(k, `status_code="200"`) {
						errorsWant[k] = v
					}
				}
				checkCounter(t, families, "http_errors_total", errorsWant)
			}
			for _, raw := range []string{"/users/1", "/users/0", "/no/such", "secret", "/metrics"} {
				for _, line := range strings.Split(body, "\n") {
					if !strings.HasPrefix(line, "#") && strings.Contains(line, raw) {
						t.Errorf("raw request input %q in the scrape: %s", raw, line)
					}
				}
			}

			// Push: shutting down sends the final flush, which holds every
			// request.
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if got := receiver.Resource()["service.name"]; got != "shop" {
				t.Errorf("pushed service.name = %q, want shop", got)
			}
			for key, want := range storyWant[profile] {
				attrs := otlpAttrs(t, key)
				dp, ok := receiver.Histogram(names.Duration, attrs)
				if !ok || dp.GetCount() != want {
					t.Errorf("pushed %s%v count = %d (found %v), want %d", names.Duration, attrs, dp.GetCount(), ok, want)
				}
			}
		})
	}
}

// TestCoexistenceWithOtelhttp wraps the same handler in otelhttp and
// otelred on one MeterProvider and Prometheus exporter. Both record
// http.server.request.duration; the scrape must succeed and each library's
// numbers must be right, with and without scope labels, and with the views
// a service would register.
func TestCoexistenceWithOtelhttp(t *testing.T) {
	const n = 4
	for _, tc := range []struct {
		name        string
		scopeLabels bool
		views       []sdkmetric.View
		// otelhttpSeries is how many of otelhttp's series the family has.
		otelhttpSeries int
	}{
		{name: "side by side without scope labels", otelhttpSeries: 1},
		{name: "side by side with scope labels", scopeLabels: true, otelhttpSeries: 1},
		{name: "with otelhttp re-bucketed and trimmed", views: must(views.Otelhttp(nil)), otelhttpSeries: 1},
		{name: "with otelhttp's metrics dropped", views: []sdkmetric.View{views.WithoutOtelhttp()}, otelhttpSeries: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p, err := exporter.Setup(ctx, exporter.Config{
				Exporters:  []string{"prometheus"},
				Prometheus: exporter.Prometheus{ScopeLabels: tc.scopeLabels},
			}, sdkmetric.WithView(tc.views...))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Shutdown(ctx) })
			mw, err := otelred.New(otelred.WithMeterProvider(p))
			if err != nil {
				t.Fatal(err)
			}
			handler := otelhttp.NewHandler(mw(shop()), "shop",
				otelhttp.WithMeterProvider(p),
				otelhttp.WithTracerProvider(tracenoop.NewTracerProvider()))
			srv := httptest.NewServer(handler)
			defer srv.Close()
			for range n {
				get(t, srv.URL+"/users/1")
			}

			rec := httptest.NewRecorder()
			p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("scrape status %d:\n%s", rec.Code, rec.Body)
			}
			promtool(t, rec.Body.String())
			fam := parse(t, rec.Body.String())["http_server_request_duration_seconds"]
			var ours, theirs int
			for _, m := range fam.GetMetric() {
				otelhttpSeries := hasLabel(m, "url_scheme")
				if tc.scopeLabels {
					scope := label(m, "otel_scope_name")
					if (scope == "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp") != otelhttpSeries {
						t.Errorf("series %s: scope %q does not match its labels", labels(m), scope)
					}
				}
				if got := m.GetHistogram().GetSampleCount(); got != n {
					t.Errorf("series %s counts %d requests, want %d", labels(m), got, n)
				}
				if otelhttpSeries {
					theirs++
					if hasLabel(m, "server_address") != (tc.views == nil) {
						t.Errorf("series %s: server_address present = %v with views %v", labels(m), hasLabel(m, "server_address"), tc.views != nil)
					}
				} else {
					ours++
				}
			}
			if ours != 1 || theirs != tc.otelhttpSeries {
				t.Errorf("otelred series %d, otelhttp series %d; want 1 and %d", ours, theirs, tc.otelhttpSeries)
			}
		})
	}
}

// TestReadmeQuickStartCompiles builds the quick start of README.md, as a
// user would paste it, against this module.
func TestReadmeQuickStartCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Quick start.*?```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no Go block under \"## Quick start\"")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, m[1], 0o644); err != nil {
		t.Fatal(err)
	}
	// An overlay puts the file in a package of this module without writing
	// into the tree.
	wd, _ := os.Getwd()
	overlay := filepath.Join(dir, "overlay.json")
	replace := fmt.Sprintf(`{"Replace":{%q:%q}}`, filepath.Join(wd, "quickstart", "main.go"), src)
	if err := os.WriteFile(overlay, []byte(replace), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", filepath.Join(dir, "quickstart"), "./quickstart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README quick start does not build: %v\n%s\n%s", err, out, m[1])
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parse(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	return families
}

// labels renders a metric's labels as k="v",... sorted by name.
func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func hasLabel(m *dto.Metric, name string) bool { return label(m, name) != "" }

func checkCounter(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]uint64) {
	t.Helper()
	got := map[string]uint64{}
	for _, m := range families[name].GetMetric() {
		got[labels(m)] = uint64(m.GetCounter().GetValue())
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", name, got, want)
	}
}

// otlpKeys maps the semconv label names back to their attribute keys;
// classic labels are their own keys.
var otlpKeys = map[string]string{
	"http_request_method":       "http.request.method",
	"http_route":                "http.route",
	"http_response_status_code": "http.response.status_code",
	"error_type":                "error.type",
}

// otlpAttrs turns a rendered Prometheus label set back into the OTLP
// attributes it came from.
func otlpAttrs(t *testing.T, key string) map[string]string {
	t.Helper()
	attrs := map[string]string{}
	for _, kv := range strings.Split(key, ",") {
		k, v, _ := strings.Cut(kv, "=")
		v, err := strconv.Unquote(v)
		if err != nil {
			t.Fatal(err)
		}
		if otlp, ok := otlpKeys[k]; ok {
			k = otlp
		}
		attrs[k] = v
	}
	return attrs
}

// promtool lints a text scrape with promtool check metrics when promtool
// is installed (CI requires it).
func promtool(t *testing.T, body string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("OTELRED_REQUIRE_PROMETHEUS") == "1" {
			t.Fatal("promtool not found, and OTELRED_REQUIRE_PROMETHEUS=1")
		}
		t.Log("promtool not installed: skipping the lint (apt-get install -y prometheus)")
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
