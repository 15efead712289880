package exporter

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/otlptranslator"

	"github.com/otelred/otelred/internal/otelenv"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// ErrInvalidConfig is wrapped by every error that reports a bad [Config]
// field or environment variable. The message names the field (such as
// OTLP.Endpoint) or the variable (such as OTEL_EXPORTER_OTLP_ENDPOINT) and
// the bad value, except for OTLP header values and endpoint passwords,
// which are secrets and are never printed.
var ErrInvalidConfig = errors.New("exporter: invalid config")

// The names accepted in [Config.Exporters] and OTEL_METRICS_EXPORTER.
const (
	prometheusName = "prometheus"
	otlpName       = "otlp"
	consoleName    = "console"
	noneName       = "none"
)

// The protocols accepted in [OTLP.Protocol].
const (
	protocolGRPC = "grpc"
	protocolHTTP = "http/protobuf"
)

// Defaults of the fields whose zero value means "the default".
const (
	defaultPath        = "/metrics"
	defaultInterval    = 60 * time.Second
	defaultTimeout     = 10 * time.Second
	defaultGRPCURL     = "http://localhost:4317"
	defaultHTTPURL     = "http://localhost:4318/v1/metrics"
	defaultMetricsPath = "/v1/metrics"
)

// Config selects and configures the exporters. It is a plain struct, meant
// to be filled from a configuration file (it has json and yaml tags) or in
// code; its zero value is valid and runs the Prometheus exporter alone.
//
// [New] and [Setup] apply the environment to it first ([Config.WithEnv]):
// the environment fills the fields left at their zero value, and a field
// set here always wins.
type Config struct {
	// Exporters lists the exporters to run, in any combination of
	// "prometheus", "otlp" and "console"; "none" alone runs none.
	//
	// The zero value (nil or empty) means OTEL_METRICS_EXPORTER, and
	// ["prometheus"] when that is not set either.
	Exporters []string `json:"exporters,omitempty" yaml:"exporters,omitempty"`

	// ServiceName is the service.name of the resource [Setup] builds. It
	// wins over OTEL_SERVICE_NAME and over a service.name in
	// ResourceAttributes or OTEL_RESOURCE_ATTRIBUTES.
	//
	// The zero value means OTEL_SERVICE_NAME, else service.name from
	// OTEL_RESOURCE_ATTRIBUTES, else "unknown_service:" and the name of the
	// executable, as the OpenTelemetry SDK does.
	ServiceName string `json:"service_name,omitempty" yaml:"service_name,omitempty"`

	// ResourceAttributes are added to the resource [Setup] builds, over
	// those of OTEL_RESOURCE_ATTRIBUTES.
	//
	// The zero value adds none.
	ResourceAttributes map[string]string `json:"resource_attributes,omitempty" yaml:"resource_attributes,omitempty"`

	// Naming is the otelred naming profile, "semconv" or "classic" (see
	// [otelred.ParseProfile]), that the live RED page
	// ([Provider.DebugHandler]) reads, and whose default boundaries
	// otelredgrpc's histogram, which has no profile of its own, gets. The
	// buckets of [Setup] do not depend on it: Boundaries apply to the
	// duration histograms of both profiles, so they land on whichever
	// profile the middleware records with. Set it to the middleware's
	// profile, for the page.
	//
	// The zero value means "semconv".
	Naming string `json:"naming,omitempty" yaml:"naming,omitempty"`

	// Boundaries are the bucket boundaries, in seconds, of otelred's
	// duration histograms in [Setup], in both profiles; they must pass
	// [views.Validate], and hold every latency threshold of the objectives
	// (ObjectivesFile or Objectives), if any.
	//
	// The zero value (nil) means each profile's [views.Default], with the
	// objectives' latency thresholds added.
	Boundaries []float64 `json:"boundaries,omitempty" yaml:"boundaries,omitempty"`

	// ObjectivesFile is the path of the service level objectives file that
	// redgen reads ([Objectives], in YAML or JSON, decoded by
	// [ParseObjectives]), so that one file yields the buckets, the
	// rules, the alerts and the dashboard. [Setup] reads it and derives the
	// boundaries from it: each profile's [views.Default] plus every latency
	// threshold, exactly ([Objectives.Boundaries]); or, when
	// Boundaries are given, it checks that every threshold is one of them
	// ([Objectives.Check]). A file that cannot be read, a bad
	// objective or a threshold missing from Boundaries is an error wrapping
	// [ErrInvalidConfig] that names this field (or the variable) and the
	// file. With Histogram "native" there are no buckets to derive: the file
	// is read and checked all the same, and the rules read each threshold
	// off the native histogram (docs/native-histograms.md). [New], which
	// builds no views, does not read it.
	//
	// The zero value means OTELRED_OBJECTIVES, else Objectives.
	ObjectivesFile string `json:"objectives_file,omitempty" yaml:"objectives_file,omitempty"`

	// Objectives are the service level objectives themselves, for
	// objectives that are not in a file of their own (a file embedded in
	// the binary, or objectives written in code or inline in the
	// configuration): Setup derives the boundaries from them as it does
	// from ObjectivesFile's. Set one or the other.
	//
	// The zero value (nil) means ObjectivesFile's, or none.
	Objectives *Objectives `json:"objectives,omitempty" yaml:"objectives,omitempty"`

	// DebugPage makes [Provider.DebugHandler] serve the live RED page even
	// when the Prometheus exporter does not run, by giving the provider a
	// ManualReader for the page alone. Every reader aggregates each
	// measurement on its own, so that reader makes recording cost about
	// twice as much. With the Prometheus exporter, the page reads its
	// reader, and DebugPage adds nothing.
	//
	// By default (false), the page is there only with the Prometheus
	// exporter. No environment variable sets it.
	DebugPage bool `json:"debug_page,omitempty" yaml:"debug_page,omitempty"`

	// Histogram is the aggregation of otelred's duration histograms (HTTP
	// server and client, operations, gRPC): "explicit", buckets at
	// Boundaries ([views.RED]), or "native", base-2 exponential histograms
	// sized by Native ([views.Exponential]), which Prometheus scrapes as
	// native histograms (Prometheus 3 needs scrape_native_histograms: true
	// in its configuration, Prometheus 2 --enable-feature=native-histograms)
	// and OTLP pushes as exponential histograms. Boundaries must be nil with
	// "native". See docs/native-histograms.md.
	//
	// The zero value means OTELRED_HISTOGRAM ("explicit" or "native"),
	// else, when the OTLP exporter runs and the Prometheus exporter does
	// not, OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION
	// (explicit_bucket_histogram or base2_exponential_bucket_histogram),
	// else "explicit".
	Histogram string `json:"histogram,omitempty" yaml:"histogram,omitempty"`

	// Native sizes the histograms of Histogram "native"; it is not used
	// with "explicit". No environment variable sets it.
	Native Native `json:"native" yaml:"native"`

	// CardinalityLimit is how many attribute sets each of otelred's
	// instruments records before further ones share its overflow series
	// (otelred.WithCardinalityLimit). otelred reads it from the [Provider]
	// when it is given no limit of its own, and [Setup] raises the SDK's
	// own per-instrument limit above it, so that otelred's overflow, which
	// keeps failures apart, is the one that applies.
	//
	// The zero value means OTELRED_CARDINALITY_LIMIT, else
	// otelred.DefaultCardinalityLimit (1000).
	CardinalityLimit int `json:"cardinality_limit,omitempty" yaml:"cardinality_limit,omitempty"`

	// RuntimeMetrics makes [Setup] start the Go runtime metrics of
	// go.opentelemetry.io/contrib/instrumentation/runtime on the provider
	// it builds (go.goroutines, go.memory.used, go.memory.allocated,
	// go.memory.gc.goal and their kin), the saturation signals of the
	// process. They are read when metrics are collected, never per request.
	//
	// The zero value means off. No environment variable sets it.
	RuntimeMetrics bool `json:"runtime_metrics,omitempty" yaml:"runtime_metrics,omitempty"`

	// OtelhttpMetrics keeps otelhttp's own duration and body-size
	// histograms, for a service that also wraps its handlers or clients in
	// otelhttp: [Setup] then registers [views.Otelhttp] with Boundaries, which re-buckets them
	// and removes their request-derived attributes. Without it, Setup's
	// [views.RED] drops them, since otelred records the same requests and
	// every rate over the shared Prometheus family would count each request
	// twice; otelhttp's traces are not affected either way.
	//
	// The zero value means OTELRED_OTELHTTP_METRICS ("true" or "false"),
	// and dropped when that is not set either.
	OtelhttpMetrics bool `json:"otelhttp_metrics,omitempty" yaml:"otelhttp_metrics,omitempty"`

	// Prometheus configures the pull exporter.
	Prometheus Prometheus `json:"prometheus" yaml:"prometheus"`
	// OTLP configures the push exporter.
	OTLP OTLP `json:"otlp" yaml:"otlp"`
	// Console configures the exporter that prints metrics.
	Console Console `json:"console" yaml:"console"`
}

