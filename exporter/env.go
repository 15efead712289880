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
// the variable and its value (header values excepted). [New] and [Setup]
// call WithEnv themselves; call it to see the configuration they will use.
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
	errs = append(errs, c.histogramWithEnv()...)
	if c.enabled(otlpName) {
		fail(c.OTLP.withEnv())
	}
	if c.enabled(consoleName) && c.Console.Interval == 0 {
		if d, err := envMillis(envExportInterval); err != nil {
			fail(err)
		} else {
			c.Console.Interval = d
		}
	}
	return c, errors.Join(errs...)
}

func (o *OTLP) withEnv() error {
	var errs []error
	fail := func(err error) { errs = append(errs, err) }

	if o.Protocol == "" {
		if name, v := firstEnv(envMetricsProtocol, envProtocol); v != "" {
			v = strings.ToLower(v)
			if err := checkProtocol(name, v); err != nil {
				fail(err)
			} else {
				o.Protocol = v
			}
		}
	}
	if o.Endpoint == "" {
		if v := getenv(envMetricsEndpoint); v != "" {
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
		} else if v := getenv(envEndpoint); v != "" {
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
		if name, v := firstEnv(envMetricsInsecure, envInsecure); v != "" {
			if b, err := parseBool(name, v); err != nil {
				fail(err)
			} else {
				o.Insecure = b
			}
		}
	}
	if len(o.Headers) == 0 {
		if name, v := firstEnv(envMetricsHeaders, envHeaders); v != "" {
			if h, err := parseHeaders(name, v); err != nil {
				fail(err)
			} else {
				o.Headers = h
			}
		}
	}
	if o.Compression == "" {
		if name, v := firstEnv(envMetricsCompression, envCompression); v != "" {
			v = strings.ToLower(v)
			if err := checkCompression(name, v); err != nil {
				fail(err)
			} else {
				o.Compression = v
			}
		}
	}
	if o.Timeout == 0 {
		name, _ := firstEnv(envMetricsTimeout, envTimeout, envExportTimeout)
		if d, err := envMillis(name); err != nil {
			fail(err)
		} else {
			o.Timeout = d
		}
	}
	if o.Interval == 0 {
		if d, err := envMillis(envExportInterval); err != nil {
			fail(err)
		} else {
			o.Interval = d
		}
	}
	if o.Temporality == "" {
		if v := getenv(envTemporality); v != "" {
			if err := checkTemporality(envTemporality, v); err != nil {
				fail(err)
			} else {
				o.Temporality = strings.ToLower(v)
			}
		}
	}
	return errors.Join(errs...)
}

// getenv returns the variable's value without surrounding spaces.
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

// envMillis reads a positive whole number of milliseconds; an unset (or
// unnamed) variable is 0.
func envMillis(name string) (time.Duration, error) {
	if name == "" {
		return 0, nil
	}
	v := getenv(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q: want a whole number of milliseconds", ErrInvalidConfig, name, v)
	}
	if n <= 0 {
		return 0, fmt.Errorf("%w: %s %q: must be a positive number of milliseconds", ErrInvalidConfig, name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// parseHeaders parses the specification's header list, "k1=v1,k2=v2" with
// percent-encoded names and values. Values are secrets: errors never print
// them, nor a whole entry, which may be a value with its "=" missing.
func parseHeaders(name, v string) (map[string]string, error) {
	h, err := otelenv.List{Name: name, Secret: true, EncodedKeys: true}.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := checkHeaders(name, h); err != nil {
		return nil, err
	}
	return h, nil
}
