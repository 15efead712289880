package exporter_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/views"
)

const secret = "s3cret-token"

// checkErr asserts that err wraps ErrInvalidConfig, mentions every string
// of want, and none of notWant.
func checkErr(t *testing.T, err error, want, notWant []string) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	if !errors.Is(err, exporter.ErrInvalidConfig) {
		t.Errorf("error %q does not wrap ErrInvalidConfig", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	for _, w := range notWant {
		if strings.Contains(err.Error(), w) {
			t.Errorf("error %q reveals %q", err, w)
		}
	}
}

func TestValidateRejectsBadFields(t *testing.T) {
	notAGatherer := prometheus.WrapRegistererWith(prometheus.Labels{"x": "y"}, prometheus.NewRegistry())
	for _, tc := range []struct {
		name    string
		cfg     exporter.Config
		want    []string
		notWant []string
	}{
		{name: "an unknown exporter name", cfg: exporter.Config{Exporters: []string{"prometheus", "jaeger"}}, want: []string{"Exporters", `"jaeger"`}},
		{name: "none with another exporter", cfg: exporter.Config{Exporters: []string{"none", "otlp"}}, want: []string{"Exporters", `"none,otlp"`}},
		{name: "an exporter listed twice", cfg: exporter.Config{Exporters: []string{"otlp", "otlp"}}, want: []string{"Exporters", `"otlp"`, "twice"}},
		{name: "an unknown naming profile", cfg: exporter.Config{Naming: "fancy"}, want: []string{"Naming", `"fancy"`}},
		{name: "boundaries that do not increase", cfg: exporter.Config{Boundaries: []float64{0.5, 0.1}}, want: []string{"Boundaries", "0.1"}},
		{name: "an empty resource attribute key", cfg: exporter.Config{ResourceAttributes: map[string]string{" ": "x"}}, want: []string{"ResourceAttributes"}},
		{name: "a metrics path without a leading slash", cfg: exporter.Config{Prometheus: exporter.Prometheus{Path: "metrics"}}, want: []string{"Prometheus.Path", `"metrics"`}},
		{name: "a metrics path with a wildcard", cfg: exporter.Config{Prometheus: exporter.Prometheus{Path: "/{x}"}}, want: []string{"Prometheus.Path", `"/{x}"`}},
		{name: "a namespace of underscores only", cfg: exporter.Config{Prometheus: exporter.Prometheus{Namespace: "___"}}, want: []string{"Prometheus.Namespace", `"___"`}},
		{name: "an empty resource label key", cfg: exporter.Config{Prometheus: exporter.Prometheus{ResourceLabels: []string{""}}}, want: []string{"Prometheus.ResourceLabels[0]"}},
		{name: "a listen address without a port", cfg: exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "localhost"}}, want: []string{"Prometheus.ListenAddr", `"localhost"`}},
		{name: "a listen address with a bad port", cfg: exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "localhost:70000"}}, want: []string{"Prometheus.ListenAddr", `"localhost:70000"`}},
		{name: "a listener with a Registerer that is not a Gatherer", cfg: exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0", Registerer: notAGatherer}}, want: []string{"Prometheus.ListenAddr", "Gatherer"}},
		{name: "an unknown protocol", cfg: exporter.Config{OTLP: exporter.OTLP{Protocol: "udp"}}, want: []string{"OTLP.Protocol", `"udp"`}},
		{name: "the unsupported http/json protocol", cfg: exporter.Config{OTLP: exporter.OTLP{Protocol: "http/json"}}, want: []string{"OTLP.Protocol", `"http/json"`, "not supported"}},
		{name: "an endpoint without a scheme", cfg: exporter.Config{OTLP: exporter.OTLP{Endpoint: "localhost:4317"}}, want: []string{"OTLP.Endpoint", `"localhost:4317"`}},
		{name: "an endpoint with an ftp scheme", cfg: exporter.Config{OTLP: exporter.OTLP{Endpoint: "ftp://collector:21"}}, want: []string{"OTLP.Endpoint", `"ftp://collector:21"`}},
		{name: "an endpoint with a port out of range", cfg: exporter.Config{OTLP: exporter.OTLP{Endpoint: "http://collector:99999"}}, want: []string{"OTLP.Endpoint", `"99999"`}},
		{name: "an endpoint without a host", cfg: exporter.Config{OTLP: exporter.OTLP{Endpoint: "http://:4317"}}, want: []string{"OTLP.Endpoint", `"http://:4317"`, "no host"}},
		{name: "an endpoint that does not parse", cfg: exporter.Config{OTLP: exporter.OTLP{Endpoint: "http://[::1"}}, want: []string{"OTLP.Endpoint", `"http://[::1"`}},
		{name: "an endpoint with a password hides it", cfg: exporter.Config{OTLP: exporter.OTLP{Endpoint: "ftp://user:" + secret + "@collector"}}, want: []string{"OTLP.Endpoint", "collector"}, notWant: []string{secret}},
		{name: "a header name with a space", cfg: exporter.Config{OTLP: exporter.OTLP{Headers: map[string]string{"bad key": "v"}}}, want: []string{"OTLP.Headers", `"bad key"`}},
		{name: "a header value with a newline hides the value", cfg: exporter.Config{OTLP: exporter.OTLP{Headers: map[string]string{"authorization": "Bearer " + secret + "\n"}}}, want: []string{"OTLP.Headers", `"authorization"`}, notWant: []string{secret}},
		{name: "an unknown compression", cfg: exporter.Config{OTLP: exporter.OTLP{Compression: "zstd"}}, want: []string{"OTLP.Compression", `"zstd"`}},
		{name: "a negative OTLP interval", cfg: exporter.Config{OTLP: exporter.OTLP{Interval: -time.Second}}, want: []string{"OTLP.Interval", "-1s"}},
		{name: "a negative OTLP timeout", cfg: exporter.Config{OTLP: exporter.OTLP{Timeout: -time.Millisecond}}, want: []string{"OTLP.Timeout", "-1ms"}},
		{name: "an unknown temporality", cfg: exporter.Config{OTLP: exporter.OTLP{Temporality: "sometimes"}}, want: []string{"OTLP.Temporality", `"sometimes"`}},
		{name: "a negative console interval", cfg: exporter.Config{Console: exporter.Console{Interval: -2 * time.Second}}, want: []string{"Console.Interval", "-2s"}},
		{name: "an OTLP interval of 30 nanoseconds, meant as seconds", cfg: exporter.Config{OTLP: exporter.OTLP{Interval: 30}}, want: []string{"OTLP.Interval", "30ns", "1ms", "nanoseconds"}},
		{name: "an OTLP timeout just under a millisecond", cfg: exporter.Config{OTLP: exporter.OTLP{Timeout: time.Millisecond - 1}}, want: []string{"OTLP.Timeout", "999.999µs", "1ms"}},
		{name: "a console interval of a nanosecond", cfg: exporter.Config{Console: exporter.Console{Interval: 1}}, want: []string{"Console.Interval", "1ns"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			checkErr(t, err, tc.want, tc.notWant)
		})
	}
}

