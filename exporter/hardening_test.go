package exporter_test

// Hardening: collector faults (down, hung, 503, 429) stay bounded in
// attempts, goroutines and time; pushes resume with correct cumulative
// totals; secrets never reach an error or a log line; the metrics can be
// kept off the application's port or behind its authentication. The
// request path under faults, memory and the shutdown deadline for three
// of the faults are in faults_test.go.

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// TestCollectorFaultsStayBounded runs many export intervals against a
// collector that is down, hangs, answers 503 or answers 429, with traffic
// in between, and checks that:
//   - every failed export reaches otel.Handle, one error per export, and
//     exports do not come faster than the interval;
//   - retries are bounded: the receiver sees at most one attempt per
//     export, because the exporters' first backoff (5 s, randomised to at
//     least 2.5 s) is longer than the export timeout, which bounds retries;
//   - the number of goroutines does not grow with failed exports;
//   - no request waits for an export (a request that did would take
//     about the export timeout);
//   - Shutdown returns within its context.
func TestCollectorFaultsStayBounded(t *testing.T) {
	const (
		interval        = 10 * time.Millisecond
		timeout         = 40 * time.Millisecond
		warm            = 5  // failed exports before the baseline
		measured        = 30 // failed exports measured
		goroutineSlack  = 6
		shutdownTimeout = 300 * time.Millisecond
		shutdownSlack   = 500 * time.Millisecond
	)
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, f := range faults {
			t.Run(proto+"/collector="+f.name, func(t *testing.T) {
				clearEnv(t)
				errs := captureErrors(t)
				rcv := otlptest.Start(t, proto)
				rcv.SetFault(f.fault)
				p, err := exporter.Setup(context.Background(), exporter.Config{
					Exporters: []string{"otlp"},
					OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: interval, Timeout: timeout},
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = p.Shutdown(context.Background()) }) // if the test fails early
				h := app(t, p, otelred.Semconv)

				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				var slowest time.Duration
				var served, slow int
				paths := []string{"/users/1", "/fail", "/nope"}
				drive := func(n int) {
					for errs.count() < n {
						for i := range 10 {
							start := time.Now()
							serve(ctx, h, paths[i%len(paths)])
							d := time.Since(start)
							slowest = max(slowest, d)
							served++
							if d >= timeout {
								slow++
							}
						}
						if !errs.waitFor(ctx, errs.count()+1) {
							t.Fatalf("only %d of %d export errors reached otel.Handle", errs.count(), n)
						}
					}
				}

				drive(warm)
				g0, a0, e0, t0 := runtime.NumGoroutine(), rcv.Attempts(), errs.count(), time.Now()
				drive(warm + measured)
				elapsed, a1, e1 := time.Since(t0), rcv.Attempts(), errs.count()
				g1 := testsupport.SettleGoroutines(g0 + goroutineSlack)
				exports, attempts := e1-e0, a1-a0

				t.Logf("%d failed exports in %v (%.1f intervals): %d attempts at the receiver (%.2f per export), goroutines %d → %d, slowest request %v; an error: %.120s",
					exports, elapsed.Round(time.Millisecond), float64(elapsed)/float64(interval), attempts,
					float64(attempts)/float64(exports), g0, g1, slowest, firstError(errs))
				if g1 > g0+goroutineSlack {
					t.Errorf("goroutines grew from %d to %d over %d failed exports", g0, g1, exports)
				}
				if maxExports := int(elapsed/interval) + 2; exports > maxExports {
					t.Errorf("%d exports in %v, more than one per interval (%d)", exports, elapsed, maxExports)
				}
				// An attempt made before the baseline may fail after it, and one
				// made before the end may fail after it: one either way.
				switch {
				case attempts > exports+1:
					t.Errorf("%d attempts for %d exports: retries are not bounded by the export timeout", attempts, exports)
				case f.fault == otlptest.Refuse && attempts != 0:
					t.Errorf("%d attempts reached a collector that refuses connections", attempts)
				case f.fault != otlptest.Refuse && attempts < exports-1:
					t.Errorf("%d attempts for %d failed exports: exports failed without reaching the collector", attempts, exports)
				}
				// A request that waited for an export would take the export
				// timeout, and nearly every one would wait, since exports run
				// back to back: allow scheduling and GC hiccups of a loaded
				// machine, not a pattern.
				if slow*10 > served {
					t.Errorf("%d of %d requests took the export timeout (%v; the slowest %v): requests wait for exports", slow, served, timeout, slowest)
				}

				sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
				defer scancel()
				start := time.Now()
				err = p.Shutdown(sctx)
				if took := time.Since(start); took > shutdownTimeout+shutdownSlack {
					t.Errorf("Shutdown took %v with a %v context", took, shutdownTimeout)
				}
				if err == nil {
					t.Errorf("Shutdown returned nil with the collector %s, want the failed flush's error", f.name)
				}
			})
		}
	}
}

