package main

import (
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
)

// TestBinaryWithTheCollectorDown runs the built demo pushing OTLP to a
// collector that refuses connections or hangs when the signal comes: the
// demo stopped cleanly, so it exits 0, within its budget for the last
// push, and logs one line that says what that push lost.
func TestBinaryWithTheCollectorDown(t *testing.T) {
	// docker stop kills after 10 s, Kubernetes after 30 s by default.
	if total := httpShutdownTimeout + providerShutdownTimeout; total >= 10*time.Second {
		t.Errorf("the shutdown budgets add up to %v, past docker stop's 10 s", total)
	}
	bin := demoBinary(t)
	lost := regexp.MustCompile(`^otelred example: exporter: the last push failed: OTLP (\S+) to (\S+): no push had succeeded, so every measurement since the start, at \S+ \([^)]+\), is lost: `)
	for _, proto := range []string{otlptest.HTTP, otlptest.GRPC} {
		for _, tc := range []struct {
			fault otlptest.Fault
			sig   syscall.Signal
		}{{otlptest.Refuse, syscall.SIGTERM}, {otlptest.Hang, syscall.SIGTERM}, {otlptest.Hang, syscall.SIGINT}} {
			t.Run(proto+"/collector "+tc.fault.String()+"/"+tc.sig.String(), func(t *testing.T) {
				t.Parallel()
				recv := otlptest.Start(t, proto)
				recv.SetFault(tc.fault)
				cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
				cmd.Env = cleanEnv(
					"OTEL_METRICS_EXPORTER=otlp",
					"OTEL_EXPORTER_OTLP_PROTOCOL="+proto,
					"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+recv.Addr(),
					"OTEL_METRIC_EXPORT_INTERVAL=3600000",
				)
				proc, base := testsupport.StartProcess(t, cmd, regexp.MustCompile(`listening on (http://\S+)`), 60*time.Second)
				c := newClient(t)
				for range 3 {
					get(t, c, base+"/hello/ada")
				}
				code, took := proc.Stop(t, tc.sig, 60*time.Second)
				if code != 0 {
					t.Errorf("after %v the demo exited %d, want 0", tc.sig, code)
				}
				if limit := providerShutdownTimeout + 2*time.Second; took > limit {
					t.Errorf("the demo took %v to exit after %v, past its %v for the last push", took, tc.sig, providerShutdownTimeout)
				}
				var lines []string
				for _, l := range proc.Stderr() {
					if strings.Contains(l, "the last push failed") {
						lines = append(lines, l)
					}
				}
				if len(lines) != 1 {
					t.Fatalf("%d lines say what the last push lost, want 1: %q", len(lines), lines)
				}
				m := lost.FindStringSubmatch(lines[0])
				if m == nil || m[1] != proto || !strings.HasPrefix(m[2], "http://"+recv.Addr()) {
					t.Errorf("the line %q does not say that every measurement pushed %s to %s is lost", lines[0], proto, recv.Addr())
				}
			})
		}
	}
}
