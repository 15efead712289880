package testsupport_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/internal/testsupport"
)

// TestReaderReadsOneScopePerAttributeSet records in two scopes and checks
// that a Reader of one sees only that scope's points, summed per
// attribute set.
func TestReaderReadsOneScopePerAttributeSet(t *testing.T) {
	r, meter := testsupport.Build(t, "mine", func(mp metric.MeterProvider) (metric.Meter, error) {
		return mp.Meter("mine"), nil
	})
	ctx := context.Background()
	hist, err := meter.Float64Histogram("took")
	if err != nil {
		t.Fatal(err)
	}
	active, err := meter.Int64UpDownCounter("active")
	if err != nil {
		t.Fatal(err)
	}
	a := metric.WithAttributes(attribute.String("route", "/a"), attribute.Int("code", 200))
	hist.Record(ctx, 0.1, a)
	hist.Record(ctx, 0.2, a)
	hist.Record(ctx, 0.3)
	active.Add(ctx, 3, a)
	active.Add(ctx, -1, a)
	other, err := r.Provider.Meter("other").Float64Histogram("took")
	if err != nil {
		t.Fatal(err)
	}
	other.Record(ctx, 1, a)

	testsupport.WantEqual(t, "counts", r.Counts("took"), map[string]uint64{"code=200,route=/a": 2, "": 1})
	testsupport.WantEqual(t, "sums", r.Sums("active"), map[string]int64{"code=200,route=/a": 2})
	if got, want := testsupport.Render(map[string]int{"b": 2, "a": 1}), "{\n\ta => 1\n\tb => 2\n}"; got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

// cleanupRecorder is a recorder that runs its cleanups when told.
type cleanupRecorder struct {
	*recorder
	cleanups []func()
}

func (r *cleanupRecorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func TestBuildFailsTheTestOnError(t *testing.T) {
	rec := &cleanupRecorder{recorder: &recorder{}}
	done := make(chan struct{})
	go func() { // the recorder's Fatalf ends this goroutine
		defer close(done)
		testsupport.Build(rec, "mine", func(metric.MeterProvider) (int, error) { return 0, errors.New("bad option") })
		t.Error("Build returned after the build failed")
	}()
	<-done
	for _, f := range rec.cleanups {
		f()
	}
	if len(rec.errors) != 1 || len(rec.cleanups) != 1 {
		t.Errorf("Build reported %q with %d cleanups, want one failure and the provider's shutdown", rec.errors, len(rec.cleanups))
	}
}