// firstError returns the first error the sink kept.
func firstError(s *errSink) string { return s.First() }

// TestPushResumesWithCumulativeTotals serves N requests while the
// collector fails in each way, heals it, serves M more, and checks that
// the receiver's cumulative count becomes exactly N+M: nothing served
// during the outage is lost, nothing is counted twice, and no export the
// receiver accepted ever went backwards or past the total.
func TestPushResumesWithCumulativeTotals(t *testing.T) {
	const (
		nOK, nFail = 7, 3 // during the outage
		mOK, mFail = 5, 2 // after it
	)
	okAttrs := map[string]string{"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"}
	failAttrs := map[string]string{"http.request.method": "GET", "http.route": "/fail", "http.response.status_code": "500", "error.type": "500", "network.protocol.version": "1.1", "url.scheme": "http"}
	name := otelred.Semconv.Names().Duration
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, f := range faults {
			t.Run(proto+"/collector="+f.name, func(t *testing.T) {
				clearEnv(t)
				errs := captureErrors(t)
				rcv := otlptest.Start(t, proto)
				rcv.SetFault(f.fault)
				p := setup(t, exporter.Config{
					Exporters: []string{"otlp"},
					OTLP:      exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond},
				})
				h := app(t, p, otelred.Semconv)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				send := func(ok, fail int) {
					for i := range ok {
						serve(ctx, h, fmt.Sprintf("/users/%d", i+1))
					}
					for range fail {
						serve(ctx, h, "/fail")
					}
				}

				send(nOK, nFail)
				if !errs.waitFor(ctx, 2) {
					t.Fatalf("fewer than 2 export errors while the collector is %s", f.name)
				}
				if n := len(rcv.Requests()); n != 0 {
					t.Fatalf("the receiver stored %d requests while failing", n)
				}
				healed := time.Now()
				rcv.SetFault(otlptest.None)
				send(mOK, mFail)
				err := rcv.WaitFor(ctx, func() bool {
					ok, _ := rcv.Histogram(name, okAttrs)
					fail, _ := rcv.Histogram(name, failAttrs)
					return ok.GetCount() == nOK+mOK && fail.GetCount() == nFail+mFail
				})
				ok, _ := rcv.Histogram(name, okAttrs)
				fail, _ := rcv.Histogram(name, failAttrs)
				if err != nil {
					t.Fatalf("cumulative counts after the collector came back: 200s %d, 500s %d; want %d and %d (%v)",
						ok.GetCount(), fail.GetCount(), nOK+mOK, nFail+mFail, err)
				}
				t.Logf("the collector was %s for %d failed exports; %d + %d requests arrived as cumulative %d, %v after it came back",
					f.name, errs.count(), nOK+nFail, mOK+mFail, ok.GetCount()+fail.GetCount(), time.Since(healed).Round(time.Millisecond))

				var last uint64
				for i, req := range rcv.Requests() {
					p, found := otlptest.HistogramIn(req, name, okAttrs)
					if !found {
						continue
					}
					c := p.GetCount()
					if c < last || c > nOK+mOK {
						t.Errorf("accepted export %d counts %d requests after %d, want non-decreasing and at most %d", i, c, last, nOK+mOK)
					}
					last = c
				}
			})
		}
	}
}

