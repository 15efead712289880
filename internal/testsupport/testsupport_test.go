package testsupport_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/internal/testsupport"
)

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errors []string
	skips  []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skips = append(r.skips, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Log(...any) {}

func (r *recorder) Logf(string, ...any) {}

func TestPromtool(t *testing.T) {
	// Every version's promtool lints the body.
	versions := testsupport.Prometheuses()
	for _, p := range versions {
		p.Tool(t, "promtool")
	}
	for _, tc := range []struct {
		name, body string
		complaints int // by each version
	}{
		{"a clean exposition passes", "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 3\n", 0},
		{"a counter without _total is reported", "# HELP jobs Jobs.\n# TYPE jobs counter\njobs 3\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			testsupport.Promtool(r, tc.body)
			if len(r.errors) != tc.complaints*len(versions) {
				t.Errorf("%d complaints, want %d from each of %d versions: %q", len(r.errors), tc.complaints, len(versions), r.errors)
			}
		})
	}
}

func TestPromtoolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(testsupport.Prometheus3Dir, t.TempDir())
	for _, tc := range []struct {
		name, require string
		complaints    int
	}{
		{"is skipped by default", "", 0},
		{"fails when Prometheus is required", "1", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(testsupport.RequirePrometheus, tc.require)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() { // Fatalf ends the goroutine
				defer close(done)
				testsupport.Promtool(r, "# TYPE jobs counter\njobs 3\n")
			}()
			<-done
			if len(r.errors) != tc.complaints {
				t.Errorf("%d complaints, want %d: %q", len(r.errors), tc.complaints, r.errors)
			}
		})
	}
}

// fakeTool writes an executable name in dir that prints version as
// prometheus --version does.
func fakeTool(t *testing.T, dir, name, version string) {
	t.Helper()
	script := "#!/bin/sh\necho '" + name + ", version " + version + " (branch: , revision: unknown)'\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestPrometheusTool checks that each version finds its own binaries and
// refuses those of the other major version, skipping the test, or failing
// it when Prometheus is required.
func TestPrometheusTool(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        func() testsupport.Prometheus
		onPath   string // the version of the prometheus on the PATH; "-" for none
		inDir    string // the version in OTELRED_PROMETHEUS3_DIR; "-" for none
		found    bool
		complain string // what the skip or failure says
	}{
		{"Prometheus 2 from the PATH", testsupport.Prometheus2, "2.42.0+ds", "-", true, ""},
		{"not a Prometheus 3 on the PATH for Prometheus 2", testsupport.Prometheus2, "3.16.0", "-", false, `version "3.16.0", not 2.x`},
		{"not a go install build on the PATH for Prometheus 2", testsupport.Prometheus2, "", "-", false, `version "", not 2.x`},
		{"Prometheus 3 from its directory, built with go install", testsupport.Prometheus3, "-", "", true, ""},
		{"Prometheus 3 from its directory, a release", testsupport.Prometheus3, "-", "3.16.0", true, ""},
		{"not a Prometheus 2 in the Prometheus 3 directory", testsupport.Prometheus3, "2.42.0+ds", "2.42.0+ds", false, `version "2.42.0+ds", not 3.x`},
		{"no Prometheus 3 in its directory", testsupport.Prometheus3, "3.16.0", "-", false, "prometheus of prometheus3 not found"},
	} {
		for _, require := range []string{"", "1"} {
			t.Run(fmt.Sprintf("%s/require=%q", tc.name, require), func(t *testing.T) {
				path, dir := t.TempDir(), t.TempDir()
				if tc.onPath != "-" {
					fakeTool(t, path, "prometheus", tc.onPath)
				}
				if tc.inDir != "-" {
					fakeTool(t, dir, "prometheus", tc.inDir)
				}
				t.Setenv("PATH", path)
				t.Setenv(testsupport.Prometheus3Dir, dir)
				t.Setenv(testsupport.RequirePrometheus, require)
				r := &recorder{TB: t}
				var got string
				done := make(chan struct{})
				go func() { // Fatalf and Skipf end the goroutine
					defer close(done)
					got = tc.p().Tool(r, "prometheus")
				}()
				<-done
				if tc.found {
					if got == "" || len(r.errors)+len(r.skips) != 0 {
						t.Errorf("Tool = %q, errors %q, skips %q; want the binary", got, r.errors, r.skips)
					}
					return
				}
				complaints := r.skips
				if require == "1" {
					complaints = r.errors
				}
				if got != "" || len(complaints) != 1 || !strings.Contains(complaints[0], tc.complain) || len(r.errors)+len(r.skips) != 1 {
					t.Errorf("Tool = %q, errors %q, skips %q; want one %s saying %q", got, r.errors, r.skips, map[string]string{"": "skip", "1": "failure"}[require], tc.complain)
				}
			})
		}
	}
}

func TestSettleGoroutines(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	before := runtime.NumGoroutine()
	go func() {
		defer close(done)
		<-release
	}()
	close(release)
	<-done
	if got := testsupport.SettleGoroutines(before); got > before {
		t.Errorf("SettleGoroutines(%d) = %d after the goroutine returned", before, got)
	}
}

func TestPoints(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	meter := provider.Meter("test")
	ctx := context.Background()

	jobs, err := meter.Int64Counter("jobs")
	if err != nil {
		t.Fatal(err)
	}
	jobs.Add(ctx, 2, metric.WithAttributes(attribute.String("kind", "email"), attribute.Int("attempt", 1)))
	jobs.Add(ctx, 5, metric.WithAttributes(attribute.String("kind", "batch")))
	took, err := meter.Float64Histogram("job.duration")
	if err != nil {
		t.Fatal(err)
	}
	took.Record(ctx, 0.1)
	took.Record(ctx, 0.2)
	gauge, err := meter.Float64Gauge("ignored") // not a histogram nor an int64 sum
	if err != nil {
		t.Fatal(err)
	}
	gauge.Record(ctx, 1)

	want := []string{
		"job.duration{} count=2",
		"jobs{attempt=1,kind=email} 2",
		"jobs{kind=batch} 5",
	}
	if got := testsupport.Points(reader); !slices.Equal(got, want) {
		t.Errorf("Points:\n got  %q\n want %q", got, want)
	}
}
