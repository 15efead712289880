package otelred_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

func newOpsHarness(t *testing.T, opts ...otelred.Option) (*harness, *otelred.Operations) {
	t.Helper()
	r, ops := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (*otelred.Operations, error) {
		return otelred.NewOperations(append([]otelred.Option{otelred.WithMeterProvider(mp)}, opts...)...)
	})
	return &harness{Reader: r, t: t}, ops
}

var opDuration = otelred.Semconv.OperationNames().Duration

func TestOperationsRecordEachOutcome(t *testing.T) {
	h, ops := newOpsHarness(t)
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, pathErr := os.Open("/no/such/file")
	for _, err := range []error{nil, nil, nil, errors.New("plain"), fmt.Errorf("wrapped: %w", errors.New("x")), pathErr, canceled.Err(), context.DeadlineExceeded} {
		ops.Start(ctx, "orders.process").End(err)
	}
	ops.Track(ctx, "email.send", func(context.Context) error { return nil })
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("Track let through %v, want the panic", r)
			}
		}()
		ops.Track(ctx, "email.send", func(context.Context) error { panic("boom") })
	}()
	wantCounts(t, h.counts(opDuration), map[string]uint64{
		"operation.name=orders.process":                          3,
		"error.type=_OTHER,operation.name=orders.process":        2,
		"error.type=*fs.PathError,operation.name=orders.process": 1,
		"error.type=canceled,operation.name=orders.process":      1,
		"error.type=timeout,operation.name=orders.process":       1,
		"operation.name=email.send":                              1,
		"error.type=panic,operation.name=email.send":             1,
	})
	if got := h.sums("operation.active"); render(got) != render(map[string]int64{"operation.name=orders.process": 0, "operation.name=email.send": 0}) {
		t.Errorf("operation.active = %s", render(got))
	}
	var pe *fs.PathError
	if !errors.As(pathErr, &pe) {
		t.Fatal("os.Open did not fail with a PathError")
	}
}

func TestOperationsInProgress(t *testing.T) {
	h, ops := newOpsHarness(t)
	a := ops.Start(context.Background(), "job")
	b := ops.Start(context.Background(), "job")
	if got := h.sums("operation.active"); render(got) != render(map[string]int64{"operation.name=job": 2}) {
		t.Errorf("in progress = %s, want 2", render(got))
	}
	a.End(nil)
	b.End(nil)
	if got := h.sums("operation.active"); render(got) != render(map[string]int64{"operation.name=job": 0}) {
		t.Errorf("after End = %s, want 0", render(got))
	}
	otelred.Operation{}.End(errors.New("nothing")) // the zero Operation records nothing
}

func TestOperationsBoundNamesAndErrorTypes(t *testing.T) {
	errs := []error{
		&sized[[1]byte]{}, &sized[[2]byte]{}, &sized[[3]byte]{}, &sized[[4]byte]{},
		&sized[[5]byte]{}, &sized[[6]byte]{}, &sized[[7]byte]{}, &sized[[8]byte]{},
		&sized[[9]byte]{}, &sized[[10]byte]{}, &sized[[11]byte]{}, &sized[[12]byte]{},
	}
	run := func(t *testing.T, limit int) map[string]uint64 {
		h, ops := newOpsHarness(t, otelred.WithCardinalityLimit(limit))
		ctx := context.Background()
		for _, name := range []string{"a", "b", "c", "d"} {
			ops.Start(ctx, name).End(nil)
		}
		for _, err := range errs {
			ops.Start(ctx, "a").End(err)
		}
		got := h.counts(opDuration)
		if len(got) > limit+2 {
			t.Errorf("%d attribute sets, more than the limit of %d and the two overflow sets: %s", len(got), limit, render(got))
		}
		return got
	}
	failures := func(got map[string]uint64) (series int, n uint64) {
		for k, c := range got {
			if strings.HasPrefix(k, "error.type=") {
				series++
				n += c
			}
		}
		return series, n
	}

	t.Run("one name keeps 8 error types, the rest are _OTHER", func(t *testing.T) {
		got := run(t, 20)
		if series, n := failures(got); n != 12 || series != 9 {
			t.Errorf("%d failures in %d series, want 12 in 8 types and _OTHER: %s", n, series, render(got))
		}
		if n := got["error.type=_OTHER,operation.name=a"]; n != 4 {
			t.Errorf("_OTHER counts %d failures, want 4", n)
		}
	})
	t.Run("names and error types share the limit", func(t *testing.T) {
		got := run(t, 2)
		if n := got["operation.name=overflow,otel.metric.overflow=true"]; n != 2 {
			t.Errorf("overflow counts %d operations, want 2 (c and d): %s", n, render(got))
		}
		if n := got["error.type=_OTHER,operation.name=overflow,otel.metric.overflow=true"]; n != 12 {
			t.Errorf("the overflow's failures count %d, want all 12: %s", n, render(got))
		}
	})
	t.Run("past the names, error types draw on what is left", func(t *testing.T) {
		got := run(t, 6) // a, b, c, d and two error types of a
		if series, n := failures(got); n != 12 || series != 3 {
			t.Errorf("%d failures in %d series, want 12 in 2 types and the overflow: %s", n, series, render(got))
		}
	})
}

// sized is a family of error types, one per T.
type sized[T any] struct{ _ T }

func (*sized[T]) Error() string { return "sized" }

func TestOperationsClassicNames(t *testing.T) {
	h, ops := newOpsHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
	ctx := context.Background()
	ops.Start(ctx, "orders.process").End(nil)
	ops.Start(ctx, "orders.process").End(errors.New("no stock"))
	key := "operation=orders.process,service=shop"
	if got := h.sums("operations_total"); render(got) != render(map[string]int64{key: 2}) {
		t.Errorf("operations_total = %s", render(got))
	}
	if got := h.sums("operation_errors_total"); render(got) != render(map[string]int64{key: 1}) {
		t.Errorf("operation_errors_total = %s", render(got))
	}
	wantCounts(t, h.counts("operation_duration_seconds"), map[string]uint64{key: 2})
}