// TestOutageLosesDeltaNotCumulative serves the same traffic with each
// temporality through an outage of a known number of export intervals:
// each interval serves perInterval requests and ends with a ForceFlush
// (which the reader runs in its export loop, between its timed exports),
// and the collector answers 503 to every export of intervals
// [outageFrom, outageTo). With cumulative temporality, the first export
// after the outage carries everything, and the last one counts exactly
// every request; with delta, each export carries what was recorded since
// the one before, so what the failed exports carried is gone: the
// receiver's sum is exactly the requests of the healthy intervals.
func TestOutageLosesDeltaNotCumulative(t *testing.T) {
	const (
		intervals             = 10
		outageFrom, outageTo  = 4, 8 // 4 intervals of 10
		perInterval           = 25
		total                 = intervals * perInterval
		lost                  = (outageTo - outageFrom) * perInterval
		interval, exportLimit = 20 * time.Millisecond, 100 * time.Millisecond
	)
	attrs := map[string]string{"http.request.method": "GET", "http.route": "/users/{id}", "http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"}
	name := otelred.Semconv.Names().Duration
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, temporality := range []string{"cumulative", "delta"} {
			t.Run(proto+"/"+temporality, func(t *testing.T) {
				clearEnv(t)
				captureErrors(t) // the timed exports that fail
				rcv := otlptest.Start(t, proto)
				p := setup(t, exporter.Config{
					Exporters: []string{"otlp"},
					OTLP: exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Temporality: temporality,
						Interval: interval, Timeout: exportLimit},
				})
				h := app(t, p, otelred.Semconv)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				start := time.Now()
				failed := 0
				for i := range intervals {
					switch i {
					case outageFrom:
						rcv.SetFault(otlptest.Unavailable)
					case outageTo:
						rcv.SetFault(otlptest.None)
					}
					for j := range perInterval {
						serve(ctx, h, fmt.Sprintf("/users/%d", j))
					}
					err := p.ForceFlush(ctx)
					if down := i >= outageFrom && i < outageTo; down != (err != nil) {
						t.Fatalf("interval %d: ForceFlush returned %v with the collector down: %v", i, err, down)
					}
					if err != nil {
						failed++
					}
				}
				took := time.Since(start)

				// What the receiver accepted: the sum of the deltas, or the
				// last cumulative count, which never went down.
				var sum, last uint64
				for i, req := range rcv.Requests() {
					hp, ok := otlptest.HistogramIn(req, name, attrs)
					if !ok {
						continue
					}
					c := hp.GetCount()
					if temporality == "cumulative" && c < last {
						t.Errorf("accepted export %d counts %d, fewer than the %d before it", i, c, last)
					}
					sum += c
					last = c
				}
				got, want := last, uint64(total)
				if temporality == "delta" {
					got, want = sum, total-lost
				}
				t.Logf("%s, %s: %d requests over %d intervals, %d of them (%d exports) with the collector down; the receiver counts %d (%.0f%% lost), in %v",
					proto, temporality, total, intervals, outageTo-outageFrom, failed, got, 100*float64(total-int(got))/total, took.Round(time.Millisecond))
				if got != want {
					t.Errorf("the receiver counts %d requests, want %d", got, want)
				}
			})
		}
	}
}

// token is the secret the tests below hide in headers and in the
// endpoint's password.
const token = "SECRET123"