func TestValidateReportsEveryBadField(t *testing.T) {
	err := exporter.Config{
		Naming: "fancy",
		OTLP:   exporter.OTLP{Protocol: "udp", Interval: -1},
	}.Validate()
	checkErr(t, err, []string{"Naming", "OTLP.Protocol", "OTLP.Interval"}, nil)
}

func TestBoundaryErrorsKeepTheViewsSentinel(t *testing.T) {
	err := exporter.Config{Boundaries: []float64{}}.Validate()
	if !errors.Is(err, views.ErrInvalidBoundaries) || !errors.Is(err, exporter.ErrInvalidConfig) {
		t.Errorf("error %q wraps neither views.ErrInvalidBoundaries nor ErrInvalidConfig", err)
	}
}

func TestZeroConfigIsValid(t *testing.T) {
	if err := (exporter.Config{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestWithEnvRejectsBadVariables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    []string
		notWant []string
	}{
		{name: "an unknown exporter name", env: map[string]string{"OTEL_METRICS_EXPORTER": "prometheus, zipkin"}, want: []string{"OTEL_METRICS_EXPORTER", `"zipkin"`}},
		{name: "none with another exporter", env: map[string]string{"OTEL_METRICS_EXPORTER": "none,otlp"}, want: []string{"OTEL_METRICS_EXPORTER", `"none,otlp"`}},
		{name: "an endpoint without a scheme", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, want: []string{"OTEL_EXPORTER_OTLP_ENDPOINT", `"collector:4317"`}},
		{name: "a signal endpoint that does not parse", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://[::1"}, want: []string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", `"http://[::1"`}},
		{name: "an unknown protocol", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, want: []string{"OTEL_EXPORTER_OTLP_PROTOCOL", `"thrift"`}},
		{name: "the unsupported http/json protocol", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, want: []string{"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", `"http/json"`}},
		{name: "insecure that is not a boolean", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_INSECURE": "yes"}, want: []string{"OTEL_EXPORTER_OTLP_INSECURE", `"yes"`}},
		{name: "keeping otelhttp's metrics that is not a boolean", env: map[string]string{"OTELRED_OTELHTTP_METRICS": "1"}, want: []string{"OTELRED_OTELHTTP_METRICS", `"1"`, "want true or false"}},
		{name: "a timeout with a unit", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, want: []string{"OTEL_EXPORTER_OTLP_TIMEOUT", `"10s"`, "milliseconds"}},
		{name: "a zero signal timeout", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "0"}, want: []string{"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", `"0"`}},
		{name: "a zero interval", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "0"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `"0"`}},
		{name: "a negative console interval", env: map[string]string{"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "-5"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `"-5"`}},
		{name: "an export timeout that is not a number", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_TIMEOUT": "abc"}, want: []string{"OTEL_METRIC_EXPORT_TIMEOUT", `"abc"`}},
		{name: "an unknown compression", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_COMPRESSION": "br"}, want: []string{"OTEL_EXPORTER_OTLP_COMPRESSION", `"br"`}},
		{name: "an unknown temporality", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "sometimes"}, want: []string{"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", `"sometimes"`}},
		{name: "a Prometheus port that is not a number", env: map[string]string{"OTEL_EXPORTER_PROMETHEUS_PORT": "http"}, want: []string{"OTEL_EXPORTER_PROMETHEUS_PORT", `"http"`}},
		{name: "a header entry without = hides the entry", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=blue,authorization " + secret}, want: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 2"}, notWant: []string{secret}},
		{name: "a header value with a bad escape hides the value", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%zz" + secret}, want: []string{"OTEL_EXPORTER_OTLP_HEADERS", `"authorization"`}, notWant: []string{secret}},
		{name: "a header value that decodes to a newline hides the value", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_HEADERS": "authorization=Bearer%0A" + secret}, want: []string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS", `"authorization"`}, notWant: []string{secret}},
		{name: "a header list with a trailing comma", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=" + secret + ","}, want: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 2 is empty"}, notWant: []string{secret}},
		{name: "a header name that is not a token hides the entry", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "authorization: Bearer " + secret + "=x"}, want: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 1", "not a header name"}, notWant: []string{secret}},
		{name: "an interval that overflows a Duration in milliseconds", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "9223372036854776"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `"9223372036854776"`, "more milliseconds than a time.Duration holds"}},
		{name: "an interval of 2^58 ms, which wraps to 0", env: map[string]string{"OTEL_METRICS_EXPORTER": "console", "OTEL_METRIC_EXPORT_INTERVAL": "288230376151711744"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `"288230376151711744"`, "more milliseconds"}},
		{name: "an interval of the largest int64", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "9223372036854775807"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `"9223372036854775807"`, "more milliseconds"}, notWant: []string{"OTLP.Interval", "-1ms"}},
		{name: "an interval past the largest int64", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": "9223372036854775808"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `"9223372036854775808"`, "more milliseconds"}},
		{name: "a generic timeout that overflows", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TIMEOUT": "288230376151711744"}, want: []string{"OTEL_EXPORTER_OTLP_TIMEOUT", `"288230376151711744"`, "more milliseconds"}},
		{name: "a signal timeout of the largest int64", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "9223372036854775807"}, want: []string{"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", `"9223372036854775807"`, "more milliseconds"}},
		{name: "a reader timeout that overflows", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_TIMEOUT": "9223372036854776"}, want: []string{"OTEL_METRIC_EXPORT_TIMEOUT", `"9223372036854776"`, "more milliseconds"}},
		{name: "an interval with white space, which the SDK's reader refuses", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_INTERVAL": " 5000"}, want: []string{"OTEL_METRIC_EXPORT_INTERVAL", `" 5000"`, "white space"}},
		{name: "a header with an empty name", env: map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "=" + secret}, want: []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 1"}, notWant: []string{secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := exporter.Config{}.WithEnv()
			checkErr(t, err, tc.want, tc.notWant)

			// New and Setup report the same error and start nothing.
			_, err = exporter.New(context.Background(), exporter.Config{})
			checkErr(t, err, tc.want, tc.notWant)
			_, err = exporter.Setup(context.Background(), exporter.Config{})
			checkErr(t, err, tc.want, tc.notWant)
		})
	}
}

// TestSetupRejectsBadResourceAttributes checks that a resource Setup
// would build wrong, or whose invalid UTF-8 would fail every OTLP export,
// is an error that names the variable or field.
func TestSetupRejectsBadResourceAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		cfg  exporter.Config
		want []string
	}{
		{name: "an entry without =", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=payments,oncall"}, want: []string{"OTEL_RESOURCE_ATTRIBUTES", `"oncall"`}},
		{name: "an empty key", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=payments,=x"}, want: []string{"OTEL_RESOURCE_ATTRIBUTES", "entry 2", "empty key"}},
		{name: "a bad escape", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=pay%zz"}, want: []string{"OTEL_RESOURCE_ATTRIBUTES", `"team"`, "percent-encoded"}},
		{name: "a value that decodes to invalid UTF-8", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=pay%FFments"}, want: []string{"OTEL_RESOURCE_ATTRIBUTES", `"team"`, `"pay\xffments"`, "UTF-8"}},
		{name: "a value of invalid UTF-8", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=pay\xc3ments"}, want: []string{"OTEL_RESOURCE_ATTRIBUTES", `"team"`, "UTF-8"}},
		{name: "a key of invalid UTF-8", env: map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "te\xffam=payments"}, want: []string{"OTEL_RESOURCE_ATTRIBUTES", `"te\xffam"`, "UTF-8"}},
		{name: "a service name of invalid UTF-8", env: map[string]string{"OTEL_SERVICE_NAME": "shop\xfe"}, want: []string{"OTEL_SERVICE_NAME", `"shop\xfe"`, "UTF-8"}},
		{name: "a ServiceName of invalid UTF-8", cfg: exporter.Config{ServiceName: "shop\xfe"}, want: []string{"ServiceName", `"shop\xfe"`, "UTF-8"}},
		{name: "a ResourceAttributes value of invalid UTF-8", cfg: exporter.Config{ResourceAttributes: map[string]string{"team": "\xff"}}, want: []string{"ResourceAttributes", `"team"`, "UTF-8"}},
		{name: "a ResourceAttributes key of invalid UTF-8", cfg: exporter.Config{ResourceAttributes: map[string]string{"\xff": "payments"}}, want: []string{"ResourceAttributes", `"\xff"`, "UTF-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tc.cfg.Exporters = []string{"otlp"}
			_, err := exporter.Setup(context.Background(), tc.cfg)
			checkErr(t, err, tc.want, nil)
		})
	}
}

func TestVariablesOfExportersThatDoNotRunAreNotRead(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "not a URL")
	t.Setenv("OTEL_METRIC_EXPORT_INTERVAL", "soon")
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "http")
	got, err := exporter.Config{Exporters: []string{"none"}}.WithEnv()
	if err != nil {
		t.Fatal(err)
	}
	if got.OTLP.Endpoint != "" || got.Prometheus.ListenAddr != "" {
		t.Errorf("WithEnv filled fields of exporters that do not run: %+v", got)
	}
}

// TestPrecedence pins the rule: defaults, then the environment, then the
// Config; a field set in the Config always wins over its variable.
func TestPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		cfg  exporter.Config
		got  func(exporter.Config) any
		want any
	}{
		{
			name: "the environment fills an unset exporter list",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": " otlp , console "},
			got:  func(c exporter.Config) any { return c.Exporters },
			want: []string{"otlp", "console"},
		},
		{
			name: "an explicit exporter list beats the environment",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp"},
			cfg:  exporter.Config{Exporters: []string{"prometheus"}},
			got:  func(c exporter.Config) any { return c.Exporters },
			want: []string{"prometheus"},
		},
		{
			name: "the signal endpoint is used as-is",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://collector:4318/custom"},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "http://collector:4318/custom",
		},
		{
			name: "a signal endpoint without a path stays at the root",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://collector:4318"},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "http://collector:4318/",
		},
		{
			name: "the generic endpoint gets /v1/metrics for http/protobuf",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "http://collector:4318/v1/metrics",
		},
		{
			name: "the generic endpoint keeps its own path before /v1/metrics",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "https://gateway/otlp/"},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "https://gateway/otlp/v1/metrics",
		},
		{
			name: "the generic endpoint is used as-is for grpc",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "http://collector:4317",
		},
		{
			name: "an explicit protocol decides how the generic endpoint is read",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Protocol: "grpc"}},
			got:  func(c exporter.Config) any { return [2]string{c.OTLP.Protocol, c.OTLP.Endpoint} },
			want: [2]string{"grpc", "http://collector:4317"},
		},
		{
			name: "the signal endpoint beats the generic one",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://generic:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://signal:4318/v1/metrics"},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "http://signal:4318/v1/metrics",
		},
		{
			name: "an explicit endpoint beats both variables",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://generic:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://signal:4318"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Endpoint: "https://mine:4318/v1/metrics"}},
			got:  func(c exporter.Config) any { return c.OTLP.Endpoint },
			want: "https://mine:4318/v1/metrics",
		},
		{
			name: "the environment fills headers, URL-decoded",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": " authorization=Bearer%20abc%20, x-tenant = blue "},
			got:  func(c exporter.Config) any { return c.OTLP.Headers },
			want: map[string]string{"authorization": "Bearer abc", "x-tenant": "blue"},
		},
		{
			name: "signal headers replace the generic ones",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_METRICS_HEADERS": "b=2"},
			got:  func(c exporter.Config) any { return c.OTLP.Headers },
			want: map[string]string{"b": "2"},
		},
		{
			name: "explicit headers beat the environment",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_HEADERS": "a=1"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Headers: map[string]string{"c": "3"}}},
			got:  func(c exporter.Config) any { return c.OTLP.Headers },
			want: map[string]string{"c": "3"},
		},
		{
			name: "the environment keeps otelhttp's metrics",
			env:  map[string]string{"OTELRED_OTELHTTP_METRICS": "True"},
			got:  func(c exporter.Config) any { return c.OtelhttpMetrics },
			want: true,
		},
		{
			name: "explicit otelhttp metrics beat an environment that says false",
			env:  map[string]string{"OTELRED_OTELHTTP_METRICS": "false"},
			cfg:  exporter.Config{OtelhttpMetrics: true},
			got:  func(c exporter.Config) any { return c.OtelhttpMetrics },
			want: true,
		},
		{
			name: "the environment turns insecure on",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_INSECURE": "TRUE"},
			got:  func(c exporter.Config) any { return c.OTLP.Insecure },
			want: true,
		},
		{
			name: "explicit insecure beats an environment that says false",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_INSECURE": "false"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Insecure: true}},
			got:  func(c exporter.Config) any { return c.OTLP.Insecure },
			want: true,
		},
		{
			name: "the signal timeout beats the generic and reader timeouts",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": "1500", "OTEL_EXPORTER_OTLP_TIMEOUT": "2000", "OTEL_METRIC_EXPORT_TIMEOUT": "3000"},
			got:  func(c exporter.Config) any { return c.OTLP.Timeout },
			want: 1500 * time.Millisecond,
		},
		{
			name: "the reader timeout is the last resort",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_METRIC_EXPORT_TIMEOUT": "3000"},
			got:  func(c exporter.Config) any { return c.OTLP.Timeout },
			want: 3 * time.Second,
		},
		{
			name: "an explicit timeout beats the environment",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TIMEOUT": "2000"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Timeout: time.Second}},
			got:  func(c exporter.Config) any { return c.OTLP.Timeout },
			want: time.Second,
		},
		{
			name: "the environment fills both intervals",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp,console", "OTEL_METRIC_EXPORT_INTERVAL": "15000"},
			got:  func(c exporter.Config) any { return [2]time.Duration{c.OTLP.Interval, c.Console.Interval} },
			want: [2]time.Duration{15 * time.Second, 15 * time.Second},
		},
		{
			name: "an explicit interval beats the environment",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp,console", "OTEL_METRIC_EXPORT_INTERVAL": "15000"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Interval: time.Second}, Console: exporter.Console{Interval: 2 * time.Second}},
			got:  func(c exporter.Config) any { return [2]time.Duration{c.OTLP.Interval, c.Console.Interval} },
			want: [2]time.Duration{time.Second, 2 * time.Second},
		},
		{
			name: "the environment fills protocol, compression and temporality",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "Delta"},
			got:  func(c exporter.Config) any { return [3]string{c.OTLP.Protocol, c.OTLP.Compression, c.OTLP.Temporality} },
			want: [3]string{"grpc", "gzip", "delta"},
		},
		{
			name: "explicit protocol, compression and temporality beat the environment",
			env:  map[string]string{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION": "gzip", "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "delta"},
			cfg:  exporter.Config{OTLP: exporter.OTLP{Protocol: "http/protobuf", Compression: "none", Temporality: "cumulative"}},
			got:  func(c exporter.Config) any { return [3]string{c.OTLP.Protocol, c.OTLP.Compression, c.OTLP.Temporality} },
			want: [3]string{"http/protobuf", "none", "cumulative"},
		},
		{
			name: "a Prometheus port alone implies a listener on localhost",
			env:  map[string]string{"OTEL_EXPORTER_PROMETHEUS_PORT": "9999"},
			got:  func(c exporter.Config) any { return c.Prometheus.ListenAddr },
			want: "localhost:9999",
		},
		{
			name: "a Prometheus host alone implies a listener on port 9464",
			env:  map[string]string{"OTEL_EXPORTER_PROMETHEUS_HOST": "127.0.0.1"},
			got:  func(c exporter.Config) any { return c.Prometheus.ListenAddr },
			want: "127.0.0.1:9464",
		},
		{
			name: "an explicit listen address beats the environment",
			env:  map[string]string{"OTEL_EXPORTER_PROMETHEUS_HOST": "0.0.0.0", "OTEL_EXPORTER_PROMETHEUS_PORT": "9999"},
			cfg:  exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:8000"}},
			got:  func(c exporter.Config) any { return c.Prometheus.ListenAddr },
			want: "127.0.0.1:8000",
		},
		{
			name: "no Prometheus variable means no listener",
			got:  func(c exporter.Config) any { return c.Prometheus.ListenAddr },
			want: "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := tc.cfg.WithEnv()
			if err != nil {
				t.Fatal(err)
			}
			if g := tc.got(got); !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got %#v, want %#v", g, tc.want)
			}
		})
	}
}

func TestResourcePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		cfg  exporter.Config
		want map[string]string
		size int // the number of attributes; 0: not checked
	}{
		{
			name: "nothing set names the service after the executable",
			want: map[string]string{"service.name": "unknown_service:exporter.test", "telemetry.sdk.language": "go"},
		},
		{
			name: "the environment names the service and adds attributes",
			env:  map[string]string{"OTEL_SERVICE_NAME": "from-env", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=staging,team=pay%20ments"},
			want: map[string]string{"service.name": "from-env", "deployment.environment": "staging", "team": "pay ments"},
		},
		{
			name: "OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES",
			env:  map[string]string{"OTEL_SERVICE_NAME": "from-env", "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"},
			want: map[string]string{"service.name": "from-env"},
		},
		{
			name: "explicit fields beat the environment",
			env:  map[string]string{"OTEL_SERVICE_NAME": "from-env", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=staging"},
			cfg:  exporter.Config{ServiceName: "checkout", ResourceAttributes: map[string]string{"deployment.environment": "prod"}},
			want: map[string]string{"service.name": "checkout", "deployment.environment": "prod"},
		},
		{
			name: "ServiceName beats service.name in ResourceAttributes",
			cfg:  exporter.Config{ServiceName: "checkout", ResourceAttributes: map[string]string{"service.name": "other"}},
			want: map[string]string{"service.name": "checkout"},
		},
		{
			name: "a trailing comma in OTEL_RESOURCE_ATTRIBUTES is skipped",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a=1,"},
			want: map[string]string{"a": "1", "service.name": "unknown_service:exporter.test"},
		},
		{
			name: "an empty entry in OTEL_RESOURCE_ATTRIBUTES is skipped",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "a=1,,b=2"},
			want: map[string]string{"a": "1", "b": "2"},
		},
		{
			name: "OTEL_RESOURCE_ATTRIBUTES of commas alone adds nothing",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": ",,,"},
			want: map[string]string{"service.name": "unknown_service:exporter.test", "telemetry.sdk.language": "go"},
			size: 5, // service.instance.id, service.name and the three telemetry.sdk attributes
		},
		{
			name: "each level of precedence beats the one below",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=attrs,telemetry.sdk.language=rust,a=env,b=env,c=env", "OTEL_SERVICE_NAME": "env-name"},
			cfg:  exporter.Config{ResourceAttributes: map[string]string{"b": "cfg", "service.name": "cfg-attrs"}},
			want: map[string]string{"service.name": "cfg-attrs", "telemetry.sdk.language": "rust", "a": "env", "b": "cfg", "c": "env", "telemetry.sdk.name": "opentelemetry"},
		},
		{
			name: "OTEL_SERVICE_NAME beats the default and the attributes, ServiceName beats it",
			env:  map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=attrs", "OTEL_SERVICE_NAME": "env-name"},
			cfg:  exporter.Config{ServiceName: "checkout", ResourceAttributes: map[string]string{"service.name": "cfg-attrs"}},
			want: map[string]string{"service.name": "checkout"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			tc.cfg.Exporters = []string{"none"}
			p := setup(t, tc.cfg)
			for k, want := range tc.want {
				v, ok := p.Resource.Set().Value(attribute.Key(k))
				if !ok || v.String() != want {
					t.Errorf("resource %s = %q (present %v), want %q", k, v.String(), ok, want)
				}
			}
			if n := p.Resource.Len(); tc.size != 0 && n != tc.size {
				t.Errorf("the resource has %d attributes, want %d: %v", n, tc.size, p.Resource)
			}
		})
	}
}

