package exporter_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/otelred/otelred/exporter"
)

// fuzzedEnv are the variables FuzzWithEnv sets, in the order of its
// arguments.
var fuzzedEnv = []string{
	"OTEL_METRICS_EXPORTER",
	"OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_INSECURE",
	"OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_EXPORTER_OTLP_COMPRESSION",
	"OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_METRIC_EXPORT_INTERVAL",
	"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
	"OTEL_EXPORTER_PROMETHEUS_HOST",
	"OTEL_EXPORTER_PROMETHEUS_PORT",
}

// FuzzWithEnv sets the OTEL_* variables to fuzzed values: Config.WithEnv
// must not panic, and either return an error wrapping ErrInvalidConfig or
// a Config that passes Validate, which is what New and Setup check next.
func FuzzWithEnv(f *testing.F) {
	f.Add("prometheus,otlp", "grpc", "http://collector:4317", "", "true", "authorization=Bearer%20abc,x-tenant=blue", "gzip", "5000", "10000", "delta", "127.0.0.1", "0")
	f.Add("otlp", "http/protobuf", "https://collector:4318/base/", "http://other:4318", "false", "", "none", "1", "60000", "LowMemory", "", "")
	f.Add("otlp", "", "", "https://user:pw@collector/v1/metrics", "", "k=%zz", "", "10s", "0", "sometimes", "", "")
	f.Add(" none ", "thrift", "collector:4317", "http://[::1", "yes", "=v", "br", "-5", "abc", "", "::1", "9464")
	f.Add("prometheus", "", "", "", "", "", "", "", "", "", "[::1]", "70000")
	f.Add("prometheus", "", "", "", "", "", "", "", "", "", "a]b", "")
	f.Fuzz(func(t *testing.T, exporters, protocol, endpoint, metricsEndpoint, insecure, headers, compression, timeout, interval, temporality, promHost, promPort string) {
		values := []string{exporters, protocol, endpoint, metricsEndpoint, insecure, headers, compression, timeout, interval, temporality, promHost, promPort}
		clearEnv(t)
		for i, v := range values {
			if strings.IndexByte(v, 0) >= 0 {
				t.Skip("the environment cannot hold a NUL byte")
			}
			t.Setenv(fuzzedEnv[i], v)
		}
		cfg, err := exporter.Config{}.WithEnv()
		if err != nil {
			if !errors.Is(err, exporter.ErrInvalidConfig) {
				t.Fatalf("WithEnv error %q does not wrap ErrInvalidConfig", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("WithEnv accepted the environment %q but Validate rejects the result: %v", values, err)
		}
	})
}

// FuzzConfigJSON decodes fuzzed JSON into a Config: neither decoding nor
// Validate may panic, their errors about fields wrap ErrInvalidConfig, and
// a decoded Config survives a round trip through json.Marshal unchanged,
// valid or not alike (but for an empty list of boundaries, see below).
func FuzzConfigJSON(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"exporters":["prometheus","otlp"],"service_name":"shop","naming":"classic","boundaries":[0.1,0.3,1]}`,
		`{"otlp":{"protocol":"grpc","endpoint":"http://collector:4317","headers":{"authorization":"Bearer x"},"interval":"30s","timeout":5000000000,"temporality":"delta"}}`,
		`{"prometheus":{"path":"/internal/metrics","namespace":"shop","listen_addr":"127.0.0.1:0","resource_labels":["service.name"]}}`,
		`{"console":{"interval":"1m"},"otlp":{"interval":null}}`,
		`{"otlp":{"interval":"soon"}}`,
		`{"otlp":{"timeout":-1}}`,
		`{"boundaries":[1,0.5]}`,
		`{"boundaries":[]}`,
		`{"prometheus":{"namespace":"___"},"resource_attributes":{" ":"x"}}`,
		`{"otlp":{"endpoint":"http://[::1"}}`,
		`{"OTLP":{"Headers":{"bad key":"v"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg exporter.Config
		if err := json.Unmarshal(data, &cfg); err != nil {
			return // not JSON for a Config; decoding must only not panic
		}
		verr := cfg.Validate()
		if verr != nil && !errors.Is(verr, exporter.ErrInvalidConfig) {
			t.Fatalf("Validate error %q does not wrap ErrInvalidConfig", verr)
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("a decoded Config does not encode: %v", err)
		}
		var again exporter.Config
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("a Config's own JSON does not decode: %v\n%s", err, b)
		}
		b2, err := json.Marshal(again)
		if err != nil || string(b2) != string(b) {
			t.Fatalf("the round trip changed the Config:\n%s\n%s", b, b2)
		}
		// The one change a round trip may make: an empty list of
		// boundaries, which is an error, is omitted (omitempty) and comes
		// back as nil, the default.
		emptied := cfg.Boundaries != nil && len(cfg.Boundaries) == 0
		if (again.Validate() == nil) != (verr == nil) && !emptied {
			t.Fatalf("the round trip changed validity: %v, then %v\n%s", verr, again.Validate(), b)
		}
	})
}