// TestExportErrorsNeverCarrySecrets sends with an authorization header
// and a password in the endpoint URL, checks that the collector gets the
// header, then fails the collector in each way: no error that reaches
// otel.Handle, and not Shutdown's, may contain the secret.
func TestExportErrorsNeverCarrySecrets(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, f := range faults {
			t.Run(proto+"/collector="+f.name, func(t *testing.T) {
				clearEnv(t)
				errs := captureErrors(t)
				rcv := otlptest.Start(t, proto)
				endpoint := strings.Replace(rcv.Endpoint(), "http://", "http://otel:"+token+"pw@", 1)
				p, err := exporter.Setup(context.Background(), exporter.Config{
					Exporters: []string{"otlp"},
					OTLP: exporter.OTLP{
						Protocol: proto,
						Endpoint: endpoint,
						Headers:  map[string]string{"authorization": "Bearer " + token, "x-api-key": token + "-key"},
						Interval: 10 * time.Millisecond,
						Timeout:  50 * time.Millisecond,
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
				h := app(t, p, otelred.Semconv)
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				serve(ctx, h, "/users/1")
				if err := rcv.WaitFor(ctx, func() bool { return len(rcv.Requests()) > 0 }); err != nil {
					t.Fatalf("no export arrived from the healthy collector: %v", err)
				}
				if got := rcv.Headers()[0].Get("Authorization"); got != "Bearer "+token {
					t.Fatalf("the collector got Authorization %q, want the configured secret", got)
				}

				rcv.SetFault(f.fault)
				before := errs.count()
				for range 3 {
					serve(ctx, h, "/fail")
					if !errs.waitFor(ctx, errs.count()+1) {
						t.Fatal("no export error reached otel.Handle")
					}
				}
				sctx, scancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer scancel()
				shutdownErr := p.Shutdown(sctx)
				texts := errs.String()
				if shutdownErr != nil {
					texts += shutdownErr.Error() + "\n"
				}
				if strings.Contains(texts, token) {
					t.Errorf("an error carries the secret:\n%s", texts)
				}
				t.Logf("%d export errors and Shutdown's (%v) carry no secret; one: %.150s", errs.count()-before, shutdownErr != nil, firstError(errs))
			})
		}
	}
}

// TestConfigNeverPrintsSecrets formats a Config and its OTLP section with
// every fmt verb a program logs with, and logs them with log/slog's text
// and JSON handlers: header values and the endpoint's password never
// appear, header names and the endpoint's host do.
func TestConfigNeverPrintsSecrets(t *testing.T) {
	cfg := exporter.Config{
		Exporters: []string{"otlp"},
		OTLP: exporter.OTLP{
			Endpoint: "https://collector:" + token + "pw@collector.example:4318/v1/metrics",
			Headers:  map[string]string{"authorization": "Bearer " + token, "x-api-key": token + "-key"},
			Interval: 30 * time.Second,
		},
	}
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out[verb+" Config"] = fmt.Sprintf(verb, cfg)
		out[verb+" *Config"] = fmt.Sprintf(verb, &cfg)
		out[verb+" OTLP"] = fmt.Sprintf(verb, cfg.OTLP)
		out[verb+" *OTLP"] = fmt.Sprintf(verb, &cfg.OTLP)
	}
	out["Sprint Config"] = fmt.Sprint(cfg)
	out["Sprintln OTLP"] = fmt.Sprintln(cfg.OTLP)
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		slog.New(newHandler(&b)).Info("config", "cfg", cfg, "otlp", cfg.OTLP, "ptr", &cfg)
		out["slog "+name] = b.String()
	}
	for how, s := range out {
		if strings.Contains(s, token) {
			t.Errorf("%s prints the secret: %s", how, s)
		}
		if !strings.Contains(s, "authorization") || !strings.Contains(s, "collector.example:4318") {
			t.Errorf("%s hides what is no secret (the header names, the endpoint's host): %s", how, s)
		}
	}
	t.Logf("%%+v Config: %s", out["%+v Config"])

	// Printing must not change the Config.
	if cfg.OTLP.Headers["authorization"] != "Bearer "+token || !strings.Contains(cfg.OTLP.Endpoint, token) {
		t.Errorf("printing changed the Config: %#v", cfg.OTLP.Headers)
	}
}

// TestMetricsOnlyOnTheirOwnListener serves the application on one port
// and the metrics, with Prometheus.ListenAddr, on another: the
// application's port does not serve /metrics.
func TestMetricsOnlyOnTheirOwnListener(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0"}})
	srv := httptest.NewServer(app(t, p, otelred.Semconv))
	t.Cleanup(srv.Close)
	if code, _ := get(t, srv.URL+"/users/1"); code != http.StatusOK {
		t.Fatalf("GET /users/1 on the application's port = %d", code)
	}
	if code, body := get(t, srv.URL+"/metrics"); code != http.StatusNotFound || strings.Contains(body, "http_server") {
		t.Errorf("GET /metrics on the application's port = %d, want 404:\n%.200s", code, body)
	}
	code, body := get(t, "http://"+p.Addr().String()+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"} 1`) {
		t.Errorf("GET /metrics on the metrics listener = %d:\n%s", code, body)
	}
}

