package main

import (
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otelenv"
	"github.com/otelred/otelred/otelred"
)

// Shutdown budgets: the HTTP server drains requests in flight (a /slow
// request lasts at most 5 s), then the MeterProvider pushes its last
// export, which a collector that is up answers in milliseconds. Together
// they end before a supervisor's kill: docker stop waits 10 s, Kubernetes
// 30 s by default.
const (
	httpShutdownTimeout     = 6 * time.Second
	providerShutdownTimeout = 3 * time.Second
)

// debugPath is where the demo serves the live RED page.
const debugPath = "/debug/red"

// defaultServiceName names the service when neither OTEL_SERVICE_NAME nor a
// service.name in OTEL_RESOURCE_ATTRIBUTES does. It is also the job name in
// prometheus/prometheus.yml.
const defaultServiceName = "example"

// options is everything the demo is run with: the flags, and what tests
// set besides.
type options struct {
	addr    string // listen address
	naming  string // "semconv" or "classic"
	load    bool   // drive traffic at the demo and print a live line
	bare    bool   // no instrumentation at all
	tracing bool   // in-process tracing, so that the histograms carry exemplars
	// histogram is "explicit" or "native" (-histogram); "" leaves it to
	// config and OTELRED_HISTOGRAM.
	histogram string

	// config is the exporter configuration the demo starts from; the
	// environment fills what it leaves at zero. main leaves it zero.
	config exporter.Config

	// stats registers the ManualReader that -load reads, without -load.
	stats bool
	// loadEvery is the time between two live lines of -load.
	loadEvery time.Duration
	// dependency is the URL POST /orders calls. The zero value means the
	// demo's own GET /hello/orders.
	dependency string

	stdout, stderr io.Writer
}

// objectivesFile holds the service level objectives: the one file that
// decides the histogram's boundaries here (exporter.Config.Objectives,
// unless OTELRED_OBJECTIVES names another file) and, through redgen, the
// rules, alerts and dashboard. It is embedded, so that the demo runs from
// any directory.
//
//go:embed slo.yaml
var objectivesFile []byte

// objectives decodes slo.yaml.
func objectives() (exporter.Objectives, error) {
	o, err := exporter.ParseObjectives(objectivesFile)
	if err != nil {
		return o, fmt.Errorf("slo.yaml: %w", err)
	}
	return o, nil
}

// demo is the example service, wired and listening, not yet serving.
type demo struct {
	opts       options
	profile    otelred.Profile
	service    string    // service.name of the resource, and Classic's service label
	exporters  []string  // the exporters that run
	boundaries []float64 // of the duration histogram; nil when bare or native
	native     bool      // native (exponential) duration histograms

	provider *exporter.Provider      // nil when bare
	manual   *sdkmetric.ManualReader // nil unless -load (or opts.stats)
	tracing  *tracing                // nil unless -tracing
	orders   *orders                 // what POST /orders calls and tracks
	outbound *http.Transport         // the base transport of its calls

	ln     net.Listener
	srv    *http.Server
	served chan error // Serve's result, once started

	shutdownOnce sync.Once
	shutdownErr  error
}

// newDemo builds the demo: the listener, bound at once so that a port in
// use is an error here (and so that POST /orders knows the address it
// calls); the exporters (from opts.config and the OTEL_* environment), with
// the Go runtime metrics; the otelred middleware around the routes, its
// Transport for the outbound call of POST /orders and its Operations for
// the order's processing; /metrics when the Prometheus exporter runs, and
// /debug/red, unless the exporter's own listener serves both; and, with
// -tracing, otelhttp's tracing around all of it. Call serve, then
// shutdown.
func newDemo(ctx context.Context, opts options) (_ *demo, err error) {
	if opts.stdout == nil {
		opts.stdout = io.Discard
	}
	if opts.stderr == nil {
		opts.stderr = io.Discard
	}
	if opts.loadEvery <= 0 {
		opts.loadEvery = 2 * time.Second
	}
	if opts.naming == "" {
		opts.naming = otelred.Semconv.String()
	}
	profile, err := otelred.ParseProfile(opts.naming)
	if err != nil {
		return nil, fmt.Errorf("-naming %q: want %q or %q", opts.naming, otelred.Semconv, otelred.Classic)
	}
	d := &demo{opts: opts, profile: profile}

	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: %w", opts.addr, err)
	}
	d.ln = ln
	defer func() {
		if err != nil {
			_ = ln.Close()
		}
	}()

	d.outbound = newClientTransport()
	d.orders = &orders{
		client:     &http.Client{Transport: d.outbound, Timeout: dependencyTimeout},
		dependency: opts.dependency,
		track:      untracked,
	}
	if d.orders.dependency == "" {
		d.orders.dependency = selfURL(ln.Addr()) + dependencyPath
	}
	mux := newMux(sleep, d.orders)
	var h http.Handler = mux
	if !opts.bare {
		if h, err = d.instrument(ctx, mux); err != nil {
			return nil, err
		}
	}
	d.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return d, nil
}

