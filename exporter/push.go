package exporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// ErrLastPushFailed is wrapped by the error of [Provider.Shutdown] when
// its last OTLP push failed (the collector refused it, hung past the
// deadline, or answered an error): the measurements recorded since the
// last push that succeeded never reach the collector. The message says
// since when, for example
//
//	exporter: the last push failed: OTLP grpc to http://collector:4317: the measurements since the last successful push, at 2026-12-08T10:15:04.120Z (41.2s before), are lost: context deadline exceeded
//
// The service itself stopped as it should: log the error, and exit as
// after any clean shutdown.
var ErrLastPushFailed = errors.New("exporter: the last push failed")

// timeLayout is how the error of a failed last push writes the time of
// the last one that succeeded.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// pushLog is the OTLP exporter that the periodic reader is given, around
// the others: it bounds each export by [OTLP.Timeout], and remembers when
// an export last succeeded, so that [Provider.Shutdown] can say what a
// failed last push lost.
//
// The periodic reader applies the timeout itself, except to the last push
// of a Shutdown whose context has a deadline, and the HTTP exporter
// bounds only each attempt, retrying until its context ends: without the
// bound here, a collector that hangs would hold that last push until the
// caller's deadline, however far.
type pushLog struct {
	sdkmetric.Exporter // set by newOTLPReader

	target  string        // "OTLP grpc to http://…", without secrets
	timeout time.Duration // of each export, retries included
	start   time.Time     // when the exporter was built

	mu      sync.Mutex
	exports int       // how many exports have ended
	ok      time.Time // when the last export that succeeded began; zero if none did
	last    error     // of the export that ended last
}

func newPushLog(o OTLP) *pushLog {
	return &pushLog{
		target:  fmt.Sprintf("OTLP %s to %s", o.protocol(), o.url().Redacted()),
		timeout: o.timeout(),
		start:   time.Now(),
	}
}

// Export exports rm, within the timeout, and notes the result. A success
// delivers what was measured until rm was collected, just before Export
// began.
func (p *pushLog) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	err := p.Exporter.Export(ctx, rm)
	p.mu.Lock()
	p.exports++
	p.last = err
	if err == nil {
		p.ok = began
	}
	p.mu.Unlock()
	return err
}

// count returns how many exports have ended.
func (p *pushLog) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exports
}

// lost returns err, the error of a shutdown that had seen mark exports
// end before it began, wrapped in [ErrLastPushFailed] with what was lost;
// or nil when the shutdown's last push succeeded.
func (p *pushLog) lost(mark int, err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exports > mark && p.last == nil {
		return nil
	}
	now := time.Now()
	what := fmt.Sprintf("the measurements since the last successful push, at %s (%v before), are lost",
		p.ok.Format(timeLayout), now.Sub(p.ok).Round(time.Millisecond))
	if p.ok.IsZero() {
		what = fmt.Sprintf("no push had succeeded, so every measurement since the start, at %s (%v before), is lost",
			p.start.Format(timeLayout), now.Sub(p.start).Round(time.Millisecond))
	}
	return fmt.Errorf("%w: %s: %s: %w", ErrLastPushFailed, p.target, what, err)
}
