package testsupport

import (
	"context"
	"errors"
	"log"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel"
)

// ErrorSink collects the errors passed to otel.Handle during one test: an
// export that failed, a push a collector refused. It counts them all but
// keeps only the first few, so that it does not grow in the memory tests.
type ErrorSink struct {
	mu     sync.Mutex
	n      int
	errs   []error
	notify chan struct{}
}

// keptErrors is how many errors an ErrorSink keeps.
const keptErrors = 32

var (
	currentSink    atomic.Pointer[ErrorSink]
	installHandler sync.Once
)

// CaptureErrors routes otel.Handle to a new sink for the rest of the test.
// The global handler is installed once per process and dispatches to the
// current test's sink: the SDK's default handler delegates for good to the
// first handler ever set, so installing and "restoring" one per test would
// leave errors going to a finished test. Errors that arrive while no test
// captures them are logged, as the SDK's default handler does.
func CaptureErrors(t testing.TB) *ErrorSink {
	installHandler.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			if s := currentSink.Load(); s != nil {
				s.add(err)
				return
			}
			log.Print(err)
		}))
	})
	s := &ErrorSink{notify: make(chan struct{}, 1), errs: make([]error, 0, keptErrors)}
	currentSink.Store(s)
	t.Cleanup(func() { currentSink.CompareAndSwap(s, nil) })
	return s
}

func (s *ErrorSink) add(err error) {
	s.mu.Lock()
	s.n++
	if len(s.errs) < keptErrors {
		s.errs = append(s.errs, err)
	}
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Count returns how many errors have arrived.
func (s *ErrorSink) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// First returns the first error that arrived, or "" for none.
func (s *ErrorSink) First() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) == 0 {
		return ""
	}
	return s.errs[0].Error()
}

// Wrapping returns the texts of the errors it kept that wrap sentinel, and
// the number of the others, kept or not.
func (s *ErrorSink) Wrapping(sentinel error) (texts []string, others int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		if errors.Is(e, sentinel) {
			texts = append(texts, e.Error())
		}
	}
	return texts, s.n - len(texts)
}

// String returns the errors it kept, one a line.
func (s *ErrorSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, e := range s.errs {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// WaitFor waits until at least n errors have arrived, or ctx ends, and
// reports which.
func (s *ErrorSink) WaitFor(ctx context.Context, n int) bool {
	for s.Count() < n {
		select {
		case <-s.notify:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
