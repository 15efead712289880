package exporter

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// The OpenTelemetry SDK reads the environment itself when otelred builds
// its readers, whatever otelred passes it: the OTLP exporters
// (otlpmetricgrpc and otlpmetrichttp, whose internal/oconf and
// internal/envconfig read the same variables) read every
// OTEL_EXPORTER_OTLP_* variable below, the generic and the signal-specific
// one alike, and the periodic reader reads OTEL_METRIC_EXPORT_INTERVAL and
// OTEL_METRIC_EXPORT_TIMEOUT. Where a value does not suit them, they log
// it through the global logger (to stderr by default), header values and
// endpoint passwords included, and go on without it.
//
// So otelred checks each variable before the SDK reads it: the ones it
// uses by its own rules, which are stricter, and every other one (shadowed
// by the signal-specific variable or by a Config field) by the SDK's
// rules, exactly: what the SDK reads without a word passes, what it would
// log about is an error wrapping ErrInvalidConfig.

// The variables only the SDK reads: otelred does not handle TLS itself.
const (
	envCertificate              = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	envMetricsCertificate       = "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE"
	envClientCertificate        = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
	envClientKey                = "OTEL_EXPORTER_OTLP_CLIENT_KEY"
	envMetricsClientCertificate = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE"
	envMetricsClientKey         = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY"
)

// sdkOTLPEnv lists, for each variable the OTLP exporters read, how they
// read it; nil for those they read whatever the value (INSECURE is "true"
// or false, COMPRESSION "gzip" or none). The values are the SDK's
// (envconfig.GetEnvValue), without surrounding white space, and never
// empty.
var sdkOTLPEnv = []struct {
	name  string
	check func(name, v string) error
}{
	{envEndpoint, sdkURL},
	{envMetricsEndpoint, sdkURL},
	{envHeaders, sdkHeaders},
	{envMetricsHeaders, sdkHeaders},
	{envTimeout, sdkMillis},
	{envMetricsTimeout, sdkMillis},
	{envTemporality, checkTemporality},
	{envDefaultHistogram, checkDefaultHistogram},
	{envCertificate, sdkCertificate},
	{envMetricsCertificate, sdkCertificate},
	{envInsecure, nil},
	{envMetricsInsecure, nil},
	{envCompression, nil},
	{envMetricsCompression, nil},
}

// checkSDKEnv checks, as the OTLP exporters read them, the variables of
// sdkOTLPEnv that otelred has not read itself (those in read), and the
// client certificates.
func checkSDKEnv(read map[string]bool) []error {
	var errs []error
	for _, e := range sdkOTLPEnv {
		if v := getenv(e.name); v != "" && e.check != nil && !read[e.name] {
			if err := e.check(e.name, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, pair := range [][2]string{{envClientCertificate, envClientKey}, {envMetricsClientCertificate, envMetricsClientKey}} {
		if err := sdkClientCertificate(pair[0], pair[1]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// sdkURL passes what envconfig.WithURL reads: anything url.Parse takes.
// The error never shows the URL's userinfo.
func sdkURL(name, v string) error {
	if _, err := url.Parse(v); err != nil {
		return fmt.Errorf("%w: %s %q: not a URL", ErrInvalidConfig, name, redact(v))
	}
	return nil
}

// sdkHeaders passes what envconfig's stringToHeader reads without logging
// (see otelenv.List.Headers). The error shows no value.
func sdkHeaders(name, v string) error {
	if _, err := headerList(name).Parse(v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return nil
}

// sdkMillis passes what envconfig.WithDuration reads: any strconv.Atoi
// number, which it multiplies by a millisecond without a check.
func sdkMillis(name, v string) error {
	if _, err := strconv.Atoi(v); err != nil {
		return fmt.Errorf("%w: %s %q: want a whole number of milliseconds", ErrInvalidConfig, name, v)
	}
	return nil
}

// checkDefaultHistogram passes the two aggregations the OTLP exporters
// know, in any case.
func checkDefaultHistogram(name, v string) error {
	switch strings.ToLower(v) {
	case "explicit_bucket_histogram", "base2_exponential_bucket_histogram":
		return nil
	}
	return fmt.Errorf("%w: %s %q: want explicit_bucket_histogram or base2_exponential_bucket_histogram", ErrInvalidConfig, name, v)
}

// sdkCertificate passes what envconfig.WithCertPool reads: a file that
// holds at least one PEM certificate.
func sdkCertificate(name, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrInvalidConfig, name, path, pathErr(err))
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		return fmt.Errorf("%w: %s %q: the file holds no PEM certificate", ErrInvalidConfig, name, path)
	}
	return nil
}

// sdkClientCertificate passes what envconfig.WithClientCert reads: a
// certificate and a key variable that are both set, to files that hold a
// matching PEM certificate and key, or that are not both set (the SDK then
// reads neither).
func sdkClientCertificate(certName, keyName string) error {
	certPath, keyPath := getenv(certName), getenv(keyName)
	if certPath == "" || keyPath == "" {
		return nil
	}
	cert, err := os.ReadFile(certPath)
	if err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrInvalidConfig, certName, certPath, pathErr(err))
	}
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return fmt.Errorf("%w: %s %q: %w", ErrInvalidConfig, keyName, keyPath, pathErr(err))
	}
	// X509KeyPair's errors describe the problem, never the key.
	if _, err := tls.X509KeyPair(cert, key); err != nil {
		return fmt.Errorf("%w: %s %q and %s %q: %w", ErrInvalidConfig, certName, certPath, keyName, keyPath, err)
	}
	return nil
}

// pathErr returns what went wrong with a file, without the path, which
// the message shows already.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
