package exporter_test

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/otelred"
)

// faults are the ways a collector fails.
var faults = []struct {
	name  string
	fault otlptest.Fault
}{
	{"down", otlptest.Refuse},
	{"hung", otlptest.Hang},
	{"503", otlptest.Unavailable},
	{"429", otlptest.Throttle},
}

// TestCollectorFaultsLeaveRequestsAlone runs requests through the
// middleware while the collector is down, hangs, or answers 503 or 429, and
// checks that no request waits for an export (the time they take is
// reported beside requests with no exporter, interleaved so both see the
// same machine), that the export
// errors reach otel.Handle, and that Shutdown returns within its context.
func TestCollectorFaultsLeaveRequestsAlone(t *testing.T) {
	const (
		timeout         = 400 * time.Millisecond
		shutdownTimeout = 300 * time.Millisecond
		slack           = 500 * time.Millisecond
		n               = 2000
	)
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, f := range faults {
			t.Run(proto+"/collector="+f.name, func(t *testing.T) {
				clearEnv(t)
				errs := captureErrors(t)
				rcv := otlptest.Start(t, proto)
				rcv.SetFault(f.fault)
				p, err := exporter.Setup(context.Background(), exporter.Config{
					Exporters: []string{"otlp"},
					OTLP: exporter.OTLP{
						Protocol: proto,
						Endpoint: rcv.Endpoint(),
						Interval: 20 * time.Millisecond,
						Timeout:  timeout,
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				faulty := app(t, p, otelred.Semconv)
				healthy := app(t, setup(t, exporter.Config{Exporters: []string{"none"}}), otelred.Semconv)

				ctx := t.Context()
				var withFault, without, slowest time.Duration
				slow := 0
				for i := range n {
					path := "/users/1"
					if i%10 == 0 {
						path = "/fail"
					}
					start := time.Now()
					serve(ctx, healthy, path)
					without += time.Since(start)
					start = time.Now()
					serve(ctx, faulty, path)
					d := time.Since(start)
					withFault += d
					slowest = max(slowest, d)
					if d >= timeout {
						slow++
					}
				}
				ratio := float64(withFault) / float64(without)
				t.Logf("%d requests with the collector %s took %.2f× as long as with no exporter; the slowest took %.4f of the export timeout",
					n, f.name, ratio, float64(slowest)/float64(timeout))
				// The ratio is reported, not asserted: speed is the benchmark's
				// job (BenchmarkRequestPathUnderFaults). What must hold on any
				// machine is that requests do not wait for exports: one that did
				// would take the export timeout, and with exports every 20 ms
				// nearly all would. A few slow ones are a loaded machine.
				if slow*20 > n {
					t.Errorf("%d of %d requests took the export timeout (the slowest %v): requests wait for exports", slow, n, slowest)
				}

				wait, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if !errs.waitFor(wait, 1) {
					t.Fatal("no export error reached otel.Handle")
				}

				sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
				defer scancel()
				start := time.Now()
				err = p.Shutdown(sctx)
				took := time.Since(start)
				if err == nil {
					t.Errorf("Shutdown returned nil with the collector %s, want the failed flush's error", f.name)
				}
				if took > shutdownTimeout+slack {
					t.Errorf("Shutdown took %.2f× its context's timeout, want at most %.2f×",
						float64(took)/float64(shutdownTimeout), float64(shutdownTimeout+slack)/float64(shutdownTimeout))
				}
				if f.fault != otlptest.Refuse && rcv.Attempts() == 0 {
					t.Error("the receiver saw no export attempt")
				}
			})
		}
	}
}

// TestPushRecoversWithTheCollector starts with a collector answering 503,
// then heals it: the next export holds every request made meanwhile.
func TestPushRecoversWithTheCollector(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			clearEnv(t)
			errs := captureErrors(t)
			rcv := otlptest.Start(t, proto)
			rcv.SetFault(otlptest.Unavailable)
			p := setup(t, exporter.Config{
				Exporters: []string{"otlp"},
				OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond},
			})
			h := app(t, p, otelred.Semconv)
			for range 5 {
				serve(t.Context(), h, "/users/1")
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if !errs.waitFor(ctx, 1) {
				t.Fatal("no export error reached otel.Handle while the collector answered 503")
			}
			if n := len(rcv.Requests()); n != 0 {
				t.Fatalf("the receiver stored %d requests while failing", n)
			}
			rcv.SetFault(otlptest.None)
			attrs := map[string]string{"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"}
			err := rcv.WaitFor(ctx, func() bool {
				hp, ok := rcv.Histogram("http.server.request.duration", attrs)
				return ok && hp.GetCount() == 5
			})
			if err != nil {
				t.Fatalf("the 5 requests never arrived after the collector recovered: %v", err)
			}
		})
	}
}

// TestMemoryStaysBoundedWhileTheCollectorFails runs many short export
// intervals against a failing collector, with traffic in between, and
// compares the live heap before and after.
func TestMemoryStaysBoundedWhileTheCollectorFails(t *testing.T) {
	const maxGrowth = 512 << 10
	for _, tc := range []struct {
		name              string
		proto             string
		fault             otlptest.Fault
		interval, timeout time.Duration
		exports           int
	}{
		{"http/collector=down", otlptest.HTTP, otlptest.Refuse, 2 * time.Millisecond, 50 * time.Millisecond, 500},
		{"grpc/collector=hung", otlptest.GRPC, otlptest.Hang, 2 * time.Millisecond, 10 * time.Millisecond, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			errs := captureErrors(t)
			rcv := otlptest.Start(t, tc.proto)
			rcv.SetFault(tc.fault)
			p := setup(t, exporter.Config{
				Exporters: []string{"otlp"},
				OTLP:      exporter.OTLP{Protocol: tc.proto, Endpoint: rcv.Endpoint(), Interval: tc.interval, Timeout: tc.timeout},
			})
			h := app(t, p, otelred.Semconv)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			paths := []string{"/users/1", "/fail", "/nope"}
			// drive sends traffic until n export errors in all have arrived.
			drive := func(n int) {
				for errs.count() < n {
					for i := range 30 {
						serve(ctx, h, paths[i%len(paths)])
					}
					if !errs.waitFor(ctx, errs.count()+1) {
						t.Fatalf("only %d of %d export errors arrived", errs.count(), n)
					}
				}
			}
			heap := func() uint64 {
				runtime.GC()
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}

			drive(20)
			before := heap()
			drive(20 + tc.exports)
			after := heap()
			growth := int64(after) - int64(before)
			t.Logf("live heap %d → %d bytes (%+d) over %d failed exports", before, after, growth, errs.count()-20)
			if growth > maxGrowth {
				t.Errorf("the live heap grew by %d bytes over %d failed exports, want at most %d", growth, tc.exports, maxGrowth)
			}
		})
	}
}

// discard is a ResponseWriter that keeps nothing, so the benchmark measures
// the handler and not a recorder.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
