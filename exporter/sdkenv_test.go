package exporter_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/stdr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/exporter"
)

// TestWithEnvRejectsWhatTheSDKLogsAbout sets, one at a time, each
// variable the SDK's OTLP exporters and periodic reader read themselves
// to values at the edges of what they accept, and builds both exporters
// and a periodic reader from the environment alone, with a logger that
// records what the SDK logs. WithEnv, with a Config that sets every field
// (so that otelred reads none of the OTLP variables itself, and only the
// SDK's rules apply), must reject exactly the values the SDK logs about,
// and accept every value it reads without a word. The table says which
// each value is, so that an SDK that changes its rules fails here too.
func TestWithEnvRejectsWhatTheSDKLogsAbout(t *testing.T) {
	files := certificates(t)
	type value struct {
		v    string
		logs bool
	}
	quiet := func(vs ...string) []value {
		out := make([]value, len(vs))
		for i, v := range vs {
			out[i] = value{v, false}
		}
		return out
	}
	logs := func(vs ...string) []value {
		out := make([]value, len(vs))
		for i, v := range vs {
			out[i] = value{v, true}
		}
		return out
	}
	endpoints := append(quiet("http://collector:4318", " https://collector/v1/metrics ", "collector:4317", "localhost:4317", "http://h/a b", "http://user:pw@collector:4318"),
		logs("127.0.0.1:4317", "http://[::1", "http://user:pw@collector:port", "http://collector/%zz", "http://user:p^w@collector", "http://collector/\x7f")...)
	headers := append(quiet("a=1", " a = 1 , b=2 ", "a=", "a=%20", "%41=1", "a=b=c", "a=x%0A", "a=x%0Ay", "a=1,a=2", "!#$%&'*+-.^_`|~=1"),
		logs("a=1,", ",a=1", "a=1,,b=2", ",,,", "a=1, ,b=2", "a", "=1", " =1", "a b=1", "a:b=1", "é=1", "a=%zz", "a=%", "a=%2")...)
	timeouts := append(quiet("10000", "+5", "-5", "0", " 7 ", "9223372036854776", "9223372036854775807"),
		logs("9223372036854775808", "10s", "1.5", "0x10", "1_000")...)
	readerMillis := append(quiet("5000", "+5", "1", "9223372036854"),
		logs(" 5000", "5000 ", "0", "-1", "9223372036855", "9223372036854776", "288230376151711744", "9223372036854775807", "abc", "1.5")...)
	cases := []struct {
		names  []string
		values []value
	}{
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"}, endpoints},
		{[]string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"}, headers},
		{[]string{"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT"}, timeouts},
		{[]string{"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT"}, readerMillis},
		{[]string{"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"}, append(quiet("delta", "Cumulative", " LowMemory "), logs("sometimes", "low memory")...)},
		{[]string{"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"}, append(quiet("explicit_bucket_histogram", "BASE2_EXPONENTIAL_BUCKET_HISTOGRAM"), logs("native", "explicit")...)},
		{[]string{"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE"}, append(quiet(files.cert), logs(files.missing, files.garbage, files.key)...)},
		{[]string{"OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_METRICS_INSECURE"}, quiet("true", "yes", "0")},
		{[]string{"OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION"}, quiet("gzip", "br")},
		// The client certificate and key are read as a pair, below.
	}
	type setting struct {
		env  map[string]string
		logs bool
	}
	var settings []setting
	for _, c := range cases {
		for _, name := range c.names {
			for _, v := range c.values {
				settings = append(settings, setting{map[string]string{name: v.v}, v.logs})
			}
		}
	}
	for _, prefix := range []string{"OTEL_EXPORTER_OTLP_", "OTEL_EXPORTER_OTLP_METRICS_"} {
		cert, key := prefix+"CLIENT_CERTIFICATE", prefix+"CLIENT_KEY"
		settings = append(settings,
			setting{map[string]string{cert: files.cert, key: files.key}, false},
			setting{map[string]string{cert: files.cert}, false}, // the SDK reads neither alone
			setting{map[string]string{key: files.missing}, false},
			setting{map[string]string{cert: files.missing, key: files.key}, true},
			setting{map[string]string{cert: files.cert, key: files.missing}, true},
			setting{map[string]string{cert: files.cert, key: files.otherKey}, true},
			setting{map[string]string{cert: files.garbage, key: files.key}, true},
		)
	}

	sink := &recordingSink{}
	otel.SetLogger(logr.New(sink))
	t.Cleanup(func() { otel.SetLogger(stdr.New(log.New(os.Stderr, "", log.LstdFlags|log.Lshortfile))) })
	// Every field set, so that otelred reads no OTLP variable itself.
	all := exporter.Config{
		Exporters: []string{"otlp"},
		Histogram: "explicit",
		OTLP: exporter.OTLP{
			Protocol: "http/protobuf", Endpoint: "http://127.0.0.1:1", Insecure: true,
			Headers: map[string]string{"x-tenant": "blue"}, Compression: "none",
			Interval: time.Hour, Timeout: time.Second, Temporality: "cumulative",
		},
	}
	var quietN, loudN int
	for _, s := range settings {
		t.Run(fmt.Sprint(s.env), func(t *testing.T) {
			clearEnv(t)
			for _, k := range []string{"OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
				"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_KEY",
				"OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY"} {
				t.Setenv(k, "")
			}
			for k, v := range s.env {
				t.Setenv(k, v)
			}
			logged := sdkLogs(t, sink)
			if (len(logged) > 0) != s.logs {
				t.Errorf("the SDK logged %q, want logging %v: its rules changed", logged, s.logs)
			}
			_, err := all.WithEnv()
			if (err != nil) != s.logs {
				t.Errorf("WithEnv: %v; the SDK logged %q", err, logged)
			}
			if err != nil && !namesOneOf(err, s.env) {
				t.Errorf("WithEnv error %q names none of %v", err, s.env)
			}
			// Where otelred reads the variable itself, by its own rules,
			// those are stricter: what the SDK logs about is an error too.
			if _, err := (exporter.Config{Exporters: []string{"otlp"}}).WithEnv(); s.logs && (err == nil || !namesOneOf(err, s.env)) {
				t.Errorf("WithEnv of a Config that leaves the variable to otelred: %v; the SDK logged %q", err, logged)
			}
			if s.logs {
				loudN++
			} else {
				quietN++
			}
		})
	}
	t.Logf("%d settings the SDK reads quietly, %d it logs about", quietN, loudN)
}

// namesOneOf reports whether err wraps ErrInvalidConfig and names one of
// env's variables.
func namesOneOf(err error, env map[string]string) bool {
	for k := range env {
		if errors.Is(err, exporter.ErrInvalidConfig) && (strings.Contains(err.Error(), k+" ") || strings.Contains(err.Error(), k+":")) {
			return true
		}
	}
	return false
}

// sdkLogs builds both OTLP exporters and a periodic reader from the
// environment alone, and returns what the SDK logged meanwhile.
func sdkLogs(t *testing.T, sink *recordingSink) []string {
	t.Helper()
	sink.reset()
	ctx := context.Background()
	if e, err := otlpmetrichttp.New(ctx); err == nil {
		r := sdkmetric.NewPeriodicReader(e)
		_ = r.Shutdown(ctx)
		_ = e.Shutdown(ctx)
	} else {
		t.Logf("otlpmetrichttp.New: %v", err)
	}
	if e, err := otlpmetricgrpc.New(ctx); err == nil {
		_ = e.Shutdown(ctx)
	} else {
		t.Logf("otlpmetricgrpc.New: %v", err)
	}
	return sink.reset()
}

// recordingSink is a logr.LogSink that records the SDK's errors, warnings
// and info messages (V(4) and below), not its debug messages.
type recordingSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *recordingSink) Init(logr.RuntimeInfo)  {}
func (s *recordingSink) Enabled(level int) bool { return level <= 4 }
func (s *recordingSink) Info(level int, msg string, kv ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, fmt.Sprintf("V(%d) %s %v", level, msg, kv))
}

