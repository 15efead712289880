package testsupport

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
)

// Reports collects what otel.Handle gets while a test runs.
type Reports struct {
	mu   sync.Mutex
	errs []error
}

// CaptureReports installs an error handler that collects every report,
// and puts the previous one back when the test ends.
func CaptureReports(t testing.TB) *Reports {
	t.Helper()
	r := &Reports{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.errs = append(r.errs, err)
	}))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return r
}

// Texts returns the reports so far, as text.
func (r *Reports) Texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, err := range r.errs {
		s = append(s, err.Error())
	}
	return s
}

// Want fails the test unless the reports so far are exactly want, in
// order, and each wraps sentinel.
func (r *Reports) Want(t testing.TB, sentinel error, want ...string) {
	t.Helper()
	got := r.Texts()
	r.mu.Lock()
	errs := slices.Clone(r.errs)
	r.mu.Unlock()
	if len(errs) != len(want) {
		t.Errorf("%d reports, want %d:\n%s", len(errs), len(want), strings.Join(got, "\n"))
		return
	}
	for i, err := range errs {
		if !errors.Is(err, sentinel) || err.Error() != want[i] {
			t.Errorf("report %d:\n got %v\nwant %s (wrapping %v)", i, err, want[i], sentinel)
		}
	}
}

// InChild runs the test alone in a new process of the test binary, for a
// test that needs OpenTelemetry's global MeterProvider as a process
// starts it (setting it cannot be undone), and fails unless it passes
// there. It returns true in that process, where the test then runs, and
// false in the first.
func InChild(t *testing.T) bool {
	t.Helper()
	const marker = "OTELRED_TEST_CHILD"
	if os.Getenv(marker) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), marker+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Errorf("in a process of its own: %v\n%s", err, out)
	}
	return false
}
