package exporter

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/otelred/otelred/internal/otelenv"
)

// The environment variables [Config.WithEnv] reads, as the OpenTelemetry
// specification names them.
const (
	envExporters = "OTEL_METRICS_EXPORTER"

	envPromHost = "OTEL_EXPORTER_PROMETHEUS_HOST"
	envPromPort = "OTEL_EXPORTER_PROMETHEUS_PORT"

	envProtocol           = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envMetricsProtocol    = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
	envEndpoint           = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envMetricsEndpoint    = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	envInsecure           = "OTEL_EXPORTER_OTLP_INSECURE"
	envMetricsInsecure    = "OTEL_EXPORTER_OTLP_METRICS_INSECURE"
	envHeaders            = "OTEL_EXPORTER_OTLP_HEADERS"
	envMetricsHeaders     = "OTEL_EXPORTER_OTLP_METRICS_HEADERS"
	envCompression        = "OTEL_EXPORTER_OTLP_COMPRESSION"
	envMetricsCompression = "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION"
	envTimeout            = "OTEL_EXPORTER_OTLP_TIMEOUT"
	envMetricsTimeout     = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"
	envTemporality        = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"
	envExportInterval     = "OTEL_METRIC_EXPORT_INTERVAL"
	envExportTimeout      = "OTEL_METRIC_EXPORT_TIMEOUT"

	// envOtelhttpMetrics is otelred's own: the specification has none.
	envOtelhttpMetrics = "OTELRED_OTELHTTP_METRICS"
)

// Defaults the specification gives the Prometheus listener variables.
const (
	defaultPromHost = "localhost"
	defaultPromPort = "9464"
)

// WithEnv returns c with the standard OpenTelemetry environment variables
// applied to the fields c leaves at their zero value: defaults, then the
// environment, then c, as the OpenTelemetry SDK orders them. A field set in
// c always wins over its variable; a variable that is empty or unset is
// ignored. The variables of an exporter that does not run are not read.
//
// Each field's documentation names its variables; where there are two, the
// signal-specific OTEL_EXPORTER_OTLP_METRICS_* one wins over the generic
// one. Timeouts and intervals in the environment are whole milliseconds.
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by [Setup] when it
// builds the resource, not here.
//
// A malformed variable is an error wrapping [ErrInvalidConfig] that names
// the variable and its value (header values and passwords excepted). When
// the OTLP exporter runs, the variables the SDK's OTLP exporters and
// periodic reader read themselves are checked too, those WithEnv does not
// use included (a generic variable beside its signal-specific one, or one
// beside a field set in c): what the SDK would log about, values and all,
// is an error here, and what it reads without a word passes (see
// docs/configuration.md, "Variables the SDK reads itself"). [New] and
// [Setup] call WithEnv themselves; call it to see the configuration they
// will use.
func (c Config) WithEnv() (Config, error) {
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	if len(c.Exporters) == 0 {
		if v := getenv(envExporters); v != "" {
			var names []string
			for _, n := range strings.Split(v, ",") {
				if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
					names = append(names, n) // enum values are case-insensitive
				}
			}
			if err := checkExporters(envExporters, names); err != nil {
				fail(err)
			} else {
				c.Exporters = names
			}
		}
	}

	if c.enabled(prometheusName) && c.Prometheus.ListenAddr == "" {
		host, port := getenv(envPromHost), getenv(envPromPort)
		if host != "" || port != "" {
			if host == "" {
				host = defaultPromHost
			}
			if port == "" {
				port = defaultPromPort
			}
			raw := host
			// An IPv6 host may come in brackets; JoinHostPort adds them.
			if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
				host = host[1 : len(host)-1]
			}
			addr := net.JoinHostPort(host, port)
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				fail(fmt.Errorf("%w: %s %q: want a port number in 0-65535", ErrInvalidConfig, envPromPort, port))
			} else if checkHostPort(addr) != nil {
				fail(fmt.Errorf("%w: %s %q: not a host name or IP address", ErrInvalidConfig, envPromHost, raw))
			} else {
				c.Prometheus.ListenAddr = addr
			}
		}
	}

	if !c.OtelhttpMetrics {
		if v := getenv(envOtelhttpMetrics); v != "" {
			if b, err := parseBool(envOtelhttpMetrics, v); err != nil {
				fail(err)
			} else {
				c.OtelhttpMetrics = b
			}
		}
	}
	c.objectivesWithEnv()
	// The variables otelred reads itself, by rules stricter than the
	// SDK's; the SDK's own rules check the others (sdkenv.go).
	read := make(map[string]bool)
	errs = append(errs, c.histogramWithEnv(read)...)
	if c.enabled(otlpName) {
		fail(c.OTLP.withEnv(read))
		errs = append(errs, checkSDKEnv(read)...)
	}
	if c.enabled(otlpName) || c.enabled(consoleName) {
		// The periodic reader reads both whatever its options say.
		interval, ierr := readerMillis(envExportInterval)
		timeout, terr := readerMillis(envExportTimeout)
		fail(ierr)
		fail(terr)
		if c.enabled(otlpName) && c.OTLP.Interval == 0 {
			c.OTLP.Interval = interval
		}
		if c.enabled(otlpName) && c.OTLP.Timeout == 0 {
			c.OTLP.Timeout = timeout // the last resort, after the OTLP variables
		}
		if c.enabled(consoleName) && c.Console.Interval == 0 {
			c.Console.Interval = interval
		}
	}
	return c, errors.Join(errs...)
}

