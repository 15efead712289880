// The end-to-end story a user lives through: configure the exporters, serve
// through the middleware, scrape /metrics, and receive the OTLP push.
package otelred_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
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

// serveShop serves the shop through otelred on p's MeterProvider, with
// p's /metrics handler mounted, until the test ends. The classic service
// label comes from p's resource, with no WithService.
func serveShop(t *testing.T, p *exporter.Provider, profile otelred.Profile) *httptest.Server {
	t.Helper()
	mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithProfile(profile))
	if err != nil {
		t.Fatal(err)
	}
	mux := shop()
	mux.Handle("GET /metrics", p.Handler())
	srv := httptest.NewServer(mw(mux))
	t.Cleanup(srv.Close)
	return srv
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
		`http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`:            5,
		`http_request_method="GET",http_response_status_code="404",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`:            1,
		`error_type="500",http_request_method="GET",http_response_status_code="500",http_route="/fail",network_protocol_version="1.1",url_scheme="http"`: 2,
		`http_request_method="GET",http_response_status_code="404",network_protocol_version="1.1",url_scheme="http"`:                                     1,
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

			// Serve.
			srv := serveShop(t, p, profile)
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
		{name: "otelhttp's durations dropped by Setup, without scope labels", otelhttpSeries: 0},
		{name: "otelhttp's durations dropped by Setup, with scope labels", scopeLabels: true, otelhttpSeries: 0},
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
			testsupport.Promtool(t, rec.Body.String())
			fam := parse(t, rec.Body.String())["http_server_request_duration_seconds"]
			var ours, theirs int
			for _, m := range fam.GetMetric() {
				// Without scope labels, only otelhttp's series carry
				// network_protocol_name and server_address, or neither
				// once views.Otelhttp has trimmed them.
				otelhttpSeries := hasLabel(m, "network_protocol_name") || hasLabel(m, "server_address") ||
					(tc.views != nil && !hasLabel(m, "http_route"))
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
	buildQuickStart(t)
}

// TestReadmeQuickStartShutsDownGracefully runs the quick start as written,
// on a free port, with the exporters of each case. It serves three requests
// and gets SIGTERM: it must exit 0, with the three requests counted where
// the case reads them, and serve /metrics on the application's port only
// when Prometheus has no listener of its own.
func TestReadmeQuickStartShutsDownGracefully(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM cannot be sent on Windows")
	}
	bin := buildQuickStart(t)
	const requests = 3
	series := `http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`
	for _, tc := range []struct {
		name string
		env  []string
		// metricsStatus is the status of GET /metrics on the application's port.
		metricsStatus int
		// scraped says that /metrics must count the requests.
		scraped bool
		// console says that the export printed at shutdown must count them.
		console bool
	}{
		{
			name:          "the console export is flushed at SIGTERM",
			env:           []string{"OTEL_METRICS_EXPORTER=console", "OTEL_METRIC_EXPORT_INTERVAL=600000"},
			metricsStatus: http.StatusNotFound,
			console:       true,
		},
		{
			name:          "Prometheus is served on the application's port by default",
			env:           []string{"OTEL_METRICS_EXPORTER=prometheus"},
			metricsStatus: http.StatusOK,
			scraped:       true,
		},
		{
			name:          "Prometheus on its own listener is not served on the application's port",
			env:           []string{"OTEL_METRICS_EXPORTER=prometheus", "OTEL_EXPORTER_PROMETHEUS_HOST=127.0.0.1", "OTEL_EXPORTER_PROMETHEUS_PORT=0"},
			metricsStatus: http.StatusNotFound,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0")
			cmd.Env = append(withoutOtelEnv(os.Environ()), tc.env...)
			var stdout bytes.Buffer // read only after the process exited
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var (
				logged  strings.Builder // written before exited is closed
				addr    = make(chan string, 1)
				exited  = make(chan struct{})
				waitErr error
			)
			go func() {
				defer close(exited)
				re := regexp.MustCompile(`listening on (http://\S+)`)
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					logged.WriteString(sc.Text() + "\n")
					if m := re.FindStringSubmatch(sc.Text()); m != nil {
						addr <- m[1]
					}
				}
				waitErr = cmd.Wait()
			}()
			t.Cleanup(func() {
				_ = cmd.Process.Kill() // if it is still running
				<-exited
				if t.Failed() {
					t.Logf("the quick start's stderr:\n%s\nits stdout:\n%s", logged.String(), stdout.String())
				}
			})
			var base string
			select {
			case base = <-addr:
			case <-exited:
				t.Fatalf("the quick start exited at start: %v", waitErr)
			case <-ctx.Done():
				t.Fatal("the quick start did not say where it listens")
			}

			for range requests {
				if body := get(t, base+"/users/42"); body != "user 42\n" {
					t.Fatalf("GET /users/42 = %q, want %q", body, "user 42\n")
				}
			}
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.metricsStatus {
				t.Errorf("GET /metrics on the application's port: %d, want %d", resp.StatusCode, tc.metricsStatus)
			}
			if tc.scraped {
				var got uint64
				for _, m := range parse(t, string(body))["http_server_request_duration_seconds"].GetMetric() {
					if labels(m) == series {
						got = m.GetHistogram().GetSampleCount()
					}
				}
				if got != requests {
					t.Errorf("the scrape counts %d requests in {%s}, want %d", got, series, requests)
				}
				checkReadmeSample(t, string(body))
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-ctx.Done():
				t.Fatal("the quick start did not exit after SIGTERM")
			}
			if waitErr != nil {
				t.Fatalf("after SIGTERM the quick start exited with %v, want 0", waitErr)
			}
			if tc.console {
				got, ok := consoleCount(t, stdout.Bytes(), "http.server.request.duration", "http.route", "/users/{id}")
				if !ok {
					t.Fatal("the last console export has no http.server.request.duration point for /users/{id}")
				}
				if got != requests {
					t.Errorf("the last console export counts %d requests to /users/{id}, want %d", got, requests)
				}
			}
		})
	}
}