func (s *recordingSink) Error(err error, msg string, kv ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, fmt.Sprintf("error %s: %v %v", msg, err, kv))
}
func (s *recordingSink) WithValues(...any) logr.LogSink { return s }
func (s *recordingSink) WithName(string) logr.LogSink   { return s }

// reset returns what was recorded, and forgets it.
func (s *recordingSink) reset() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs
	s.msgs = nil
	return m
}

// certFiles are the paths of TLS files for the certificate variables.
type certFiles struct {
	cert, key, otherKey string // a certificate, its key, and a key of another
	garbage, missing    string // a file that is not PEM, and no file
}

// certificates writes a self-signed certificate, its key, another key and
// a file that is not PEM into a temporary directory.
func certificates(t *testing.T) certFiles {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, blocks ...*pem.Block) string {
		var b strings.Builder
		for _, blk := range blocks {
			b.Write(pem.EncodeToMemory(blk))
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newKey := func() (*ecdsa.PrivateKey, *pem.Block) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	k, keyBlock := newKey()
	_, otherBlock := newKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otelred test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	f := certFiles{
		cert:     write("cert.pem", &pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:      write("key.pem", keyBlock),
		otherKey: write("other-key.pem", otherBlock),
		missing:  filepath.Join(dir, "missing.pem"),
	}
	f.garbage = filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(f.garbage, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
