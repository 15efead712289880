package otelred_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// holdKey carries, in a request's context, a function the handler calls
// before it answers.
type holdKey struct{}

// hammered is one way calls reach otelred, as TestOneRouteFromManyGoroutines
// drives it.
type hammered struct {
	name    string
	profile otelred.Profile
	names   func(otelred.Profile) otelred.Names
	// calls builds, on mp, a function that makes one call: it calls hold
	// (when not nil) while the call is in flight, and ends the call as a
	// failure when fail is set. Every call has the same route or name.
	calls func(t *testing.T, mp *sdkmetric.MeterProvider) func(fail bool, hold func())
}

// middlewareCalls serves GET /users/{id} through the middleware: id "fail"
// answers 500, any other 200.
func middlewareCalls(p otelred.Profile) func(*testing.T, *sdkmetric.MeterProvider) func(bool, func()) {
	return func(t *testing.T, mp *sdkmetric.MeterProvider) func(bool, func()) {
		mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"))
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
			if hold, _ := r.Context().Value(holdKey{}).(func()); hold != nil {
				hold()
			}
			if r.PathValue("id") == "fail" {
				w.WriteHeader(http.StatusInternalServerError)
			}
		})
		h := mw(mux)
		ok := httptest.NewRequest(http.MethodGet, "/users/1", nil)
		failed := httptest.NewRequest(http.MethodGet, "/users/fail", nil)
		return func(fail bool, hold func()) {
			r := ok
			if fail {
				r = failed
			}
			if hold != nil {
				r = r.WithContext(context.WithValue(r.Context(), holdKey{}, hold))
			} else {
				r = r.Clone(r.Context()) // ServeMux writes into the request
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
	}
}

// TestOneRouteFromManyGoroutines calls one route from many goroutines at
// once, as a busy server does, while a reader collects without pause: the
// in-flight count, summed over its stripes, is never negative in any
// collection and is exact while calls are held in flight, and the totals
// of durations, requests and errors are exact at the end.
func TestOneRouteFromManyGoroutines(t *testing.T) {
	const goroutines, each = 16, 2000
	server := otelred.Profile.Names
	for _, tc := range []hammered{
		{"the Semconv middleware", otelred.Semconv, server, middlewareCalls(otelred.Semconv)},
		{"the Classic middleware", otelred.Classic, server, middlewareCalls(otelred.Classic)},
		{"a Classic Server", otelred.Classic, server, func(t *testing.T, mp *sdkmetric.MeterProvider) func(bool, func()) {
			s, err := otelred.NewServer(otelred.WithMeterProvider(mp), otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/users/1", nil)
			return func(fail bool, hold func()) {
				q := s.Start(r, "/users/:id")
				if hold != nil {
					hold()
				}
				status := http.StatusOK
				if fail {
					status = http.StatusInternalServerError
				}
				q.End("/users/:id", status, false)
			}
		}},
		{"Semconv operations", otelred.Semconv, otelred.Profile.OperationNames, operationCalls(otelred.Semconv)},
		{"Classic operations", otelred.Classic, otelred.Profile.OperationNames, operationCalls(otelred.Classic)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			t.Cleanup(func() { mp.Shutdown(context.Background()) })
			call := tc.calls(t, mp)
			names := tc.names(tc.profile)

			// collect returns the metrics, and the in-flight count, failing
			// the test if any point of it is negative.
			collect := func() (metricdata.ResourceMetrics, int64) {
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					t.Errorf("collect: %v", err)
					return rm, 0
				}
				var active int64
				for _, dp := range pointsOf(rm, names.Active) {
					if dp.Value < 0 {
						t.Errorf("%s%s = %d: negative", names.Active, attrs(dp.Attributes), dp.Value)
					}
					active += dp.Value
				}
				return rm, active
			}

			// First, one call of each goroutine is held in flight: they
			// count exactly, whichever stripes they picked.
			var held sync.WaitGroup
			held.Add(goroutines)
			release := make(chan struct{})
			hold := func() { held.Done(); <-release }
			stop := make(chan struct{})
			var collections sync.WaitGroup
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
			if _, active := collect(); active != goroutines {
				t.Errorf("%s with %d calls held in flight = %d", names.Active, goroutines, active)
			}
			// Then they all run, while a reader collects without pause.
			collections.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						if _, active := collect(); active > goroutines {
							t.Errorf("%s = %d, more than the %d goroutines", names.Active, active, goroutines)
						}
					}
				}
			})
			close(release)
			wg.Wait()
			close(stop)
			collections.Wait()

			rm, active := collect()
			if active != 0 {
				t.Errorf("%s after every call ended = %d, want 0", names.Active, active)
			}
			const calls, failures = goroutines * (each + 1), goroutines * each / 4
			var count uint64
			for _, m := range metricsOf(rm, names.Duration) {
				for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
					count += dp.Count
				}
			}
			if count != calls {
				t.Errorf("%s count = %d, want %d", names.Duration, count, calls)
			}
			if names.Requests == "" {
				return
			}
			for name, want := range map[string]int64{names.Requests: calls, names.Errors: failures} {
				var got int64
				for _, dp := range pointsOf(rm, name) {
					got += dp.Value
				}
				if got != want {
					t.Errorf("%s = %d, want %d", name, got, want)
				}
			}
		})
	}
}

// operationCalls runs operations named "checkout"; a failure ends with an
// error.
func operationCalls(p otelred.Profile) func(*testing.T, *sdkmetric.MeterProvider) func(bool, func()) {
	return func(t *testing.T, mp *sdkmetric.MeterProvider) func(bool, func()) {
		o, err := otelred.NewOperations(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop"))
		if err != nil {
			t.Fatal(err)
		}
		failure := errors.New("declined")
		ctx := context.Background()
		return func(fail bool, hold func()) {
			op := o.Start(ctx, "checkout")
			if hold != nil {
				hold()
			}
			var err error
			if fail {
				err = failure
			}
			op.End(err)
		}
	}
}

// metricsOf returns the metrics named name of otelred's scope.
func metricsOf(rm metricdata.ResourceMetrics, name string) []metricdata.Metrics {
	var ms []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelred.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				ms = append(ms, m)
			}
		}
	}
	return ms
}

// pointsOf returns the points of the int64 sum named name.
func pointsOf(rm metricdata.ResourceMetrics, name string) []metricdata.DataPoint[int64] {
	var dps []metricdata.DataPoint[int64]
	for _, m := range metricsOf(rm, name) {
		if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
			dps = append(dps, sum.DataPoints...)
		}
	}
	return dps
}