// Prometheus configures the Prometheus exporter, which bridges the metrics
// into a private Prometheus registry that the handler serves.
type Prometheus struct {
	// Path is where the standalone listener serves the metrics. The handler
	// itself serves at whatever path it is mounted on.
	//
	// The zero value means "/metrics".
	Path string `json:"path,omitempty" yaml:"path,omitempty"`

	// Namespace prefixes every metric name except target_info, joined by
	// an underscore.
	//
	// The zero value means no prefix.
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`

	// ScopeLabels adds the otel_scope_name and otel_scope_version labels
	// (and the scope's attributes) to every series.
	//
	// By default (false), series carry only their own labels, so the Classic
	// profile's metrics have exactly the tutorial's label names.
	ScopeLabels bool `json:"scope_labels,omitempty" yaml:"scope_labels,omitempty"`

	// DisableTargetInfo drops the target_info metric, which carries the
	// resource attributes.
	//
	// By default (false), target_info is exported.
	DisableTargetInfo bool `json:"disable_target_info,omitempty" yaml:"disable_target_info,omitempty"`

	// ResourceLabels are resource attribute keys (such as
	// "deployment.environment") copied as labels onto every series.
	//
	// The zero value copies none.
	ResourceLabels []string `json:"resource_labels,omitempty" yaml:"resource_labels,omitempty"`

	// DisableOpenMetrics makes the handler answer in the text format 0.0.4
	// only, even to scrapers that ask for OpenMetrics. Exemplars exist only
	// in OpenMetrics (and protobuf), so they are lost.
	//
	// By default (false), OpenMetrics is served to scrapers that ask for it.
	DisableOpenMetrics bool `json:"disable_openmetrics,omitempty" yaml:"disable_openmetrics,omitempty"`

	// ListenAddr is a host:port where a standalone HTTP server serves the
	// metrics at Path, and, for [Setup], the live RED page
	// ([Provider.DebugHandler]) at /debug/red: the endpoints for operators,
	// off the application's port. It binds in [New] and Setup (a port in
	// use is an error there) and is closed by Shutdown. Port "0" picks a
	// free port; see [Exporter.Addr]. Path cannot be /debug/red then.
	//
	// The zero value means OTEL_EXPORTER_PROMETHEUS_HOST and
	// OTEL_EXPORTER_PROMETHEUS_PORT, if either is set, and otherwise no
	// listener: mount [Exporter.Handler] on your own server.
	ListenAddr string `json:"listen_addr,omitempty" yaml:"listen_addr,omitempty"`

	// Registerer is where the exporter registers its collector. If it is
	// also a [prometheus.Gatherer] (as a *prometheus.Registry is), the
	// handler serves it; otherwise there is no handler (serve your registry
	// yourself) and ListenAddr must be empty. A Registerer serves one
	// Exporter at a time.
	//
	// The zero value means a new private registry. The global
	// prometheus.DefaultRegisterer is never used unless passed here.
	Registerer prometheus.Registerer `json:"-" yaml:"-"`
}

// OTLP configures the OTLP exporter, which pushes metrics to a collector
// at a fixed interval.
type OTLP struct {
	// Protocol is "grpc" or "http/protobuf".
	//
	// The zero value means OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, else
	// OTEL_EXPORTER_OTLP_PROTOCOL, else "http/protobuf".
	Protocol string `json:"protocol,omitempty" yaml:"protocol,omitempty"`

	// Endpoint is the collector's URL, such as "http://collector:4317".
	// The scheme decides the transport security: http is plaintext, https
	// uses TLS with the system's roots. For http/protobuf the URL is used
	// as-is, except that an empty path means "/v1/metrics"; for grpc its
	// path is ignored.
	//
	// The zero value means OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (as-is),
	// else OTEL_EXPORTER_OTLP_ENDPOINT (with "/v1/metrics" appended to its
	// path for http/protobuf), else "http://localhost:4317" for grpc and
	// "http://localhost:4318/v1/metrics" for http/protobuf.
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`

	// Insecure sends in plaintext even to an https endpoint.
	//
	// By default (false), the endpoint's scheme decides, unless
	// OTEL_EXPORTER_OTLP_METRICS_INSECURE or OTEL_EXPORTER_OTLP_INSECURE is
	// "true".
	Insecure bool `json:"insecure,omitempty" yaml:"insecure,omitempty"`

	// Headers are sent with every export, for example an authorization
	// token. Their values are secrets: they are never printed in errors,
	// an export error that carries one (a collector may echo the
	// credential it refuses) has it replaced by REDACTED, as has one that
	// carries the Endpoint's password, and fmt and log/slog print them as
	// REDACTED (see [OTLP.Format]). json.Marshal writes them, so that a
	// Config can be saved.
	//
	// The zero value means OTEL_EXPORTER_OTLP_METRICS_HEADERS, else
	// OTEL_EXPORTER_OTLP_HEADERS, else none.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`

	// Compression is "gzip" or "none".
	//
	// The zero value means OTEL_EXPORTER_OTLP_METRICS_COMPRESSION, else
	// OTEL_EXPORTER_OTLP_COMPRESSION, else "none".
	Compression string `json:"compression,omitempty" yaml:"compression,omitempty"`

	// Interval is the time between two exports, at least 1ms. In JSON and
	// YAML it may be written as a string such as "30s"; a bare number
	// counts nanoseconds.
	//
	// The zero value means OTEL_METRIC_EXPORT_INTERVAL, else 60s.
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`

	// Timeout limits each export, retries included, and is at least 1ms; an
	// export still running then is abandoned and its error reported through
	// otel.Handle. An export sent in several requests (one over 2 MiB)
	// shares it among them.
	//
	// The zero value means OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, else
	// OTEL_EXPORTER_OTLP_TIMEOUT, else OTEL_METRIC_EXPORT_TIMEOUT, else 10s.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`

	// Temporality is the temporality preference: "cumulative", "delta"
	// (counters and histograms as deltas) or "lowmemory" (synchronous
	// counters and histograms as deltas), as the OTLP specification defines
	// them. Up-down counters are always cumulative. Through an outage of
	// the collector, cumulative loses nothing (the next export that
	// succeeds carries the totals), while with delta and lowmemory what the
	// failed exports carried is lost (docs/configuration.md).
	//
	// The zero value means
	// OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, else "cumulative".
	Temporality string `json:"temporality,omitempty" yaml:"temporality,omitempty"`
}

