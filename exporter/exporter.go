package exporter

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// abortTimeout bounds the shutdown of what a failed New had started.
const abortTimeout = 5 * time.Second

// Exporter holds the metric readers that a [Config] asks for, for a
// MeterProvider you build yourself, and what serves them: the Prometheus
// handler and, if configured, its standalone listener.
type Exporter struct {
	readers    []sdkmetric.Reader
	handler    http.Handler
	cumulative sdkmetric.Reader // the Prometheus exporter's, for the debug page
	unregister func()
	push       *pushLog // the OTLP exporter's; nil without one

	ln     net.Listener
	srv    *http.Server
	served chan struct{}

	shutdown sync.Once
	err      error
}

// New applies the environment to cfg ([Config.WithEnv]), validates it and
// builds the readers of every exporter it lists, for a MeterProvider you
// build yourself:
//
//	exp, err := exporter.New(ctx, cfg)
//	...
//	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
//	for _, r := range exp.Readers() {
//		opts = append(opts, sdkmetric.WithReader(r))
//	}
//	mp := sdkmetric.NewMeterProvider(opts...)
//	mux.Handle("/metrics", exp.Handler())
//
// The readers belong to that MeterProvider from then on: its Shutdown
// flushes and stops them. Call [Exporter.Shutdown] after it, for the
// listener. [Setup] does all of this in one call.
//
// Push readers start their timers at once, and a configured listener binds
// here, so a port in use is an error from New. New starts nothing half-way:
// when it returns an error, every reader it had built is shut down and the
// listener closed.
func New(ctx context.Context, cfg Config) (*Exporter, error) {
	cfg, err := cfg.WithEnv()
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e, err := build(ctx, cfg)
	if err != nil {
		return nil, err
	}
	e.serve(cfg.Prometheus.Path, nil)
	return e, nil
}

// build builds the exporters of a valid cfg. The listener binds first, so
// that a port in use fails before anything runs; it serves once serve is
// called.
func build(ctx context.Context, cfg Config) (_ *Exporter, err error) {
	e := &Exporter{}
	defer func() {
		if err != nil {
			e.abort()
		}
	}()

	if cfg.enabled(prometheusName) && cfg.Prometheus.ListenAddr != "" {
		ln, err := net.Listen("tcp", cfg.Prometheus.ListenAddr)
		if err != nil {
			return nil, fmt.Errorf("exporter: Prometheus.ListenAddr %q: %w", cfg.Prometheus.ListenAddr, err)
		}
		e.ln = ln
	}
	if cfg.enabled(otlpName) {
		e.push = newPushLog(cfg.OTLP)
		r, err := newOTLPReader(ctx, cfg.OTLP, e.push)
		if err != nil {
			return nil, err
		}
		e.readers = append(e.readers, r)
	}
	if cfg.enabled(consoleName) {
		r, err := newConsoleReader(cfg.Console)
		if err != nil {
			return nil, err
		}
		e.readers = append(e.readers, r)
	}
	if cfg.enabled(prometheusName) {
		p, err := newPrometheus(cfg.Prometheus)
		if err != nil {
			return nil, err
		}
		e.readers = append(e.readers, p.reader)
		e.cumulative = p.reader
		e.handler = p.handler
		e.unregister = p.unregister
	}
	return e, nil
}

func newConsoleReader(c Console) (sdkmetric.Reader, error) {
	w := c.Writer
	if w == nil {
		w = os.Stdout
	}
	exp, err := stdoutmetric.New(stdoutmetric.WithWriter(w))
	if err != nil {
		return nil, fmt.Errorf("exporter: console exporter: %w", err)
	}
	return sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(orDefault(c.Interval, defaultInterval))), nil
}

// serve serves the handler at path on the bound listener, if there is one,
// and the RED page debug, unless it is nil, at /debug/red.
func (e *Exporter) serve(path string, debug http.Handler) {
	if e.ln == nil {
		return
	}
	if path == "" {
		path = defaultPath
	}
	mux := http.NewServeMux()
	mux.Handle(path, e.handler)
	if debug != nil {
		mux.Handle("GET "+debugPath, debug)
	}
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	e.served = make(chan struct{})
	go func() {
		defer close(e.served)
		_ = e.srv.Serve(e.ln)
	}()
}

// abort undoes a build that failed part-way.
func (e *Exporter) abort() {
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	for _, r := range e.readers {
		_ = r.Shutdown(ctx)
	}
	if e.ln != nil {
		_ = e.ln.Close()
	}
	if e.unregister != nil {
		e.unregister()
	}
}

// Readers returns the metric readers, one per exporter, for
// sdkmetric.WithReader. It is empty when the exporter list is "none".
func (e *Exporter) Readers() []sdkmetric.Reader {
	return append([]sdkmetric.Reader(nil), e.readers...)
}

// Handler returns the handler that serves the Prometheus exposition,
// negotiating OpenMetrics (with exemplars) or the text format with the
// scraper. Mount it at the metrics path of your own server. A metric that
// fails to gather is reported through otel.Handle and left out; the rest of
// the scrape is still served.
//
// It is nil when the Prometheus exporter does not run, or when
// Prometheus.Registerer is not a prometheus.Gatherer.
func (e *Exporter) Handler() http.Handler { return e.handler }

// Addr returns the address the standalone Prometheus listener is bound to
// (useful with port 0), or nil when there is none. An Exporter's listener
// serves the metrics alone; a [Provider]'s serves its RED page too.
func (e *Exporter) Addr() net.Addr {
	if e.ln == nil {
		return nil
	}
	return e.ln.Addr()
}

// Shutdown closes what New started itself: the standalone listener, after
// the scrapes in progress end or ctx does, and the claim on the Prometheus
// Registerer, so that a later New may use it. The readers are not touched;
// the MeterProvider they were given to shuts them down. Calls after the
// first return the first one's result.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.shutdown.Do(func() {
		if e.srv != nil {
			if err := e.srv.Shutdown(ctx); err != nil {
				e.err = fmt.Errorf("exporter: closing the Prometheus listener: %w", err)
				_ = e.srv.Close()
			}
			<-e.served
		}
		if e.unregister != nil {
			e.unregister()
		}
	})
	return e.err
}
