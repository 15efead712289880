package exporter_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
)

// leaked is the credential TestSecretsNeverReachAnyOutput hides; the test
// fails wherever it appears.
const leaked = "secret123"

// The variables TestSecretsNeverReachAnyOutput's child process reads: the
// row it runs, how it logs, and the protocol.
const (
	childRow      = "OTELRED_TEST_SECRET_ROW"
	childLogging  = "OTELRED_TEST_SECRET_LOGGING"
	childProtocol = "OTELRED_TEST_SECRET_PROTOCOL"
)

// The ways the child process logs: as a program that sets nothing does
// (the SDK's logger and error handler write to stderr), or through a
// logr/slog logger at the SDK's highest verbosity and an error handler of
// its own, which print every error and every error it wraps.
const (
	loggingDefault = "default"
	loggingOwn     = "own"
)

// A secretRow puts the credential somewhere the SDK's OTLP exporters, or a
// collector, could print it.
type secretRow struct {
	name string
	// env is set in the child; "RCV" in a value is the receiver's endpoint.
	env map[string]string
	// otlp is the Config's OTLP section, with Protocol, Interval and
	// Timeout set by the child.
	otlp func(endpoint string) exporter.OTLP
	// fault is the collector's answer; with None the row is a
	// configuration error: Setup must fail with ErrInvalidConfig naming
	// variable.
	fault    otlptest.Fault
	variable string
}

// withHeaders and withEndpoint are OTLP sections that set headers or the
// endpoint in the Config, so that otelred reads neither variable, and
// neither hides a bad one from the SDK.
func withHeaders(endpoint string) exporter.OTLP {
	return exporter.OTLP{Endpoint: endpoint, Headers: map[string]string{"x-tenant": "blue"}}
}

func withEndpoint(endpoint string) exporter.OTLP { return exporter.OTLP{Endpoint: endpoint} }

var secretRows = []secretRow{
	// Header lists the SDK parses and logs about although otelred reads
	// another one.
	{
		name:     "generic headers with a bad escape, shadowed by the signal's",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-tenant=blue", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20" + leaked + "%zz", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV"},
		variable: "OTEL_EXPORTER_OTLP_HEADERS",
	},
	{
		name:     "generic headers without =, shadowed by the signal's",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-tenant=blue", "OTEL_EXPORTER_OTLP_HEADERS": "authorization:" + leaked, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV"},
		variable: "OTEL_EXPORTER_OTLP_HEADERS",
	},
	{
		name:     "generic headers with a name that is not a token, shadowed by the signal's",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-tenant=blue", "OTEL_EXPORTER_OTLP_HEADERS": "authorization: Bearer " + leaked + "=x", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV"},
		variable: "OTEL_EXPORTER_OTLP_HEADERS",
	},
	{
		name:     "generic headers with an empty entry, shadowed by the signal's",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-tenant=blue", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20" + leaked + ",", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV"},
		variable: "OTEL_EXPORTER_OTLP_HEADERS",
	},
	{
		name:     "signal headers with a bad escape, shadowed by Config.Headers",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "authorization=Bearer%20" + leaked + "%zz"},
		otlp:     withHeaders,
		variable: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	},
	{
		name:     "signal headers without =, shadowed by Config.Headers",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "authorization " + leaked},
		otlp:     withHeaders,
		variable: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	},
	{
		name:     "signal headers with a name that is not a token, shadowed by Config.Headers",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x-tenant=blue,authorization " + leaked + "=x"},
		otlp:     withHeaders,
		variable: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	},
	{
		name:     "signal headers with an empty entry, shadowed by Config.Headers",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": ",authorization=" + leaked},
		otlp:     withHeaders,
		variable: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
	},
	// Endpoints with a password that do not parse, which the SDK logs
	// whole.
	{
		name:     "a generic endpoint with a password and a bad escape, shadowed by the signal's",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:" + leaked + "@127.0.0.1:1/%zz"},
		variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
	},
	{
		name:     "a generic endpoint with a password and a bad port, shadowed by the signal's",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:" + leaked + "@127.0.0.1:port"},
		variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
	},
	{
		name:     "a signal endpoint with a bad character in its userinfo, shadowed by Config.Endpoint",
		env:      map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://user:" + leaked + "^@127.0.0.1:1"},
		otlp:     withEndpoint,
		variable: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	},
	// Collectors that echo the credential they refuse.
	{
		name:  "signal headers echoed by the collector",
		env:   map[string]string{"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "authorization=Bearer%20" + leaked, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV"},
		fault: otlptest.Unauthorized,
	},
	{
		name:  "generic headers echoed by the collector",
		env:   map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=" + leaked, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "RCV"},
		fault: otlptest.Unauthorized,
	},
	{
		name: "Config.Headers echoed by the collector, with a password in the endpoint",
		otlp: func(endpoint string) exporter.OTLP {
			return exporter.OTLP{
				Endpoint: strings.Replace(endpoint, "http://", "http://user:"+leaked+"@", 1),
				Headers:  map[string]string{"authorization": "Bearer " + leaked},
			}
		},
		fault: otlptest.Unauthorized,
	},
}

