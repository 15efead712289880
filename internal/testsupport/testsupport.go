// Package testsupport holds the helpers that the tests of several packages
// of this module share, so that each has one home. It is imported only from
// _test.go files; it is internal, not part of the module's API.
package testsupport

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RequirePrometheus is the environment variable that, set to "1" (as CI
// does), turns a missing prometheus or promtool binary from a skipped check
// into a failure.
const RequirePrometheus = "OTELRED_REQUIRE_PROMETHEUS"

// SettleGoroutines polls until at most n goroutines run, for up to 5 s, and
// returns the last count: goroutines that a shutdown stops may take a moment
// to return.
func SettleGoroutines(n int) int {
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		got := runtime.NumGoroutine()
		if got <= n || time.Now().After(deadline) {
			return got
		}
		<-tick.C
	}
}

// Promtool lints a text exposition with promtool check metrics, with the
// promtool of every version of [Prometheuses]: any output or a failed run
// is a test error. A version whose promtool is not installed is skipped
// with a log line, unless [RequirePrometheus] is "1", which makes it a
// failure.
func Promtool(t testing.TB, body string) {
	t.Helper()
	for _, p := range Prometheuses() {
		path, err := p.find("promtool")
		if err != nil {
			if os.Getenv(RequirePrometheus) == "1" {
				t.Fatalf("%v, and %s=1 requires it: %s", err, RequirePrometheus, p.hint)
			}
			t.Logf("%v: the scrape is not linted by it (%s)", err, p.hint)
			continue
		}
		cmd := exec.Command(path, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("promtool check metrics (%s): %v\n%s", p.Name, err, out)
		}
	}
}