// Console configures the exporter that writes metrics as JSON lines, for
// local debugging.
type Console struct {
	// Writer is where the metrics are written.
	//
	// The zero value means os.Stdout.
	Writer io.Writer `json:"-" yaml:"-"`

	// Interval is the time between two writes, at least 1ms. In JSON and
	// YAML it may be written as a string such as "30s"; a bare number
	// counts nanoseconds.
	//
	// The zero value means OTEL_METRIC_EXPORT_INTERVAL, else 60s.
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
}

// Validate reports every invalid field of c, as is: it does not read the
// environment ([New] and [Setup] call [Config.WithEnv] first, then
// Validate). Each error wraps [ErrInvalidConfig] and names the field and
// the bad value.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}

	if err := checkExporters("Exporters", c.Exporters); err != nil {
		errs = append(errs, err)
	}
	if k, ok := emptyKey(c.ResourceAttributes); ok {
		bad("ResourceAttributes", "has an empty key %q", k)
	}
	if err := checkAttributes("ResourceAttributes", c.ResourceAttributes); err != nil {
		errs = append(errs, err)
	}
	if !utf8.ValidString(c.ServiceName) {
		bad("ServiceName", "%q: not valid UTF-8", c.ServiceName)
	}
	if c.Naming != "" {
		if _, err := otelred.ParseProfile(c.Naming); err != nil {
			bad("Naming", "%q: want %q or %q", c.Naming, otelred.Semconv.String(), otelred.Classic.String())
		}
	}
	if c.Boundaries != nil {
		if err := views.Validate(c.Boundaries); err != nil {
			errs = append(errs, fmt.Errorf("%w: Boundaries %v: %w", ErrInvalidConfig, c.Boundaries, err))
		}
	}
	if c.Objectives != nil {
		if c.ObjectivesFile != "" {
			bad("Objectives", "and ObjectivesFile %q are both set: set one or the other", c.ObjectivesFile)
		} else if err := c.checkObjectives("Objectives"); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.checkHistogram()...)

	p := c.Prometheus
	if p.Path != "" && (!strings.HasPrefix(p.Path, "/") || strings.ContainsAny(p.Path, "{} \t\n")) {
		bad("Prometheus.Path", "%q: must begin with \"/\" and hold no braces or spaces", p.Path)
	}
	if p.Namespace != "" {
		if _, err := (&otlptranslator.LabelNamer{}).Build(p.Namespace); err != nil {
			bad("Prometheus.Namespace", "%q: %v", p.Namespace, err)
		}
	}
	for i, k := range p.ResourceLabels {
		if strings.TrimSpace(k) == "" {
			bad(fmt.Sprintf("Prometheus.ResourceLabels[%d]", i), "%q: empty attribute key", k)
		}
	}
	if p.ListenAddr != "" {
		if p.Path == debugPath {
			bad("Prometheus.Path", "%q: the standalone listener (Prometheus.ListenAddr) serves the RED page there", p.Path)
		}
		if err := checkHostPort(p.ListenAddr); err != nil {
			bad("Prometheus.ListenAddr", "%q: %v", p.ListenAddr, err)
		} else if _, ok := p.Registerer.(prometheus.Gatherer); p.Registerer != nil && !ok {
			bad("Prometheus.ListenAddr", "%q: Prometheus.Registerer (%T) is not a prometheus.Gatherer, so there is nothing to serve", p.ListenAddr, p.Registerer)
		}
	}

	o := c.OTLP
	if err := checkProtocol("OTLP.Protocol", o.Protocol); err != nil {
		errs = append(errs, err)
	}
	if o.Endpoint != "" {
		if _, err := parseEndpoint("OTLP.Endpoint", o.Endpoint); err != nil {
			errs = append(errs, err)
		}
	}
	if err := checkHeaders("OTLP.Headers", o.Headers); err != nil {
		errs = append(errs, err)
	}
	if err := checkCompression("OTLP.Compression", o.Compression); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []struct {
		field string
		d     time.Duration
	}{{"OTLP.Interval", o.Interval}, {"OTLP.Timeout", o.Timeout}, {"Console.Interval", c.Console.Interval}} {
		switch {
		case d.d < 0:
			bad(d.field, "%v: must be positive (zero means the default)", d.d)
		case d.d > 0 && d.d < time.Millisecond:
			// Exports back to back, or every one failing: most likely a
			// number of seconds written where nanoseconds are read.
			bad(d.field, "%v: under the shortest, 1ms (a bare number in JSON or YAML counts nanoseconds: write a string such as \"30s\")", d.d)
		}
	}
	if err := checkTemporality("OTLP.Temporality", o.Temporality); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// exporters returns the exporters to run, with the default applied, and