// TestSecretsNeverReachAnyOutput runs each row in a child process (the
// SDK logs through a process-wide logger, to stderr by default), over
// both protocols, once logging as a program that sets nothing does and
// once through a logr/slog logger at the SDK's highest verbosity and an
// error handler of its own. The credential must appear in none of the
// child's output: stderr, the logger, the errors Setup, ForceFlush and
// Shutdown return, and what reaches otel.Handle, each printed with every
// error it wraps. A configuration row must fail Setup with an error
// wrapping ErrInvalidConfig that names the variable, before the SDK
// reads it; a collector row must see the collector's refusal, redacted,
// in every one of those errors.
func TestSecretsNeverReachAnyOutput(t *testing.T) {
	if name := os.Getenv(childRow); name != "" {
		runSecretRow(t, name, os.Getenv(childProtocol), os.Getenv(childLogging))
		return
	}
	for _, row := range secretRows {
		for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
			for _, logging := range []string{loggingDefault, loggingOwn} {
				t.Run(proto+"/"+logging+"/"+row.name, func(t *testing.T) {
					clearEnv(t)
					cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSecretsNeverReachAnyOutput$", "-test.count=1", "-test.v")
					cmd.Env = append(os.Environ(), childRow+"="+row.name, childProtocol+"="+proto, childLogging+"="+logging,
						// Under -race, a process sleeps 1 s on exit by default.
						"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					out := stdout.String()
					if err != nil {
						t.Fatalf("the child failed: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
					}
					if strings.Contains(out, leaked) || strings.Contains(stderr.String(), leaked) {
						t.Errorf("the credential reached the output\nstdout:\n%s\nstderr:\n%s", out, stderr.String())
					}
					checkSecretRow(t, row, logging, out, stderr.String())
				})
			}
		}
	}
}

// checkSecretRow checks that the child's report shows the row's failure.
func checkSecretRow(t *testing.T, row secretRow, logging, out, stderr string) {
	t.Helper()
	report := func(key string) string {
		for line := range strings.Lines(out) {
			if v, ok := strings.CutPrefix(line, "report "+key+": "); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	if row.fault == otlptest.None {
		setup := report("setup")
		if report("setup is ErrInvalidConfig") != "true" || !strings.Contains(setup, row.variable) {
			t.Errorf("Setup returned %q, want an error wrapping ErrInvalidConfig that names %s", setup, row.variable)
		}
		// Setup failed before the SDK read anything: nothing was logged.
		if logging == loggingDefault && strings.TrimSpace(stderr) != "" {
			t.Errorf("the child wrote to stderr:\n%s", stderr)
		}
		if n := report("logged"); logging == loggingOwn && n != "0" {
			t.Errorf("the SDK logged %s lines, want 0:\n%s", n, out)
		}
		return
	}
	if s := report("setup"); s != "<nil>" {
		t.Fatalf("Setup: %s", s)
	}
	// The collector's refusal is in the errors, with the credential
	// redacted.
	refusal := `invalid credentials "REDACTED"`
	for _, key := range []string{"flush", "shutdown"} {
		if got := report(key); !strings.Contains(got, refusal) {
			t.Errorf("%s error %q, want the collector's refusal, %s", key, got, refusal)
		}
	}
	switch logging {
	case loggingDefault: // the SDK's default handler logs to stderr
		if !strings.Contains(stderr, `invalid credentials "REDACTED"`) {
			t.Errorf("no export error reached otel.Handle's default handler, on stderr:\n%s", stderr)
		}
	case loggingOwn:
		if n := report("handled"); n == "" || n == "0" {
			t.Errorf("%q export errors reached otel.Handle, want at least 1", n)
		}
		if !strings.Contains(out, "handled error: ") || !strings.Contains(out, refusal) {
			t.Errorf("the handled errors lack the collector's refusal:\n%s", out)
		}
	}
}

// runSecretRow is the child process: it sets the row's environment and
// logging, calls Setup, and for a collector row records once, flushes,
// waits for two timed exports and shuts down, printing every error.
func runSecretRow(t *testing.T, name, proto, logging string) {
	var row *secretRow
	for i := range secretRows {
		if secretRows[i].name == name {
			row = &secretRows[i]
		}
	}
	if row == nil {
		t.Fatalf("no row %q", name)
	}
	clearEnv(t)
	rcv := otlptest.Start(t, proto)
	for k, v := range row.env {
		t.Setenv(k, strings.ReplaceAll(v, "RCV", rcv.Endpoint()))
	}
	report := func(key string, v any) { fmt.Printf("report %s: %v\n", key, v) }

	var (
		mu      sync.Mutex
		handled int
		logged  bytes.Buffer
	)
	if logging == loggingOwn {
		// slog's level -8 is logr's V(8), the SDK's Debug.
		h := slog.NewJSONHandler(&syncWriter{mu: &mu, w: &logged}, &slog.HandlerOptions{Level: slog.Level(-8)})
		otel.SetLogger(logr.FromSlogHandler(h))
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			mu.Lock()
			defer mu.Unlock()
			handled++
			for _, s := range unwrapAll(err) {
				fmt.Printf("handled error: %s\n", s)
			}
		}))
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		report("logged", strings.Count(logged.String(), "\n"))
		fmt.Print(logged.String())
		report("handled", handled)
	}()

	o := exporter.OTLP{}
	if row.otlp != nil {
		o = row.otlp(rcv.Endpoint())
	}
	o.Protocol, o.Interval, o.Timeout = proto, 20*time.Millisecond, time.Second
	rcv.SetFault(row.fault)
	p, err := exporter.Setup(context.Background(), exporter.Config{Exporters: []string{"otlp"}, OTLP: o})
	report("setup", errorTree(err))
	report("setup is ErrInvalidConfig", errors.Is(err, exporter.ErrInvalidConfig))
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.Meter("secrets").Int64Counter("recorded")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 1)
	report("flush", errorTree(p.ForceFlush(ctx)))
	// Two timed exports after the flush's, whose errors reach otel.Handle;
	// Shutdown waits for the one in progress.
	if err := rcv.WaitFor(ctx, func() bool { return rcv.Attempts() >= 3 }); err != nil {
		t.Fatalf("the collector saw %d attempts: %v", rcv.Attempts(), err)
	}
	report("shutdown", errorTree(p.Shutdown(ctx)))
}

// errorTree prints err and every error it wraps, with %+v.
func errorTree(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.Join(unwrapAll(err), " | ")
}

// unwrapAll returns err and every error it wraps, each printed with %+v.
func unwrapAll(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, fmt.Sprintf("%+v", e))
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