func TestConfigDecodesFromJSON(t *testing.T) {
	const doc = `{
		"exporters": ["prometheus", "otlp"],
		"service_name": "checkout",
		"resource_attributes": {"deployment.environment": "prod"},
		"naming": "classic",
		"boundaries": [0.1, 0.3, 1],
		"prometheus": {
			"path": "/internal/metrics",
			"namespace": "shop",
			"scope_labels": true,
			"disable_target_info": true,
			"resource_labels": ["deployment.environment"],
			"disable_openmetrics": true,
			"listen_addr": "127.0.0.1:9464"
		},
		"otlp": {
			"protocol": "grpc",
			"endpoint": "https://collector:4317",
			"insecure": true,
			"headers": {"authorization": "Bearer abc"},
			"compression": "gzip",
			"interval": "15s",
			"timeout": 5000000000,
			"temporality": "delta"
		},
		"console": {"interval": "1m"}
	}`
	var got exporter.Config
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	want := exporter.Config{
		Exporters:          []string{"prometheus", "otlp"},
		ServiceName:        "checkout",
		ResourceAttributes: map[string]string{"deployment.environment": "prod"},
		Naming:             "classic",
		Boundaries:         []float64{0.1, 0.3, 1},
		Prometheus: exporter.Prometheus{
			Path: "/internal/metrics", Namespace: "shop", ScopeLabels: true, DisableTargetInfo: true,
			ResourceLabels: []string{"deployment.environment"}, DisableOpenMetrics: true, ListenAddr: "127.0.0.1:9464",
		},
		OTLP: exporter.OTLP{
			Protocol: "grpc", Endpoint: "https://collector:4317", Insecure: true,
			Headers: map[string]string{"authorization": "Bearer abc"}, Compression: "gzip",
			Interval: 15 * time.Second, Timeout: 5 * time.Second, Temporality: "delta",
		},
		Console: exporter.Console{Interval: time.Minute},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("the decoded config does not validate: %v", err)
	}
}