// withEnv fills o from the OTEL_EXPORTER_OTLP_* variables, and adds those
// it reads to read.
func (o *OTLP) withEnv(read map[string]bool) error {
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	// lookup is firstEnv, noting what it read.
	lookup := func(names ...string) (string, string) {
		name, v := firstEnv(names...)
		if name != "" {
			read[name] = true
		}
		return name, v
	}
	if o.Protocol == "" {
		if name, v := lookup(envMetricsProtocol, envProtocol); v != "" {
			v = strings.ToLower(v)
			if err := checkProtocol(name, v); err != nil {
				fail(err)
			} else {
				o.Protocol = v
			}
		}
	}
	if o.Endpoint == "" {
		if name, v := lookup(envMetricsEndpoint, envEndpoint); name == envMetricsEndpoint {
			// The signal-specific URL is used as-is: an empty path is the
			// root path, which "/" keeps from becoming /v1/metrics later.
			if u, err := parseEndpoint(envMetricsEndpoint, v); err != nil {
				fail(err)
			} else {
				if u.Path == "" {
					u.Path = "/"
				}
				o.Endpoint = u.String()
			}
		} else if name == envEndpoint {
			// The generic URL is a base: http/protobuf appends the
			// signal's path to it.
			if u, err := parseEndpoint(envEndpoint, v); err != nil {
				fail(err)
			} else {
				if o.protocol() == protocolHTTP {
					u.Path = strings.TrimSuffix(u.Path, "/") + defaultMetricsPath
					u.RawPath = ""
				}
				o.Endpoint = u.String()
			}
		}
	}
	if !o.Insecure {
		if name, v := lookup(envMetricsInsecure, envInsecure); v != "" {
			if b, err := parseBool(name, v); err != nil {
				fail(err)
			} else {
				o.Insecure = b
			}
		}
	}
	if len(o.Headers) == 0 {
		if name, v := lookup(envMetricsHeaders, envHeaders); v != "" {
			if h, err := parseHeaders(name, v); err != nil {
				fail(err)
			} else {
				o.Headers = h
			}
		}
	}
	if o.Compression == "" {
		if name, v := lookup(envMetricsCompression, envCompression); v != "" {
			v = strings.ToLower(v)
			if err := checkCompression(name, v); err != nil {
				fail(err)
			} else {
				o.Compression = v
			}
		}
	}
	if o.Timeout == 0 {
		// OTEL_METRIC_EXPORT_TIMEOUT comes last, in Config.WithEnv.
		if name, v := lookup(envMetricsTimeout, envTimeout); v != "" {
			if d, err := millis(name, v); err != nil {
				fail(err)
			} else {
				o.Timeout = d
			}
		}
	}
	if o.Temporality == "" {
		if _, v := lookup(envTemporality); v != "" {
			if err := checkTemporality(envTemporality, v); err != nil {
				fail(err)
			} else {
				o.Temporality = strings.ToLower(v)
			}
		}
	}
	return errors.Join(errs...)
}

// parseBool reads the boolean variable name, whose value is v: "true" or
// "false", in any case.
func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s %q: want true or false", ErrInvalidConfig, name, v)
}

// getenv returns the variable's value without surrounding spaces.
func getenv(name string) string { return strings.TrimSpace(os.Getenv(name)) }

// firstEnv returns the first of the variables that is set, and its value.
func firstEnv(names ...string) (string, string) {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return n, v
		}
	}
	return "", ""
}

// maxMillis is the most milliseconds a time.Duration holds.
const maxMillis = int64(1<<63-1) / int64(time.Millisecond)

// millis reads v, the value of the variable name, as a positive whole
// number of milliseconds that fits in a time.Duration.
func millis(name, v string) (time.Duration, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-"):
		return 0, fmt.Errorf("%w: %s %q: more milliseconds than a time.Duration holds (at most %d, about 292 years)", ErrInvalidConfig, name, v, maxMillis)
	case err != nil:
		return 0, fmt.Errorf("%w: %s %q: want a whole number of milliseconds", ErrInvalidConfig, name, v)
	case n <= 0:
		return 0, fmt.Errorf("%w: %s %q: must be a positive number of milliseconds", ErrInvalidConfig, name, v)
	case n > maxMillis:
		return 0, fmt.Errorf("%w: %s %q: more milliseconds than a time.Duration holds (at most %d, about 292 years)", ErrInvalidConfig, name, v, maxMillis)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// readerMillis reads a variable of the SDK's periodic reader, 0 when it
// is unset. The reader reads it as it is, untrimmed (sdk/metric's
// envDuration), and logs about white space, so white space is an error
// here too.
func readerMillis(name string) (time.Duration, error) {
	raw := os.Getenv(name)
	if raw == "" {
		return 0, nil
	}
	if v := strings.TrimSpace(raw); v != raw {
		return 0, fmt.Errorf("%w: %s %q: white space around the number", ErrInvalidConfig, name, raw)
	}
	return millis(name, raw)
}

// headerList is the header list of the variable name, read as the OTLP
// exporters read it.
func headerList(name string) otelenv.List {
	return otelenv.List{Name: name, Secret: true, Headers: true}
}

// parseHeaders parses the specification's header list, "k1=v1,k2=v2" with
// percent-encoded values, as the OTLP exporters read it (see
// otelenv.List.Headers). Values are secrets: errors never print them, nor a
// whole entry, which may be a value with its "=" missing.
func parseHeaders(name, v string) (map[string]string, error) {
	h, err := headerList(name).Parse(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := checkHeaders(name, h); err != nil {
		return nil, err
	}
	return h, nil
}
