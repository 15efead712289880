package exporter_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// portIsFree reports whether addr can be bound again.
func portIsFree(t *testing.T, addr string) bool {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

// TestNewStartsNothingHalfWay makes the third exporter fail to build, after
// the listener is bound and the OTLP and console readers run, and checks
// that the error leaves nothing behind: no goroutine, no listener.
func TestNewStartsNothingHalfWay(t *testing.T) {
	clearEnv(t)
	errs := captureErrors(t)
	rcv := otlptest.Start(t, otlptest.GRPC)
	reg := prometheus.NewRegistry()
	holder, err := exporter.New(context.Background(), exporter.Config{Prometheus: exporter.Prometheus{Registerer: reg}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Shutdown(context.Background()) })

	console := &testsupport.LockedBuffer{}
	cfg := func(addr string, reg prometheus.Registerer) exporter.Config {
		return exporter.Config{
			Exporters: []string{"otlp", "console", "prometheus"},
			OTLP:      exporter.OTLP{Protocol: "grpc", Endpoint: rcv.Endpoint(), Interval: time.Hour},
			Console:   exporter.Console{Writer: console, Interval: time.Hour},
			Prometheus: exporter.Prometheus{
				ListenAddr: addr,
				Registerer: reg,
			},
		}
	}

	for _, build := range []struct {
		name string
		call func(exporter.Config) error
	}{
		{"New", func(c exporter.Config) error { _, err := exporter.New(context.Background(), c); return err }},
		{"Setup", func(c exporter.Config) error { _, err := exporter.Setup(context.Background(), c); return err }},
	} {
		t.Run(build.name, func(t *testing.T) {
			addr := freeAddr(t)
			before := runtime.NumGoroutine()
			err := build.call(cfg(addr, reg)) // reg is taken by holder
			checkErr(t, err, []string{"Prometheus.Registerer"}, nil)
			if got := testsupport.SettleGoroutines(before); got > before {
				t.Errorf("%d goroutines run after the failed %s, %d before: something was left running", got, build.name, before)
			}
			if !portIsFree(t, addr) {
				t.Errorf("the listener on %s is still bound after the failed %s", addr, build.name)
			}
		})
	}

	// The same configuration with a free registry succeeds and does start
	// goroutines, so the count above could have caught a leak.
	addr := freeAddr(t)
	before := runtime.NumGoroutine()
	e, err := exporter.New(context.Background(), cfg(addr, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := runtime.NumGoroutine(); got <= before {
		t.Errorf("a successful New started no goroutine (%d before, %d after): the leak check proves nothing", before, got)
	}
	for _, r := range e.Readers() {
		_ = r.Shutdown(context.Background())
	}
	_ = e.Shutdown(context.Background())

	if console.Len() != 0 {
		t.Errorf("the console exporter of a failed build wrote %d bytes", console.Len())
	}
	if errs.count() != 0 {
		t.Errorf("otel.Handle got errors: %s", errs)
	}
}

func TestPortInUseFailsNew(t *testing.T) {
	clearEnv(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	before := runtime.NumGoroutine()
	_, err = exporter.Setup(context.Background(), exporter.Config{
		Exporters:  []string{"prometheus", "console"},
		Console:    exporter.Console{Writer: &testsupport.LockedBuffer{}},
		Prometheus: exporter.Prometheus{ListenAddr: addr},
	})
	if err == nil {
		t.Fatal("Setup succeeded on a port in use")
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error %q does not wrap EADDRINUSE", err)
	}
	for _, w := range []string{"Prometheus.ListenAddr", addr} {
		if !bytes.Contains([]byte(err.Error()), []byte(w)) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if got := testsupport.SettleGoroutines(before); got > before {
		t.Errorf("%d goroutines run after the failed Setup, %d before", got, before)
	}
}

func TestExportersAnyCombination(t *testing.T) {
	clearEnv(t)
	rcv := otlptest.Start(t, otlptest.HTTP)
	for _, tc := range []struct {
		exporters   []string
		readers     int
		withHandler bool
	}{
		{nil, 1, true},
		{[]string{"none"}, 0, false},
		{[]string{"otlp"}, 1, false},
		{[]string{"console"}, 1, false},
		{[]string{"prometheus", "otlp", "console"}, 3, true},
	} {
		e, err := exporter.New(context.Background(), exporter.Config{
			Exporters: tc.exporters,
			OTLP:      exporter.OTLP{Endpoint: rcv.Endpoint(), Interval: time.Hour},
			Console:   exporter.Console{Writer: &testsupport.LockedBuffer{}, Interval: time.Hour},
		})
		if err != nil {
			t.Fatalf("%v: %v", tc.exporters, err)
		}
		if n := len(e.Readers()); n != tc.readers {
			t.Errorf("%v: %d readers, want %d", tc.exporters, n, tc.readers)
		}
		if (e.Handler() != nil) != tc.withHandler {
			t.Errorf("%v: Handler() != nil is %v, want %v", tc.exporters, e.Handler() != nil, tc.withHandler)
		}
		for _, r := range e.Readers() {
			_ = r.Shutdown(context.Background())
		}
		_ = e.Shutdown(context.Background())
	}
}

func TestConsoleWritesOnShutdown(t *testing.T) {
	clearEnv(t)
	out := &testsupport.LockedBuffer{}
	p, err := exporter.Setup(context.Background(), exporter.Config{
		Exporters: []string{"console"},
		Console:   exporter.Console{Writer: out, Interval: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if written := out.String(); !strings.Contains(written, `"Name":"http.server.request.duration"`) {
		t.Errorf("the console exporter did not write the duration histogram:\n%s", written)
	}
}

func TestShutdownTwice(t *testing.T) {
	clearEnv(t)
	e, err := exporter.New(context.Background(), exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v, want the first's result (nil)", err)
	}
}

func TestSetupPassesExtraOptions(t *testing.T) {
	clearEnv(t)
	extra := sdkmetric.NewManualReader()
	p, err := exporter.Setup(context.Background(), exporter.Config{Exporters: []string{"none"}}, sdkmetric.WithReader(extra))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	serve(t.Context(), app(t, p, otelred.Semconv), "/users/1")
	var rm metricdata.ResourceMetrics
	if err := extra.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "http.server.request.duration" {
				if got, want := h.DataPoints[0].Bounds, views.Default(otelred.Semconv); !slices.Equal(got, want) {
					t.Errorf("bounds = %v, want the RED view's %v", got, want)
				}
				return
			}
		}
	}
	t.Errorf("the extra reader did not see the duration histogram: %+v", rm)
}