// instrument sets up the exporters, with the runtime metrics, and returns
// mux wrapped in the otelred middleware, with /metrics (when the
// Prometheus exporter runs) and /debug/red mounted, unless the exporter's
// standalone listener serves them. It instruments the outbound call and the
// processing of POST /orders with the same MeterProvider and profile, and
// with -tracing puts otelhttp around the middleware and the Transport. On
// error, nothing it started is left running.
func (d *demo) instrument(ctx context.Context, mux *http.ServeMux) (_ http.Handler, err error) {
	cfg := d.opts.config
	cfg.Naming = d.profile.String()
	cfg.RuntimeMetrics = true
	cfg.DebugPage = true // the live RED page, whatever the exporters
	if d.opts.histogram != "" {
		cfg.Histogram = d.opts.histogram
	}
	if cfg.ServiceName == "" && otelenv.ServiceName() == "" { // the environment's name wins
		cfg.ServiceName = defaultServiceName
	}
	cfg, err = cfg.WithEnv() // Setup does it too; here for the exporters' names and the histogram
	if err != nil {
		return nil, err
	}
	// Setup derives the boundaries from the objectives: the profile's
	// defaults plus every latency threshold of slo.yaml, each one exactly,
	// so that the latency SLIs of the generated rules read one bucket.
	// Native histograms need no boundaries: each series has its own.
	if cfg.ObjectivesFile == "" && cfg.Objectives == nil {
		o, err := objectives()
		if err != nil {
			return nil, err
		}
		cfg.Objectives = &o
	}
	d.native = cfg.Histogram == "native"
	d.exporters = cfg.Exporters
	if len(d.exporters) == 0 {
		d.exporters = []string{"prometheus"}
	}

	var extra []sdkmetric.Option
	if d.opts.load || d.opts.stats {
		d.manual = sdkmetric.NewManualReader()
		extra = append(extra, sdkmetric.WithReader(d.manual))
	}
	p, err := exporter.Setup(ctx, cfg, extra...)
	if err != nil {
		return nil, err
	}
	d.provider = p
	d.boundaries = p.Boundaries(d.profile)
	defer func() {
		if err != nil {
			_ = d.shutdownProvider()
		}
	}()

	// The Classic profile's service label is the resource's service.name,
	// which otelred reads from the Provider.
	d.service = p.ServiceName()
	common := []otelred.Option{
		otelred.WithMeterProvider(p),
		otelred.WithProfile(d.profile),
	}
	// Neither the scrapes nor the RED page's own refreshes are the
	// service's traffic.
	mw, err := otelred.New(append(common, otelred.WithFilter(func(r *http.Request) bool {
		return r.URL.Path != "/metrics" && r.URL.Path != debugPath
	}))...)
	if err != nil {
		return nil, err
	}
	// The outbound call of POST /orders: RED per server.address, bounded
	// to the one host the demo calls.
	host, err := dependencyHost(d.orders.dependency)
	if err != nil {
		return nil, err
	}
	var rt http.RoundTripper
	if rt, err = otelred.NewTransport(d.outbound, append(common, otelred.WithHosts(host))...); err != nil {
		return nil, err
	}
	ops, err := otelred.NewOperations(common...)
	if err != nil {
		return nil, err
	}
	d.orders.track = ops.Track

	// With a standalone listener (OTEL_EXPORTER_PROMETHEUS_HOST or _PORT)
	// the exposition and the RED page are served there only, as the
	// listener does itself: they describe the whole service, and the
	// application's port is often the public one.
	if p.Addr() == nil {
		if h := p.Handler(); h != nil {
			mux.Handle("GET /metrics", h)
		}
		mux.Handle("GET "+debugPath, p.DebugHandler())
	}
	h := mw(mux)
	if d.opts.tracing {
		d.tracing = newTracing(p.Resource)
		h = d.tracing.handler(h)
		rt = d.tracing.transport(rt)
	}
	d.orders.client.Transport = rt
	return h, nil
}

// dependencyHost returns the host of the dependency's URL, which the
// Transport records by name.
func dependencyHost(dependency string) (string, error) {
	u, err := url.Parse(dependency)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("the dependency of POST /orders, %q, is not an absolute URL", dependency)
	}
	return u.Hostname(), nil
}

// url returns the demo's base URL, such as "http://127.0.0.1:8080".
func (d *demo) url() string { return "http://" + d.ln.Addr().String() }

// serve starts serving in the background.
func (d *demo) serve() {
	d.served = make(chan error, 1)
	go func() { d.served <- d.srv.Serve(d.ln) }()
}