func TestConfigJSONRejectsBadDurations(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"an interval without a unit", `{"otlp": {"interval": "15"}}`, "OTLP.Interval"},
		{"a timeout that is a boolean", `{"otlp": {"timeout": true}}`, "OTLP.Timeout"},
		{"a console interval that is not a duration", `{"console": {"interval": "soon"}}`, "Console.Interval"},
		{"an interval longer than a Duration holds", `{"otlp": {"interval": "3000000h"}}`, `OTLP.Interval "3000000h": want a duration such as "30s", of at most 2562047h47m16.854775807s`},
		{"a timeout of more nanoseconds than a Duration holds", `{"otlp": {"timeout": 1e20}}`, "OTLP.Timeout 1e20: more nanoseconds than a time.Duration holds"},
		{"a timeout of a fraction of a nanosecond", `{"otlp": {"timeout": 1.5}}`, "OTLP.Timeout 1.5: want a duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c exporter.Config
			err := json.Unmarshal([]byte(tc.doc), &c)
			checkErr(t, err, []string{tc.want}, nil)
		})
	}
}

// TestEnvironmentValuesIgnoreCase reads enum values as the OpenTelemetry
// specification asks, whatever their case.
func TestEnvironmentValuesIgnoreCase(t *testing.T) {
	clearEnv(t)
	t.Setenv("OTEL_METRICS_EXPORTER", "Prometheus, OTLP")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "GRPC")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "GZip")
	t.Setenv("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta")
	cfg, err := exporter.Config{}.WithEnv()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Exporters) != "[prometheus otlp]" || cfg.OTLP.Protocol != "grpc" || cfg.OTLP.Compression != "gzip" {
		t.Errorf("WithEnv read %v, %q, %q", cfg.Exporters, cfg.OTLP.Protocol, cfg.OTLP.Compression)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
