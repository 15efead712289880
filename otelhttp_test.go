package otelred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// TestOtelhttpAroundOtelred serves requests through real otelhttp (kept for
// traces) around otelred, in the setups a service that already uses
// OpenTelemetry has, and counts them in the Prometheus family every rate,
// error ratio and dashboard otelred ships sums over. Each request must be
// counted once, unless otelhttp's metrics are kept on purpose; where
// otelred cannot prevent the double count, it must say so through
// otel.Handle.
func TestOtelhttpAroundOtelred(t *testing.T) {
	const n = 7
	// ownProvider is a provider built by hand, with the upstream Prometheus
	// exporter on a registry of its own.
	ownProvider := func(t *testing.T, vs ...sdkmetric.View) (metric.MeterProvider, http.Handler) {
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			t.Fatal(err)
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(vs...))
		t.Cleanup(func() { mp.Shutdown(context.Background()) })
		return mp, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	// setup builds exporter.Setup's provider with cfg and makes it the
	// global one, as most services do, for otelred and otelhttp to find.
	setup := func(cfg exporter.Config) func(t *testing.T) (metric.MeterProvider, http.Handler) {
		return func(t *testing.T) (metric.MeterProvider, http.Handler) {
			cfg.Exporters = []string{"prometheus"}
			cfg.Prometheus.ScopeLabels = true // to tell otelred's series from otelhttp's
			p, err := exporter.Setup(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Shutdown(context.Background()) })
			return p, p.Handler()
		}
	}
	for _, tc := range []struct {
		name     string
		provider func(t *testing.T) (metric.MeterProvider, http.Handler)
		// otelhttpCounted is how many requests otelhttp's series hold.
		otelhttpCounted uint64
	}{
		{name: "exporter.Setup made global", provider: setup(exporter.Config{})},
		{name: "exporter.Setup made global, Classic", provider: setup(exporter.Config{Naming: "classic", ServiceName: "shop"})},
		{
			name: "an own provider with views.RED",
			provider: func(t *testing.T) (metric.MeterProvider, http.Handler) {
				return ownProvider(t, must(views.RED(otelred.Semconv, nil))...)
			},
		},
		{
			name:            "exporter.Setup keeping otelhttp's metrics",
			provider:        setup(exporter.Config{OtelhttpMetrics: true}),
			otelhttpCounted: n,
		},
		{
			// otelred cannot prevent this one; a program says so (see
			// TestCountedTwiceIsReported), a test binary, which carries no
			// module list, cannot.
			name:            "an own provider with no view at all",
			provider:        func(t *testing.T) (metric.MeterProvider, http.Handler) { return ownProvider(t) },
			otelhttpCounted: n,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var reported []error
			prevHandler := otel.GetErrorHandler()
			otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, err)
			}))
			prevProvider := otel.GetMeterProvider()
			t.Cleanup(func() {
				otel.SetErrorHandler(prevHandler)
				otel.SetMeterProvider(prevProvider)
			})

			mp, metrics := tc.provider(t)
			otel.SetMeterProvider(mp)
			profile := otelred.Semconv
			if tc.name == "exporter.Setup made global, Classic" {
				profile = otelred.Classic
			}
			red, err := otelred.New(otelred.WithProfile(profile)) // the global provider
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(otelhttp.NewHandler(red(shop()), "server",
				otelhttp.WithTracerProvider(tracenoop.NewTracerProvider())))
			t.Cleanup(srv.Close)
			for range n {
				get(t, srv.URL+"/users/42")
			}

			rec := httptest.NewRecorder()
			metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			testsupport.Promtool(t, rec.Body.String())
			families := parse(t, rec.Body.String())
			var ours, theirs uint64
			for _, m := range families["http_server_request_duration_seconds"].GetMetric() {
				// Scope labels (on in both kinds of provider here) tell
				// otelhttp's series from otelred's, which carry the same
				// attributes.
				if scope := label(m, "otel_scope_name"); scope == "" {
					t.Fatalf("series %s has no otel_scope_name", labels(m))
				} else if scope != otelred.ScopeName {
					theirs += m.GetHistogram().GetSampleCount()
				} else {
					ours += m.GetHistogram().GetSampleCount()
				}
			}
			if profile == otelred.Classic {
				ours = 0
				for _, m := range families["http_requests_total"].GetMetric() {
					ours += uint64(m.GetCounter().GetValue())
				}
			}
			if ours != n || theirs != tc.otelhttpCounted {
				t.Errorf("otelred counted %d requests and otelhttp %d; want %d and %d", ours, theirs, n, tc.otelhttpCounted)
			}

			mu.Lock()
			defer mu.Unlock()
			for _, err := range reported {
				t.Errorf("otel.Handle got %v", err)
			}
		})
	}
}