// without "none".
func (c Config) exporters() []string {
	if len(c.Exporters) == 0 {
		return []string{prometheusName}
	}
	return slices.DeleteFunc(slices.Clone(c.Exporters), func(s string) bool { return s == noneName })
}

// enabled reports whether the exporter called name runs.
func (c Config) enabled(name string) bool { return slices.Contains(c.exporters(), name) }

// profile returns the parsed Naming; c must be valid.
func (c Config) profile() otelred.Profile {
	if c.Naming == "" {
		return otelred.Semconv
	}
	p, _ := otelred.ParseProfile(c.Naming)
	return p
}

// checkExporters reports unknown and repeated names, and "none" with
// others. source is the field or variable the names came from.
func checkExporters(source string, names []string) error {
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		switch n {
		case prometheusName, otlpName, consoleName, noneName:
		default:
			return fmt.Errorf("%w: %s: unknown exporter %q (want prometheus, otlp, console or none)", ErrInvalidConfig, source, n)
		}
		if seen[n] {
			return fmt.Errorf("%w: %s: exporter %q is listed twice", ErrInvalidConfig, source, n)
		}
		seen[n] = true
	}
	if seen[noneName] && len(names) > 1 {
		return fmt.Errorf("%w: %s %q: \"none\" cannot be combined with another exporter", ErrInvalidConfig, source, strings.Join(names, ","))
	}
	return nil
}