// updateReadme rewrites the quick start's sample output in README.md from
// what the quick start really serves.
var updateReadme = flag.Bool("update-readme", false, "rewrite the quick start's sample output in README.md")

// readmeSample finds the sample output that README.md shows for the quick
// start's /metrics: the first block after the curl of /metrics.
var readmeSample = regexp.MustCompile("(?s)(`curl 127\\.0\\.0\\.1:8080/metrics`:\n\n```\n)(.*?)(```)")

// checkReadmeSample checks that README.md shows what the quick start's
// /metrics serves after three requests to /users/42: the histogram's first
// bucket, its count and the in-flight gauge, exactly as scraped, so the
// sample cannot drift from the real output (run with -update-readme to
// rewrite it).
func checkReadmeSample(t *testing.T, scrape string) {
	t.Helper()
	var first, count, active string
	for line := range strings.Lines(scrape) {
		switch {
		case first == "" && strings.HasPrefix(line, "http_server_request_duration_seconds_bucket{") && strings.Contains(line, `http_route="/users/{id}"`):
			first = line
		case count == "" && strings.HasPrefix(line, "http_server_request_duration_seconds_count{") && strings.Contains(line, `http_route="/users/{id}"`):
			count = line
		case active == "" && strings.HasPrefix(line, "http_server_active_requests{"):
			active = line
		}
	}
	if first == "" || count == "" || active == "" {
		t.Fatalf("the scrape lacks the sample's lines (first bucket %q, count %q, in flight %q):\n%s", first, count, active, scrape)
	}
	want := first + "...\n" + count + active
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := readmeSample.FindSubmatchIndex(readme)
	if m == nil {
		t.Fatal("README.md has no sample output after `curl 127.0.0.1:8080/metrics`:")
	}
	if got := string(readme[m[4]:m[5]]); got != want {
		if !*updateReadme {
			t.Errorf("README.md's sample output of the quick start differs from what it serves (go test -run TestReadmeQuickStart -update-readme . rewrites it):\nREADME:\n%s\nserved:\n%s", got, want)
			return
		}
		out := slices.Concat(readme[:m[4]], []byte(want), readme[m[5]:])
		if err := os.WriteFile("README.md", out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("rewrote the quick start's sample output in README.md")
	}
}

// buildQuickStart builds the Go block under "## Quick start" in README.md,
// as a user would paste it, into a package of this module (through an
// overlay, without writing into the tree), and returns the binary's path.
func buildQuickStart(t *testing.T) string {
	t.Helper()
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
	wd, _ := os.Getwd()
	overlay := filepath.Join(dir, "overlay.json")
	replace := fmt.Sprintf(`{"Replace":{%q:%q}}`, filepath.Join(wd, "quickstart", "main.go"), src)
	if err := os.WriteFile(overlay, []byte(replace), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "quickstart")
	cmd := exec.Command("go", "build", "-overlay", overlay, "-o", bin, "./quickstart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README quick start does not build: %v\n%s\n%s", err, out, m[1])
	}
	return bin
}

// withoutOtelEnv returns env without the OTEL_* variables, so that the
// test's own environment cannot change what it runs.
func withoutOtelEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, "OTEL_") })
}

