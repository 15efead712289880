package testsupport_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
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
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Log(...any) {}

func TestPromtool(t *testing.T) {
	if _, err := exec.LookPath("promtool"); err != nil {
		if os.Getenv(testsupport.RequirePrometheus) == "1" {
			t.Fatalf("promtool not found (%v), and %s=1", err, testsupport.RequirePrometheus)
		}
		t.Skip("promtool not installed (apt-get install -y prometheus)")
	}
	for _, tc := range []struct {
		name, body string
		complaints int
	}{
		{"a clean exposition passes", "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 3\n", 0},
		{"a counter without _total is reported", "# HELP jobs Jobs.\n# TYPE jobs counter\njobs 3\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			testsupport.Promtool(r, tc.body)
			if len(r.errors) != tc.complaints {
				t.Errorf("%d complaints, want %d: %q", len(r.errors), tc.complaints, r.errors)
			}
		})
	}
}

func TestPromtoolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
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