func checkProtocol(source, v string) error {
	switch v {
	case "", protocolGRPC, protocolHTTP:
		return nil
	case "http/json":
		return fmt.Errorf("%w: %s %q: not supported (want grpc or http/protobuf)", ErrInvalidConfig, source, v)
	}
	return fmt.Errorf("%w: %s %q: unknown protocol (want grpc or http/protobuf)", ErrInvalidConfig, source, v)
}

func checkCompression(source, v string) error {
	switch v {
	case "", "gzip", "none":
		return nil
	}
	return fmt.Errorf("%w: %s %q: unknown compression (want gzip or none)", ErrInvalidConfig, source, v)
}

func checkTemporality(source, v string) error {
	switch strings.ToLower(v) {
	case "", "cumulative", "delta", "lowmemory":
		return nil
	}
	return fmt.Errorf("%w: %s %q: unknown temporality preference (want cumulative, delta or lowmemory)", ErrInvalidConfig, source, v)
}

// parseEndpoint parses an OTLP endpoint URL. Errors print it without its
// password, if it has one.
func parseEndpoint(source, v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		// url's error repeats the input, which may hold a password.
		return nil, fmt.Errorf("%w: %s %q: not a URL", ErrInvalidConfig, source, redact(v))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %s %q: want an http or https URL such as \"http://localhost:4317\"", ErrInvalidConfig, source, u.Redacted())
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: %s %q: the URL has no host", ErrInvalidConfig, source, u.Redacted())
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: %s %q: port %q is not in 1-65535", ErrInvalidConfig, source, u.Redacted(), p)
		}
	}
	return u, nil
}