// consoleCount reads the exports the console exporter wrote (JSON, one
// after the other) and returns, from the last one, the count of the
// histogram called name at its point whose attribute key has value.
func consoleCount(t *testing.T, out []byte, name, key, value string) (uint64, bool) {
	t.Helper()
	type export struct {
		ScopeMetrics []struct {
			Metrics []struct {
				Name string
				Data struct {
					DataPoints []struct {
						Attributes []struct {
							Key   string
							Value struct{ Value any }
						}
						Count uint64
					}
				}
			}
		}
	}
	var last *export
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var e export
		if err := dec.Decode(&e); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("console output: %v", err)
		}
		last = &e
	}
	if last == nil {
		t.Fatal("the console exporter wrote nothing")
	}
	for _, sm := range last.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			for _, dp := range m.Data.DataPoints {
				for _, a := range dp.Attributes {
					if a.Key == key && a.Value.Value == value {
						return dp.Count, true
					}
				}
			}
		}
	}
	return 0, false
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
	"network_protocol_version":  "network.protocol.version",
	"url_scheme":                "url.scheme",
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

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// mixed is the request mix of the concurrency and soak tests: how each
// kind of request is sent, and the duration series it must land in.
var mixed = [...]struct {
	method, path string // path may hold one %d, filled with a fresh id
	series       string
}{
	{"GET", "/users/%d", `http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`},
	{"GET", "/users/0", `http_request_method="GET",http_response_status_code="404",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`},
	{"GET", "/fail", `error_type="500",http_request_method="GET",http_response_status_code="500",http_route="/fail",network_protocol_version="1.1",url_scheme="http"`},
	{"GET", "/no/such/%d", `http_request_method="GET",http_response_status_code="404",network_protocol_version="1.1",url_scheme="http"`},
	{"DELETE", "/users/%d", `http_request_method="DELETE",http_response_status_code="405",network_protocol_version="1.1",url_scheme="http"`},
	{"HEAD", "/users/%d", `http_request_method="HEAD",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`},
	{"POST", "/fail", `http_request_method="POST",http_response_status_code="405",network_protocol_version="1.1",url_scheme="http"`},
}