// shutdown stops the demo gracefully: the server stops accepting, lets the
// requests in flight finish (within httpShutdownTimeout), and then the
// MeterProvider flushes its last push and stops. Calls after the first
// return the first one's result.
func (d *demo) shutdown() error {
	d.shutdownOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		var errs []error
		if err := d.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the HTTP server: %w", err))
			_ = d.srv.Close()
		}
		if d.served != nil {
			if err := <-d.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, fmt.Errorf("serving: %w", err))
			}
		} else {
			_ = d.ln.Close()
		}
		d.outbound.CloseIdleConnections()
		if d.tracing != nil {
			tctx, tcancel := context.WithTimeout(context.Background(), providerShutdownTimeout)
			if err := d.tracing.shutdown(tctx); err != nil {
				errs = append(errs, fmt.Errorf("stopping the tracer provider: %w", err))
			}
			tcancel()
		}
		errs = append(errs, d.shutdownProvider())
		d.shutdownErr = errors.Join(errs...)
	})
	return d.shutdownErr
}

// shutdownProvider pushes the last export and stops the exporters. A last
// push that fails (the collector is down, or hangs past the budget) is
// logged, with what it lost, and is not an error: the demo itself stopped
// as it should, so it exits 0.
func (d *demo) shutdownProvider() error {
	if d.provider == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), providerShutdownTimeout)
	defer cancel()
	err := d.provider.Shutdown(ctx)
	if errors.Is(err, exporter.ErrLastPushFailed) {
		fmt.Fprintf(d.opts.stderr, "otelred example: %v\n", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("flushing metrics: %w", err)
	}
	return nil
}

// snapshot collects the RED instruments from the ManualReader. It needs
// one: -load, or opts.stats.
func (d *demo) snapshot(ctx context.Context) (snapshot, error) {
	if d.manual == nil {
		return snapshot{}, errors.New("no stats reader: run with -load")
	}
	var rm metricdata.ResourceMetrics
	if err := d.manual.Collect(ctx, &rm); err != nil {
		return snapshot{}, err
	}
	return readSnapshot(&rm, d.profile.Names(), time.Now()), nil
}

// banner tells the user where the demo is and what it serves.
func (d *demo) banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "otelred example: listening on %s", d.url())
	if d.opts.bare {
		b.WriteString(" (bare: no instrumentation, no /metrics)\n")
	} else {
		histogram := "explicit"
		if d.native {
			histogram = "native"
		}
		fmt.Fprintf(&b, " (naming %s, histogram %s, service %q, exporters %s)\n", d.profile, histogram, d.service, strings.Join(d.exporters, ","))
	}
	b.WriteString("  GET /hello/{name}  200\n")
	b.WriteString("  GET /fail          500\n")
	b.WriteString("  GET /slow?ms=N     200 after N ms (default 250, capped at 5000); a bad ms is 400\n")
	b.WriteString("  POST /orders       201 after calling GET " + dependencyPath + " on itself and processing the order; 502 if the call fails\n")
	switch {
	case d.provider == nil:
	case d.provider.Addr() != nil:
		fmt.Fprintf(&b, "operators: the Prometheus exposition is at http://%[1]s%[2]s and the live RED page at http://%[1]s%[3]s, on their own listener, and not on %[4]s\n",
			d.provider.Addr(), cmp.Or(d.opts.config.Prometheus.Path, "/metrics"), debugPath, d.url())
	default:
		if d.provider.Handler() != nil {
			b.WriteString("  GET /metrics       the Prometheus exposition\n")
		}
		b.WriteString("  GET " + debugPath + "     the live RED page, in a browser\n")
	}
	if d.tracing != nil {
		b.WriteString("tracing: every response has an " + traceIDHeader + " header; /metrics in OpenMetrics (Accept: application/openmetrics-text) shows it on the histograms' buckets, as exemplars\n")
	}
	return b.String()
}

// run serves until ctx ends (SIGINT or SIGTERM in main), driving load at
// itself with -load, then shuts down gracefully.
func (d *demo) run(ctx context.Context) error {
	d.serve()
	fmt.Fprint(d.opts.stderr, d.banner())

	var wg sync.WaitGroup
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	if d.opts.load {
		fmt.Fprintf(d.opts.stderr, "load: %d workers; a line every %v\n", loadWorkers, d.opts.loadEvery)
		wg.Go(func() { driveLoad(loadCtx, d.url(), loadWorkers) })
		wg.Go(func() { d.report(loadCtx, d.opts.stdout) })
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-d.served:
		d.served <- err // for shutdown
		err = fmt.Errorf("serving: %w", err)
	}
	stopLoad()
	wg.Wait()
	fmt.Fprintln(d.opts.stderr, "otelred example: shutting down")
	if serr := d.shutdown(); serr != nil && err == nil {
		err = serr
	}
	return err
}

// run is the whole demo: build it, serve until ctx ends, shut down.
func run(ctx context.Context, opts options) error {
	d, err := newDemo(ctx, opts)
	if err != nil {
		return err
	}
	return d.run(ctx)
}