// redact drops what may be userinfo from an unparseable URL.
func redact(v string) string {
	if i := strings.LastIndex(v, "@"); i >= 0 {
		return "…" + v[i:]
	}
	return v
}

// checkHostPort checks a listen address.
func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, such as \"127.0.0.1:9464\" or \":9464\"")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not in 0-65535", port)
	}
	return nil
}

// checkHeaders checks header names and values. Values are secrets: errors
// name the header only.
func checkHeaders(source string, h map[string]string) error {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !otelenv.IsToken(k) {
			return fmt.Errorf("%w: %s: %q is not a valid header name", ErrInvalidConfig, source, k)
		}
		if !validHeaderValue(h[k]) {
			return fmt.Errorf("%w: %s: the value of header %q has a control character (the value is not shown)", ErrInvalidConfig, source, k)
		}
	}
	return nil
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func emptyKey(m map[string]string) (string, bool) {
	for k := range m {
		if strings.TrimSpace(k) == "" {
			return k, true
		}
	}
	return "", false
}

// redactedValue replaces a secret where a Config is printed.
const redactedValue = "REDACTED"

// redacted returns a copy of o for printing: header values replaced with
// REDACTED and the endpoint's password, if it has one, masked. Header
// names stay, since they say which secret is set.
func (o OTLP) redacted() OTLP {
	if len(o.Headers) > 0 {
		h := make(map[string]string, len(o.Headers))
		for k := range o.Headers {
			h[k] = redactedValue
		}
		o.Headers = h
	}
	if o.Endpoint != "" {
		if u, err := url.Parse(o.Endpoint); err == nil {
			o.Endpoint = u.Redacted()
		} else {
			o.Endpoint = redact(o.Endpoint)
		}
	}
	return o
}