// sendMixed sends request kind k of the mix, with id in its path.
func sendMixed(client *http.Client, base string, k int, id uint64) error {
	path := mixed[k].path
	if strings.Contains(path, "%d") {
		path = fmt.Sprintf(path, id)
	}
	req, err := http.NewRequest(mixed[k].method, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err
}

// scrapeCounts fetches the Prometheus exposition and returns the count of
// each duration series, and the in-flight gauge summed over its series.
func scrapeCounts(client *http.Client, url string) (map[string]uint64, float64, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("scrape: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, 0, fmt.Errorf("parsing the scrape: %w", err)
	}
	counts := map[string]uint64{}
	for _, m := range families["http_server_request_duration_seconds"].GetMetric() {
		counts[labels(m)] = m.GetHistogram().GetSampleCount()
	}
	var active float64
	for _, m := range families["http_server_active_requests"].GetMetric() {
		active += m.GetGauge().GetValue()
	}
	return counts, active, nil
}

func total(counts map[string]uint64) (n uint64) {
	for _, c := range counts {
		n += c
	}
	return n
}

// TestConcurrentTrafficScrapesAndPushes runs 64 goroutines of mixed
// traffic (five routes and statuses, four methods) through a real server
// while /metrics is scraped without pause and OTLP pushes every 50 ms; the
// race detector watches. Every scrape must parse and never go backwards;
// at the end the last scrape and the receiver's last (cumulative) push
// must hold exactly the requests sent, series by series.
func TestConcurrentTrafficScrapesAndPushes(t *testing.T) {
	const workers, each = 64, 40
	ctx := context.Background()
	receiver := otlptest.Start(t, otlptest.HTTP)
	p, err := exporter.Setup(ctx, exporter.Config{
		Exporters:   []string{"prometheus", "otlp"},
		ServiceName: "shop",
		OTLP: exporter.OTLP{
			Protocol: otlptest.HTTP,
			Endpoint: receiver.Endpoint(),
			Interval: 50 * time.Millisecond,
			Timeout:  5 * time.Second,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(ctx) })
	srv := serveShop(t, p, otelred.Semconv)
	transport := &http.Transport{MaxIdleConnsPerHost: workers + 4}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	want := map[string]uint64{}
	for w := range workers {
		for i := range each {
			want[mixed[(w*7+i)%len(mixed)].series]++
		}
	}

	stop := make(chan struct{})
	var scrapes atomic.Int64
	var scrapers sync.WaitGroup
	for range 2 {
		scrapers.Go(func() {
			var last uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				counts, _, err := scrapeCounts(client, srv.URL+"/metrics")
				if err != nil {
					t.Error(err)
					return
				}
				if n := total(counts); n < last || n > workers*each {
					t.Errorf("a scrape counts %d requests, after one that counted %d, of %d sent", n, last, workers*each)
				} else {
					last = n
				}
				scrapes.Add(1)
			}
		})
	}
	start := time.Now()
	var traffic sync.WaitGroup
	for w := range workers {
		traffic.Go(func() {
			for i := range each {
				if err := sendMixed(client, srv.URL, (w*7+i)%len(mixed), uint64(w*each+i+1)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	traffic.Wait()
	took := time.Since(start)
	close(stop)
	scrapers.Wait()

	got, active, err := scrapeCounts(client, srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("final scrape:\n got  %v\n want %v", got, want)
	}
	if active != 0 {
		t.Errorf("%v requests in flight after the traffic ended", active)
	}

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	name := otelred.Semconv.Names().Duration
	for key, n := range want {
		attrs := otlpAttrs(t, key)
		if dp, ok := receiver.Histogram(name, attrs); !ok || dp.GetCount() != n {
			t.Errorf("last push: %s%v count = %d (found %v), want %d", name, attrs, dp.GetCount(), ok, n)
		}
	}
	t.Logf("%d goroutines × %d requests in %v, with %d scrapes and %d pushes alongside; totals exact in the last scrape and the last push",
		workers, each, took.Round(time.Millisecond), scrapes.Load(), len(receiver.Requests()))
}

// soakSample is one reading of the soak test.
type soakSample struct {
	at         time.Duration
	heap       uint64 // live heap after a full GC
	goroutines int
	requests   int64
	pushes     int
}

// TestSoak runs steady load for OTELRED_SOAK (such as 60s) against the
// example's wiring: the middleware on a real server, Setup with
// Prometheus and OTLP (pushing every second), /metrics scraped every
// second. It samples the live heap (after a GC) and the goroutines every
// 5 s and checks they stay flat: the last third's highest heap at most
// 1.5 × the first third's + 1 MiB, its highest goroutine count at most the
// first third's + 4, and, after the load stops, no more goroutines than
// before it + 4. The totals scraped and pushed at the end must equal the
// requests sent. Run it without -race, whose heap figures mean nothing.
func TestSoak(t *testing.T) {
	v := os.Getenv("OTELRED_SOAK")
	if v == "" {
		t.Skip("set OTELRED_SOAK to a duration to run the soak: OTELRED_SOAK=60s go test -run '^TestSoak$' -count=1 -v . (without -race)")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 15*time.Second {
		t.Fatalf("OTELRED_SOAK=%q: want a duration of at least 15s (three samples)", v)
	}
	const (
		sampleEvery = 5 * time.Second
		workers     = 4
	)
	ctx := context.Background()
	receiver := new(lastPush)
	collector := httptest.NewServer(receiver)
	t.Cleanup(collector.Close)
	p, err := exporter.Setup(ctx, exporter.Config{
		Exporters:   []string{"prometheus", "otlp"},
		ServiceName: "shop",
		OTLP:        exporter.OTLP{Protocol: otlptest.HTTP, Endpoint: collector.URL + "/v1/metrics", Interval: time.Second, Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(ctx) })
	srv := serveShop(t, p, otelred.Semconv)
	transport := &http.Transport{MaxIdleConnsPerHost: workers + 2}
	client := &http.Client{Transport: transport}

	var sent [len(mixed)]atomic.Int64
	requests := func() (n int64) {
		for i := range sent {
			n += sent[i].Load()
		}
		return n
	}
	// Sampling holds the load for a moment, so that the heap it reads is
	// what the service keeps, not the garbage of requests in flight.
	var gate sync.RWMutex
	sample := func(start time.Time) soakSample {
		gate.Lock()
		defer gate.Unlock()
		runtime.GC() // twice: the first moves sync.Pool contents aside, the second frees them
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return soakSample{time.Since(start), ms.HeapAlloc, runtime.NumGoroutine(), requests(), receiver.pushes()}
	}

	// The baseline counts the exporter's connection to the collector,
	// which the first push opens.
	poll := time.NewTicker(10 * time.Millisecond)
	for deadline := time.Now().Add(5 * time.Second); receiver.pushes() == 0; <-poll.C {
		if time.Now().After(deadline) {
			t.Fatal("no push within 5 s")
		}
	}
	poll.Stop()
	g0 := runtime.NumGoroutine()
	start := time.Now()
	load, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := uint64(0); load.Err() == nil; i++ {
				k := int((uint64(w) + i*3) % uint64(len(mixed)))
				gate.RLock()
				err := sendMixed(client, srv.URL, k, i*workers+uint64(w)+1)
				gate.RUnlock()
				if err != nil {
					t.Error(err)
					return
				}
				sent[k].Add(1)
			}
		})
	}
	var scrapes atomic.Int64
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-load.Done():
				return
			case <-tick.C:
				gate.RLock()
				_, _, err := scrapeCounts(client, srv.URL+"/metrics")
				gate.RUnlock()
				if err != nil {
					t.Error(err)
					return
				}
				scrapes.Add(1)
			}
		}
	})
	var samples []soakSample
	tick := time.NewTicker(sampleEvery)
	for range d / sampleEvery {
		<-tick.C
		samples = append(samples, sample(start))
	}
	tick.Stop()
	stop()
	wg.Wait()
	transport.CloseIdleConnections()
	gEnd := testsupport.SettleGoroutines(g0)

	var table strings.Builder
	fmt.Fprintf(&table, "%8s %12s %10s %10s %6s\n", "t", "heap bytes", "goroutines", "requests", "pushes")
	for _, s := range samples {
		fmt.Fprintf(&table, "%8s %12d %10d %10d %6d\n", s.at.Round(time.Second), s.heap, s.goroutines, s.requests, s.pushes)
	}
	n := requests()
	t.Logf("%v of load: %d requests (%.0f/s), %d scrapes, %d pushes; goroutines %d before, %d after\n%s",
		d, n, float64(n)/d.Seconds(), scrapes.Load(), receiver.pushes(), g0, gEnd, table.String())

	third := len(samples) / 3
	if third == 0 {
		t.Fatalf("%d samples, want at least 3", len(samples))
	}
	peak := func(s []soakSample) (heap uint64, goroutines int) {
		for _, x := range s {
			heap, goroutines = max(heap, x.heap), max(goroutines, x.goroutines)
		}
		return heap, goroutines
	}
	firstHeap, firstG := peak(samples[:third])
	lastHeap, lastG := peak(samples[len(samples)-third:])
	t.Logf("peak live heap: first third %d, last third %d (%.2f×); peak goroutines: %d, %d", firstHeap, lastHeap, float64(lastHeap)/float64(firstHeap), firstG, lastG)
	if limit := firstHeap*3/2 + 1<<20; lastHeap > limit {
		t.Errorf("the live heap grew: last third's peak %d > first third's %d × 1.5 + 1 MiB", lastHeap, firstHeap)
	}
	if lastG > firstG+4 {
		t.Errorf("goroutines grew: last third's peak %d > first third's %d + 4", lastG, firstG)
	}
	if gEnd > g0+4 {
		t.Errorf("%d goroutines after the load, %d before it", gEnd, g0)
	}

	// Nothing lost: the scrape and the last push hold every request.
	want := map[string]uint64{}
	for k := range mixed {
		if c := sent[k].Load(); c > 0 {
			want[mixed[k].series] += uint64(c)
		}
	}
	got, active, err := scrapeCounts(client, srv.URL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) || active != 0 {
		t.Errorf("final scrape (%v in flight):\n got  %v\n want %v", active, got, want)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	name := otelred.Semconv.Names().Duration
	for key, c := range want {
		if got, ok := receiver.count(name, otlpAttrs(t, key)); !ok || got != c {
			t.Errorf("last push: %s count = %d (found %v), want %d", key, got, ok, c)
		}
	}
}

// lastPush is an OTLP/HTTP receiver that keeps only the latest export:
// otlptest.Receiver keeps every one, which in a long soak would grow the
// heap that the soak measures.
type lastPush struct {
	mu   sync.Mutex
	last *colmetricpb.ExportMetricsServiceRequest
	n    int
}

func (l *lastPush) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	msg := new(colmetricpb.ExportMetricsServiceRequest)
	if err != nil || r.URL.Path != "/v1/metrics" || proto.Unmarshal(b, msg) != nil {
		http.Error(w, "not an OTLP metrics export", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	l.last, l.n = msg, l.n+1
	l.mu.Unlock()
	resp, _ := proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func (l *lastPush) pushes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// count returns the count of the latest export's histogram point of
// metric name whose attributes are exactly attrs.
func (l *lastPush) count(name string, attrs map[string]string) (uint64, bool) {
	l.mu.Lock()
	last := l.last
	l.mu.Unlock()
	p, ok := otlptest.HistogramIn(last, name, attrs)
	return p.GetCount(), ok
}