// basicAuth is the kind of handler a service already has in front of its
// private endpoints.
func basicAuth(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestMetricsBehindTheUsersAuth puts Provider.Handler behind the
// service's own authentication, mounted on the application's mux and on
// a listener of the service's own: without credentials, or with wrong
// ones, 401; with them, the exposition.
func TestMetricsBehindTheUsersAuth(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{})
	protected := basicAuth("prometheus", token, p.Handler())

	mux := http.NewServeMux()
	mux.Handle("/", app(t, p, otelred.Semconv))
	mux.Handle("GET /metrics", protected)
	onApp := httptest.NewServer(mux)
	t.Cleanup(onApp.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	own := &http.Server{Handler: protected, ReadHeaderTimeout: 5 * time.Second}
	go own.Serve(ln)
	t.Cleanup(func() { _ = own.Close() })

	if code, _ := get(t, onApp.URL+"/users/1"); code != http.StatusOK {
		t.Fatalf("GET /users/1 = %d", code)
	}
	for where, base := range map[string]string{"the application's mux": onApp.URL, "a listener of its own": "http://" + ln.Addr().String()} {
		for _, tc := range []struct {
			name       string
			user, pass string
			want       int
		}{
			{"no credentials", "", "", http.StatusUnauthorized},
			{"a wrong password", "prometheus", "guess", http.StatusUnauthorized},
			{"the right credentials", "prometheus", token, http.StatusOK},
		} {
			req, _ := http.NewRequest("GET", base+"/metrics", nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s, %s: %d, want %d", where, tc.name, resp.StatusCode, tc.want)
			}
			if has := strings.Contains(b.String(), "http_server_request_duration_seconds_count"); has != (tc.want == http.StatusOK) {
				t.Errorf("%s, %s: metrics in the body = %v", where, tc.name, has)
			}
		}
	}
	if err := own.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Error(err)
	}
}

// TestPrometheusHostFromTheEnvironment checks that WithEnv accepts only a
// listen address that Validate accepts too, naming the variable when it
// does not, and takes an IPv6 host with or without brackets.
func TestPrometheusHostFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct{ host, want, wantErr string }{
		{host: "127.0.0.1", want: "127.0.0.1:9464"},
		{host: "::1", want: "[::1]:9464"},
		{host: "[::1]", want: "[::1]:9464"},
		{host: "a]b", wantErr: `OTEL_EXPORTER_PROMETHEUS_HOST "a]b"`},
		{host: "[::1", wantErr: `OTEL_EXPORTER_PROMETHEUS_HOST "[::1"`},
	} {
		t.Run(tc.host, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("OTEL_EXPORTER_PROMETHEUS_HOST", tc.host)
			cfg, err := exporter.Config{}.WithEnv()
			if tc.wantErr != "" {
				checkErr(t, err, []string{tc.wantErr}, nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Prometheus.ListenAddr != tc.want {
				t.Errorf("ListenAddr = %q, want %q", cfg.Prometheus.ListenAddr, tc.want)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// BenchmarkRequestPathUnderFaults measures one request through the
// middleware while an OTLP exporter pushes every 10 ms to a collector that
// is healthy, hung, down, or answers 503 or 429, beside a baseline that
// pushes nowhere. The baseline has a ManualReader, so every case pays for
// the histogram alike, and the ratios show what a failing collector costs
// the request path, which should be nothing.
func BenchmarkRequestPathUnderFaults(b *testing.B) {
	for _, tc := range []struct {
		name  string
		push  bool
		fault otlptest.Fault
	}{
		{"none", false, otlptest.None},
		{"healthy", true, otlptest.None},
		{"hung", true, otlptest.Hang},
		{"down", true, otlptest.Refuse},
		{"503", true, otlptest.Unavailable},
		{"429", true, otlptest.Throttle},
	} {
		b.Run("collector="+tc.name, func(b *testing.B) {
			clearEnv(b)
			captureErrors(b)
			cfg := exporter.Config{Exporters: []string{"none"}}
			var opts []sdkmetric.Option
			var rcv *otlptest.Receiver
			if tc.push {
				rcv = otlptest.Start(b, otlptest.HTTP)
				rcv.SetFault(tc.fault)
				cfg = exporter.Config{
					Exporters: []string{"otlp"},
					OTLP:      exporter.OTLP{Endpoint: rcv.Endpoint(), Interval: 10 * time.Millisecond, Timeout: time.Second},
				}
			} else {
				opts = append(opts, sdkmetric.WithReader(sdkmetric.NewManualReader()))
			}
			p, err := exporter.Setup(context.Background(), cfg, opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				_ = p.Shutdown(ctx)
			})
			if rcv != nil {
				// Runs before the provider's Shutdown: release hung requests.
				b.Cleanup(rcv.Close)
			}
			h := app(b, p, otelred.Semconv)
			req := httptest.NewRequest(http.MethodGet, "/users/1", nil)
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
