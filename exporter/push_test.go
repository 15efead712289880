package exporter_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/otelred"
)

// lostAt finds the time a failed last push names, after "at ".
var lostAt = regexp.MustCompile(`, at (\S+) \(`)

// TestShutdownSaysWhatTheLastPushLost pushes once with success, then
// shuts down with the collector refusing or hanging: Shutdown returns
// within its context's deadline, with one line that wraps
// ErrLastPushFailed, names the collector and gives the time of the
// successful push, since which the measurements are lost.
func TestShutdownSaysWhatTheLastPushLost(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, fault := range []otlptest.Fault{otlptest.Refuse, otlptest.Hang} {
			t.Run(proto+"/collector "+fault.String(), func(t *testing.T) {
				clearEnv(t)
				rcv := otlptest.Start(t, proto)
				p, err := exporter.Setup(context.Background(), exporter.Config{
					Exporters: []string{"otlp"},
					OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: time.Hour},
				})
				if err != nil {
					t.Fatal(err)
				}
				h := app(t, p, otelred.Semconv)
				serve(context.Background(), h, "/users/1")
				before := time.Now()
				if err := p.ForceFlush(context.Background()); err != nil {
					t.Fatalf("ForceFlush with the collector up: %v", err)
				}
				after := time.Now()
				rcv.SetFault(fault)
				serve(context.Background(), h, "/users/2") // lost

				const budget = time.Second
				ctx, cancel := context.WithTimeout(context.Background(), budget)
				defer cancel()
				start := time.Now()
				err = p.Shutdown(ctx)
				took := time.Since(start)
				if took > budget+time.Second {
					t.Errorf("Shutdown took %v, past its context's %v", took, budget)
				}
				if !errors.Is(err, exporter.ErrLastPushFailed) {
					t.Fatalf("Shutdown: %v; want an error wrapping ErrLastPushFailed", err)
				}
				msg := err.Error()
				for _, want := range []string{"OTLP " + proto + " to " + rcv.Endpoint(), "the measurements since the last successful push", "are lost"} {
					if !strings.Contains(msg, want) {
						t.Errorf("the error %q does not say %q", msg, want)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("the error is not one line: %q", msg)
				}
				m := lostAt.FindStringSubmatch(msg)
				if m == nil {
					t.Fatalf("the error %q names no time", msg)
				}
				at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", m[1])
				if err != nil {
					t.Fatal(err)
				}
				if at.Before(before.Truncate(time.Millisecond)) || at.After(after) {
					t.Errorf("the last successful push is said to be at %v, want the ForceFlush's, between %v and %v", at, before, after)
				}
				if again := p.Shutdown(context.Background()); again != err && again.Error() != msg {
					t.Errorf("a second Shutdown returned %v, want the first one's result", again)
				}
			})
		}
	}
}

// TestShutdownWithNoPushEverSucceeded: a collector down from the start
// loses every measurement since Setup, and the error says so.
func TestShutdownWithNoPushEverSucceeded(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			clearEnv(t)
			rcv := otlptest.Start(t, proto)
			rcv.SetFault(otlptest.Refuse)
			started := time.Now()
			p, err := exporter.Setup(context.Background(), exporter.Config{
				Exporters: []string{"otlp"},
				OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: time.Hour},
			})
			if err != nil {
				t.Fatal(err)
			}
			serve(context.Background(), app(t, p, otelred.Semconv), "/users/1")
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err = p.Shutdown(ctx)
			if !errors.Is(err, exporter.ErrLastPushFailed) || !strings.Contains(err.Error(), "no push had succeeded, so every measurement since the start") {
				t.Fatalf("Shutdown: %v; want ErrLastPushFailed saying that every measurement is lost", err)
			}
			m := lostAt.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("the error %q names no time", err)
			}
			if at, perr := time.Parse("2006-01-02T15:04:05.000Z07:00", m[1]); perr != nil || at.Before(started.Truncate(time.Millisecond)) || at.After(time.Now()) {
				t.Errorf("the start is said to be at %v (%v), want Setup's time, after %v", at, perr, started)
			}
		})
	}
}

// TestShutdownWithTheCollectorUp: a last push that succeeds is no error,
// and it carries every request.
func TestShutdownWithTheCollectorUp(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			clearEnv(t)
			rcv := otlptest.Start(t, proto)
			p, err := exporter.Setup(context.Background(), exporter.Config{
				Exporters: []string{"otlp"},
				OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: time.Second},
			})
			if err != nil {
				t.Fatal(err)
			}
			h := app(t, p, otelred.Semconv)
			for range 3 {
				serve(context.Background(), h, "/users/1")
			}
			// A failed push before the last one loses nothing here: the
			// last one carries the totals.
			rcv.SetFault(otlptest.Hang)
			if err := p.ForceFlush(context.Background()); err == nil {
				t.Fatal("ForceFlush with the collector hanging succeeded")
			}
			rcv.SetFault(otlptest.None)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown with the collector up: %v", err)
			}
			dp, ok := rcv.Histogram("http.server.request.duration", map[string]string{"http.request.method": "GET", "http.route": "/users/{id}",
				"http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"})
			if !ok || dp.GetCount() != 3 {
				t.Errorf("the last push holds %d requests to /users/{id} (found %v), want 3", dp.GetCount(), ok)
			}
		})
	}
}

// TestShutdownIsBoundedByTheExportTimeout: with a collector that hangs,
// the last push gives up at OTLP.Timeout, even when the context of
// Shutdown allows more.
func TestShutdownIsBoundedByTheExportTimeout(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			clearEnv(t)
			rcv := otlptest.Start(t, proto)
			rcv.SetFault(otlptest.Hang)
			const timeout = 300 * time.Millisecond
			p, err := exporter.Setup(context.Background(), exporter.Config{
				Exporters: []string{"otlp"},
				OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: timeout},
			})
			if err != nil {
				t.Fatal(err)
			}
			serve(context.Background(), app(t, p, otelred.Semconv), "/users/1")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err = p.Shutdown(ctx)
			if took := time.Since(start); took > timeout+2*time.Second {
				t.Errorf("Shutdown took %v with OTLP.Timeout %v", took, timeout)
			}
			if !errors.Is(err, exporter.ErrLastPushFailed) {
				t.Errorf("Shutdown: %v; want ErrLastPushFailed", err)
			}
		})
	}
}
