// Command example is the otelred demo service: a few routes with RED
// metrics (rate, errors, duration, and requests in flight), served at
// /metrics for Prometheus and pushed over OTLP when asked to.
//
//	go run ./example                   # on 127.0.0.1:8080, Prometheus at /metrics
//	go run ./example -load             # and drive traffic at itself, with a live line
//	go run ./example -naming classic   # the tutorial's four metrics
//	go run ./example -tracing          # exemplars with trace ids on the histograms
//	go run ./example -histogram native # native histograms (prometheus/prometheus-native.yml)
//
// Routes:
//
//	GET /hello/{name}  200, at once
//	GET /fail          500
//	GET /slow?ms=N     200 after N ms: default 250, capped at 5000; a bad ms
//	                   (not a whole number, or negative) is 400
//	POST /orders       201 after calling GET /hello/orders on the demo itself
//	                   (an outbound HTTP call through otelred's Transport) and
//	                   processing the order (the operation orders.process);
//	                   502 if that call fails
//	GET /metrics       the Prometheus exposition, when that exporter runs
//	GET /debug/red     the live RED page: rate, errors, p50, p99 and in-flight
//	                   requests per route, peer and operation, in a browser
//
// /metrics and /debug/red are for operators: with
// OTEL_EXPORTER_PROMETHEUS_HOST or _PORT, both are served on that
// listener of their own, and not on -addr.
//
// Besides the server's RED metrics, the demo records those of its outbound
// calls (http.client.request.duration) and of its operations
// (operation.duration), and the Go runtime's (goroutines, memory, GC).
//
// With -tracing, an in-process TracerProvider samples every request and
// otelhttp traces around otelred, so the duration histograms carry
// exemplars with the trace ids of the requests' spans (in OpenMetrics), and
// every response has an X-Trace-Id header with its trace id.
//
// The exporters follow OTEL_METRICS_EXPORTER (a comma list of prometheus,
// otlp, console, none; prometheus by default) and the standard
// OTEL_EXPORTER_OTLP_* variables; OTEL_SERVICE_NAME names the service
// ("example" by default). A bad value is an error at start. SIGINT or SIGTERM
// shuts down gracefully, within 9 s: requests in flight finish (6 s at
// most), then the last push is flushed (3 s at most). A last push that
// fails is logged with what it lost, and the exit code is still 0. Under
// go run, SIGTERM reaches only the go command: build the binary to signal
// the demo (docs/example.md).
//
// With -bare the same routes are served without any instrumentation (and
// without /metrics), to measure otelred's overhead with a load generator.
//
// It uses only otelred's public API, as a service would: exporter.Setup
// builds the MeterProvider, otelred.New the middleware, otelred.NewTransport
// and otelred.NewOperations the client's and the operation's instruments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/otelred/otelred/otelred"
)

const usageText = `Usage: example [flags]

The otelred demo service. Routes:
  GET /hello/{name}  200, at once
  GET /fail          500
  GET /slow?ms=N     200 after N ms (default 250, capped at 5000); a bad ms is 400
  POST /orders       201 after calling GET /hello/orders on itself and processing
                     the order (operation orders.process); 502 if the call fails
  GET /metrics       the Prometheus exposition (when the prometheus exporter runs)
  GET /debug/red     the live RED page, in a browser
  (with OTEL_EXPORTER_PROMETHEUS_HOST or _PORT, these two on that listener only)

Flags:
`

const envText = `
Environment:
  OTEL_METRICS_EXPORTER   comma list of prometheus, otlp, console, none (default prometheus)
  OTEL_EXPORTER_OTLP_*    the standard OTLP settings (endpoint, protocol, headers, ...)
  OTEL_EXPORTER_PROMETHEUS_HOST, _PORT
                          serve /metrics and /debug/red on a listener of their own,
                          and only there
  OTEL_METRIC_EXPORT_INTERVAL  push interval in ms (default 60000)
  OTEL_SERVICE_NAME       the service's name (default "example")
  OTELRED_HISTOGRAM       explicit or native, when -histogram is not given (default explicit)
  OTELRED_CARDINALITY_LIMIT  attribute sets per instrument before the overflow series (default 1000)
  OTELRED_OBJECTIVES      objectives file (YAML or JSON) whose latency thresholds become buckets,
                          instead of the embedded slo.yaml

SIGINT or SIGTERM shuts down gracefully and flushes the last push; if that push
fails, a line says what was lost, and the exit code is still 0.
`

// parseFlags reads the command line. Errors have been printed to stderr,
// with the usage, by the time it returns them; -h is flag.ErrHelp.
func parseFlags(args []string, stdout, stderr io.Writer) (options, error) {
	opts := options{stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "listen address, host:port")
	fs.BoolVar(&opts.load, "load", false, "drive traffic at the demo itself and print rate, error ratio, p50 and p99\nper route every 2 s, read from the instruments")
	fs.StringVar(&opts.naming, "naming", "semconv", "naming profile: semconv (OpenTelemetry HTTP conventions) or classic\n(the tutorial's http_requests_total and friends)")
	fs.BoolVar(&opts.bare, "bare", false, "serve the same routes without any instrumentation, exporter or /metrics\n(to measure otelred's overhead)")
	fs.StringVar(&opts.histogram, "histogram", "", "duration histograms: explicit (buckets at slo.yaml's thresholds) or native (base-2\nexponential: Prometheus native histograms, OTLP exponential histograms);\nOTELRED_HISTOGRAM, else explicit, when not given")
	fs.BoolVar(&opts.tracing, "tracing", false, "trace every request in process (otelhttp around otelred, no span exporter),\nso the duration histograms carry exemplars with trace ids; responses carry X-Trace-Id")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), envText)
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case !validNaming(opts.naming):
		err = fmt.Errorf("-naming %q: want semconv or classic", opts.naming)
	case opts.histogram != "" && opts.histogram != "explicit" && opts.histogram != "native":
		err = fmt.Errorf("-histogram %q: want explicit or native", opts.histogram)
	case opts.load && opts.bare:
		err = errors.New("-load reads the instruments, which -bare leaves out: use one or the other")
	case opts.tracing && opts.bare:
		err = errors.New("-tracing adds exemplars to the instruments, which -bare leaves out: use one or the other")
	case opts.histogram != "" && opts.bare:
		err = errors.New("-histogram picks the instruments' aggregation, which -bare leaves out: use one or the other")
	}
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		fs.Usage()
		return options{}, err
	}
	return opts, nil
}

func validNaming(s string) bool {
	_, err := otelred.ParseProfile(s)
	return err == nil
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "example: %v\n", err)
		stop()
		os.Exit(1)
	}
}
