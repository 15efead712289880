package otelredgrpc_test

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestOneMethodFromManyGoroutines calls one method from many goroutines at
// once while a reader collects without pause: the in-flight count, summed
// over its stripes, is never negative and is exact while calls are held
// in flight, and the duration's totals are exact at the end.
func TestOneMethodFromManyGoroutines(t *testing.T) {
	const goroutines, each = 16, 2000
	h := newHarness(t)
	unary := h.red.UnaryInterceptor()
	info := &grpc.UnaryServerInfo{FullMethod: echoMethod}
	unavailable := status.Error(codes.Unavailable, "try later")
	call := func(fail bool, hold func()) {
		unary(context.Background(), nil, info, func(context.Context, any) (any, error) {
			if hold != nil {
				hold()
			}
			if fail {
				return nil, unavailable
			}
			return nil, nil
		})
	}
	// collect returns the in-flight count, failing the test if a point of
	// it is negative. It may run on any goroutine.
	collect := func() int64 {
		var rm metricdata.ResourceMetrics
		if err := h.Manual.Collect(context.Background(), &rm); err != nil {
			t.Errorf("collect: %v", err)
			return 0
		}
		var active int64
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != otelredgrpc.ActiveName {
					continue
				}
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					if dp.Value < 0 {
						t.Errorf("%s%s = %d: negative", m.Name, attrs(dp.Attributes), dp.Value)
					}
					active += dp.Value
				}
			}
		}
		return active
	}

	var held sync.WaitGroup
	held.Add(goroutines)
	release := make(chan struct{})
	hold := func() { held.Done(); <-release }
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			call(false, hold)
			for i := range each {
				call((g+i)%4 == 0, nil)
			}
		})
	}
	held.Wait()
	if active := collect(); active != goroutines {
		t.Errorf("%s with %d calls held = %d", otelredgrpc.ActiveName, goroutines, active)
	}
	stop := make(chan struct{})
	var collections sync.WaitGroup
	collections.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				if active := collect(); active > goroutines {
					t.Errorf("%s = %d, more than the %d goroutines", otelredgrpc.ActiveName, active, goroutines)
				}
			}
		}
	})
	close(release)
	wg.Wait()
	close(stop)
	collections.Wait()

	if active := collect(); active != 0 {
		t.Errorf("%s after every call ended = %d, want 0", otelredgrpc.ActiveName, active)
	}
	wantCounts(t, "calls per series", h.counts(), map[string]uint64{
		series(echoMethod[1:], "OK", ""):       goroutines * (each*3/4 + 1),
		failure(echoMethod[1:], "UNAVAILABLE"): goroutines * each / 4,
	})
}
