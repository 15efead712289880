package otelred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
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

// countedTwice is a program with otelhttp built in and a MeterProvider of
// its own, with views.RED's views when its first argument says so.
const countedTwice = `package main

import (
	"net/http"
	"os"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

func main() {
	var opts []sdkmetric.Option
	if os.Args[1] == "with-views" {
		red, err := views.RED(otelred.Semconv, nil)
		if err != nil {
			panic(err)
		}
		opts = append(opts, sdkmetric.WithView(red...))
	}
	mp := sdkmetric.NewMeterProvider(append(opts, sdkmetric.WithReader(sdkmetric.NewManualReader()))...)
	_ = otelhttp.NewHandler(http.NotFoundHandler(), "server", otelhttp.WithMeterProvider(mp))
	if _, err := otelred.New(otelred.WithMeterProvider(mp)); err != nil {
		panic(err)
	}
	if _, err := otelred.NewTransport(nil, otelred.WithMeterProvider(mp)); err != nil {
		panic(err)
	}
}
`

// TestCountedTwiceIsReported builds a program that links otelhttp and
// gives otelred a MeterProvider without otelred's views, where otelred
// cannot prevent otelhttp's metrics from counting each request a second
// time, and checks that it says so, once for the server and once for the
// client, through otel.Handle (whose default handler logs), and that it
// is silent once the provider has the views.
func TestCountedTwiceIsReported(t *testing.T) {
	bin := buildProgram(t, "countedtwice", countedTwice)
	for _, tc := range []struct {
		arg  string
		want []string
	}{
		{"without-views", []string{
			"otelred: each request would be counted twice: otelhttp is built into this program, and the MeterProvider given to otelred would record otelhttp's http.server.request.duration too",
			"otelred: each request would be counted twice: otelhttp is built into this program, and the MeterProvider given to otelred would record otelhttp's http.client.request.duration too",
		}},
		{"with-views", nil},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			out, err := exec.Command(bin, tc.arg).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if i := strings.Index(line, "otelred: "); i >= 0 {
					got = append(got, line[i:])
				} else if line != "" {
					t.Errorf("unexpected output line %q", line)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("reported:\n%s\nwant %d reports", out, len(tc.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("report %d = %q, want it to begin %q", i, got[i], tc.want[i])
				}
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