// countedTwice is a program with otelhttp built in, which serves 3
// requests through otelhttp around otelred and prints how many each
// recorded in otelred's provider. Its argument picks the set-up:
// "with-views" (one provider with views.RED's views), "same-provider"
// (one provider without them, given to both), "differential" (each
// library on a provider of its own) or "global" (one provider, made the
// global one, which both take by default).
const countedTwice = `package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

func main() {
	mode := os.Args[1]
	var opts []sdkmetric.Option
	if mode == "with-views" {
		red, err := views.RED(otelred.Semconv, nil)
		if err != nil {
			panic(err)
		}
		opts = append(opts, sdkmetric.WithView(red...))
	}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(append(opts, sdkmetric.WithReader(reader))...)
	httpOpts := []otelhttp.Option{otelhttp.WithTracerProvider(tracenoop.NewTracerProvider())}
	redOpts := []otelred.Option{otelred.WithMeterProvider(mp)}
	switch mode {
	case "differential":
		own := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		httpOpts = append(httpOpts, otelhttp.WithMeterProvider(own))
	case "global":
		otel.SetMeterProvider(mp)
		redOpts = nil // both take the global provider
	default:
		httpOpts = append(httpOpts, otelhttp.WithMeterProvider(mp))
	}
	red, err := otelred.New(redOpts...)
	if err != nil {
		panic(err)
	}
	if _, err := otelred.NewTransport(nil, redOpts...); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
	h := otelhttp.NewHandler(red(mux), "server", httpOpts...)
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/1", nil))
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	counted := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "http.server.request.duration" {
				for _, dp := range d.DataPoints {
					counted[sm.Scope.Name] += dp.Count
				}
			}
		}
	}
	fmt.Printf("counted otelred=%d otelhttp=%d\n", counted[otelred.ScopeName], counted["go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"])
}
`

// TestCountedTwiceIsReported builds a program that links otelhttp (a test
// binary carries no module list) and checks, for each set-up, what it
// counts in otelred's provider and what otelred reports through
// otel.Handle (whose default handler logs), once for the server and once
// for the client: nothing once the provider has otelred's views; the
// double count as a possibility where otelred has a provider of its own,
// whether otelhttp was given it (and counts twice) or one of its own
// (and does not); as what happens by default where both take the global
// provider.
func TestCountedTwiceIsReported(t *testing.T) {
	bin := buildProgram(t, "countedtwice", countedTwice)
	const fixes = "Register views.RED's views on the provider (exporter.Setup does), which drop otelhttp's duration histograms, " +
		"or give otelhttp a MeterProvider of its own with otelhttp.WithMeterProvider (a no-op one to keep its traces only) " +
		"(see docs/middleware.md#counted-twice)"
	possible := func(name string) string {
		return "otelred: each request may be counted twice: otelhttp is built into this program, and the MeterProvider given to otelred would record " +
			"otelhttp's " + name + " too; if otelhttp is given this provider (otelhttp.WithMeterProvider), each request is counted twice in that family, " +
			"and if it records into another one, as by default into the global MeterProvider, nothing is counted twice. " + fixes
	}
	likely := func(name string) string {
		return "otelred: each request may be counted twice: otelhttp is built into this program, and the global MeterProvider, which otelred records into, " +
			"would record otelhttp's " + name + " too; otelhttp records into the global MeterProvider unless it is given another, " +
			"so each request is counted twice in that family wherever otelhttp runs with its default. " + fixes
	}
	const server, client = "http.server.request.duration", "http.client.request.duration"
	for _, tc := range []struct {
		mode, counted string
		want          []string
	}{
		{"with-views", "counted otelred=3 otelhttp=0", nil},
		{"same-provider", "counted otelred=3 otelhttp=3", []string{possible(server), possible(client)}},
		{"differential", "counted otelred=3 otelhttp=0", []string{possible(server), possible(client)}},
		{"global", "counted otelred=3 otelhttp=3", []string{likely(server), likely(client)}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.Command(bin, tc.mode)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if got := strings.TrimSpace(string(out)); got != tc.counted {
				t.Errorf("%s, want %s", got, tc.counted)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
				if i := strings.Index(line, "otelred: "); i >= 0 {
					got = append(got, line[i:])
				} else if line != "" {
					t.Errorf("unexpected output line %q", line)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// buildProgram builds src as package main of a directory dir of this
// module (which need not exist: an overlay puts it there without writing
// into the tree) and returns the binary's path.
func buildProgram(t *testing.T, dir, src string) string {
	t.Helper()
	tmp := t.TempDir()
	file := filepath.Join(tmp, "main.go")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(tmp, "overlay.json")
	replace := fmt.Sprintf(`{"Replace":{%q:%q}}`, filepath.Join(wd, dir, "main.go"), file)
	if err := os.WriteFile(overlay, []byte(replace), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, dir)
	if out, err := exec.Command("go", "build", "-overlay", overlay, "-o", bin, "./"+dir).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", dir, err, out)
	}
	return bin
}