// otlpFields is OTLP without its methods, for printing.
type otlpFields OTLP

// Format prints o as fmt prints any struct, with every verb and flag
// (%v, %+v, %#v, %s...), except that header values print as REDACTED and
// the endpoint's password is masked. It applies wherever o is printed,
// inside a Config too, so that logging a configuration never leaks a
// secret.
func (o OTLP) Format(f fmt.State, verb rune) {
	r := otlpFields(o.redacted())
	if verb == 'v' && f.Flag('#') {
		s := fmt.Sprintf("%#v", r)
		_, _ = io.WriteString(f, "exporter.OTLP"+strings.TrimPrefix(s, "exporter.otlpFields"))
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), r)
}

// LogValue makes log/slog print o with its secrets redacted, as
// [OTLP.Format] does, with every handler.
func (o OTLP) LogValue() slog.Value { return slog.AnyValue(otlpFields(o.redacted())) }

// configFields is Config without its methods, for printing.
type configFields Config

// LogValue makes log/slog print c with the secrets of its OTLP section
// redacted, as fmt does (see [OTLP.Format]); slog's JSON handler would
// otherwise marshal them.
func (c Config) LogValue() slog.Value {
	c.OTLP = c.OTLP.redacted()
	return slog.AnyValue(configFields(c))
}

// UnmarshalJSON decodes an OTLP section; Interval and Timeout may be
// strings such as "30s" or numbers of nanoseconds.
func (o *OTLP) UnmarshalJSON(b []byte) error {
	type plain OTLP
	aux := struct {
		*plain
		Interval json.RawMessage `json:"interval"`
		Timeout  json.RawMessage `json:"timeout"`
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return errors.Join(
		decodeDuration("OTLP.Interval", aux.Interval, &o.Interval),
		decodeDuration("OTLP.Timeout", aux.Timeout, &o.Timeout))
}

// UnmarshalJSON decodes a Console section; Interval may be a string such
// as "30s" or a number of nanoseconds.
func (c *Console) UnmarshalJSON(b []byte) error {
	type plain Console
	aux := struct {
		*plain
		Interval json.RawMessage `json:"interval"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	return decodeDuration("Console.Interval", aux.Interval, &c.Interval)
}

func decodeDuration(field string, raw json.RawMessage, d *time.Duration) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%w: %s %q: want a duration such as \"30s\", of at most %v", ErrInvalidConfig, field, s, time.Duration(1<<63-1))
		}
		*d = v
		return nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		var f float64
		if json.Unmarshal(raw, &f) == nil && f == math.Trunc(f) {
			return fmt.Errorf("%w: %s %s: more nanoseconds than a time.Duration holds (%v at most)", ErrInvalidConfig, field, raw, time.Duration(1<<63-1))
		}
		return fmt.Errorf("%w: %s %s: want a duration such as \"30s\" or a whole number of nanoseconds", ErrInvalidConfig, field, raw)
	}
	*d = time.Duration(n)
	return nil
}
