package otelred_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
)

// quickStartPushBudget is how long the README's quick start gives its last
// push, and quickStartSlack what a test allows on top of it, for the
// process to exit on a loaded machine.
const (
	quickStartPushBudget = 3 * time.Second
	quickStartSlack      = 2 * time.Second
)

// lostLine matches the line a failed last push logs.
var lostLine = regexp.MustCompile(`exporter: the last push failed: OTLP (\S+) to (\S+): (.*) (?:are|is) lost: `)

// TestReadmeQuickStartWithTheCollectorDown runs the quick start as
// written, pushing OTLP to a collector that is down when SIGTERM comes:
// refusing connections from the start, refusing after a push succeeded,
// or hanging. The service stopped cleanly, so it exits 0, within the
// quick start's budget for the last push, and logs one line that says
// what was lost, since when.
func TestReadmeQuickStartWithTheCollectorDown(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGTERM cannot be sent on Windows")
	}
	bin := buildQuickStart(t)
	for _, proto := range []string{otlptest.HTTP, otlptest.GRPC} {
		for _, tc := range []struct {
			name string
			// pushFirst waits for a push to succeed before the fault.
			pushFirst bool
			fault     otlptest.Fault
			// want is what the line says was lost.
			want string
		}{
			{"refusing from the start", false, otlptest.Refuse, "no push had succeeded, so every measurement since the start, at "},
			{"refusing after a push", true, otlptest.Refuse, "the measurements since the last successful push, at "},
			{"hanging", true, otlptest.Hang, "the measurements since the last successful push, at "},
		} {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				rcv := otlptest.Start(t, proto)
				if !tc.pushFirst {
					rcv.SetFault(tc.fault)
				}
				cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
				cmd.Env = append(withoutOtelEnv(os.Environ()),
					"OTEL_METRICS_EXPORTER=otlp",
					"OTEL_EXPORTER_OTLP_PROTOCOL="+proto,
					"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+rcv.Addr(),
					"OTEL_METRIC_EXPORT_INTERVAL=200")
				proc, base := testsupport.StartProcess(t, cmd, regexp.MustCompile(`listening on (http://\S+)`), 30*time.Second)
				if tc.pushFirst {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					// The second push begins after the first one's answer
					// reached the quick start: so one has succeeded.
					if err := rcv.WaitFor(ctx, func() bool { return len(rcv.Requests()) >= 2 }); err != nil {
						t.Fatal("no push reached the collector")
					}
					rcv.SetFault(tc.fault)
				}
				for range 3 {
					if body := get(t, base+"/users/42"); body != "user 42\n" {
						t.Fatalf("GET /users/42 = %q", body)
					}
				}
				code, took := proc.Stop(t, syscall.SIGTERM, 30*time.Second)
				if code != 0 {
					t.Errorf("after SIGTERM the quick start exited %d, want 0", code)
				}
				if took > quickStartPushBudget+quickStartSlack {
					t.Errorf("the quick start took %v to exit after SIGTERM, past its %v for the last push", took, quickStartPushBudget)
				}
				var lost []string
				for _, l := range proc.Stderr() {
					if lostLine.MatchString(l) {
						lost = append(lost, l)
					}
				}
				if len(lost) != 1 {
					t.Fatalf("%d lines say what the last push lost, want 1: %q", len(lost), lost)
				}
				m := lostLine.FindStringSubmatch(lost[0])
				if m[1] != proto || !strings.HasPrefix(m[2], "http://"+rcv.Addr()) || !strings.HasPrefix(m[3], tc.want) {
					t.Errorf("the line %q does not name %s to %s and say %q", lost[0], proto, rcv.Addr(), tc.want)
				}
			})
		}
	}
}
