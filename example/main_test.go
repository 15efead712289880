package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
)

func TestParseFlags(t *testing.T) {
	t.Run("the defaults are the contract's", func(t *testing.T) {
		opts, err := parseFlags(nil, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if opts.addr != "127.0.0.1:8080" || opts.naming != "semconv" || opts.load || opts.bare || opts.tracing {
			t.Errorf("defaults: addr %q, naming %q, load %v, bare %v, tracing %v", opts.addr, opts.naming, opts.load, opts.bare, opts.tracing)
		}
	})
	t.Run("every flag is read", func(t *testing.T) {
		opts, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-naming", "classic", "-load"}, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if opts.addr != "127.0.0.1:0" || opts.naming != "classic" || !opts.load {
			t.Errorf("got addr %q, naming %q, load %v", opts.addr, opts.naming, opts.load)
		}
		if opts, _ := parseFlags([]string{"-bare"}, io.Discard, io.Discard); !opts.bare {
			t.Error("-bare not read")
		}
		if opts, _ := parseFlags([]string{"-tracing", "-load"}, io.Discard, io.Discard); !opts.tracing || !opts.load {
			t.Error("-tracing not read")
		}
		for _, h := range []string{"explicit", "native"} {
			if opts, _ := parseFlags([]string{"-histogram", h}, io.Discard, io.Discard); opts.histogram != h {
				t.Errorf("-histogram %s read as %q", h, opts.histogram)
			}
		}
	})
	t.Run("-h documents the flags and the environment", func(t *testing.T) {
		var stderr strings.Builder
		_, err := parseFlags([]string{"-h"}, io.Discard, &stderr)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-h: %v, want flag.ErrHelp", err)
		}
		for _, s := range []string{"-addr", "-load", "-naming", "-bare", "-tracing", "-histogram", "OTELRED_HISTOGRAM", "OTELRED_OBJECTIVES", "/hello/{name}", "/slow?ms=N", "POST /orders", "OTEL_METRICS_EXPORTER", "OTEL_SERVICE_NAME", "SIGTERM"} {
			if !strings.Contains(stderr.String(), s) {
				t.Errorf("-h does not mention %s:\n%s", s, stderr.String())
			}
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want string // in the message
	}{
		{"an unknown naming is refused", []string{"-naming", "bogus"}, `-naming "bogus"`},
		{"-load with -bare is refused", []string{"-load", "-bare"}, "-bare"},
		{"-tracing with -bare is refused", []string{"-bare", "-tracing"}, "-tracing"},
		{"an unknown histogram is refused", []string{"-histogram", "exponential"}, `-histogram "exponential"`},
		{"-histogram with -bare is refused", []string{"-bare", "-histogram", "native"}, "-histogram"},
		{"arguments are refused", []string{"serve"}, `unexpected arguments ["serve"]`},
		{"an unknown flag is refused", []string{"-port", "80"}, "-port"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			if _, err := parseFlags(tt.args, io.Discard, &stderr); err == nil {
				t.Fatalf("parseFlags(%q): no error", tt.args)
			}
			if !strings.Contains(stderr.String(), tt.want) || !strings.Contains(stderr.String(), "Usage:") {
				t.Errorf("parseFlags(%q) printed %q, want %q and the usage", tt.args, stderr.String(), tt.want)
			}
		})
	}
}

func TestNewDemoRefusesBadConfig(t *testing.T) {
	ctx := context.Background()
	t.Run("an unknown exporter in the config", func(t *testing.T) {
		_, err := newDemo(ctx, options{addr: "127.0.0.1:0", config: exporter.Config{Exporters: []string{"bogus"}}})
		if !errors.Is(err, exporter.ErrInvalidConfig) || !strings.Contains(err.Error(), `"bogus"`) {
			t.Errorf("newDemo: %v, want an invalid config naming \"bogus\"", err)
		}
	})
	t.Run("an unknown exporter in OTEL_METRICS_EXPORTER", func(t *testing.T) {
		noOTELEnv(t)
		t.Setenv("OTEL_METRICS_EXPORTER", "prometheus,bogus")
		_, err := newDemo(ctx, options{addr: "127.0.0.1:0"})
		if err == nil || !strings.Contains(err.Error(), "OTEL_METRICS_EXPORTER") || !strings.Contains(err.Error(), `"bogus"`) {
			t.Errorf("newDemo: %v, want an error naming OTEL_METRICS_EXPORTER and \"bogus\"", err)
		}
	})
	t.Run("an unknown naming", func(t *testing.T) {
		_, err := newDemo(ctx, options{addr: "127.0.0.1:0", naming: "bogus"})
		if err == nil || !strings.Contains(err.Error(), `"bogus"`) {
			t.Errorf("newDemo: %v, want an error naming \"bogus\"", err)
		}
	})
	t.Run("an address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		for _, bare := range []bool{false, true} {
			_, err := newDemo(ctx, options{addr: ln.Addr().String(), bare: bare, config: exporter.Config{Exporters: []string{"prometheus"}}})
			if err == nil || !strings.Contains(err.Error(), "-addr") {
				t.Errorf("newDemo (bare %v) on a port in use: %v, want an error naming -addr", bare, err)
			}
		}
	})
}

func TestDemoServesMetrics(t *testing.T) {
	c := newClient(t)
	t.Run("semconv", func(t *testing.T) {
		d := startDemo(t, options{})
		get(t, c, d.url()+"/hello/ada")
		get(t, c, d.url()+"/fail")
		if status, _ := post(t, c, d.url()+"/orders"); status != 201 {
			t.Fatalf("POST /orders: %d, want 201", status)
		}
		status, body := get(t, c, d.url()+"/metrics")
		if status != 200 {
			t.Fatalf("GET /metrics: %d", status)
		}
		port := strconv.Itoa(d.ln.Addr().(*net.TCPAddr).Port)
		for _, s := range []string{
			// Server durations carry url_scheme, which the semantic
			// conventions require, and network_protocol_version.
			// /hello/ada, and the call POST /orders makes to /hello/orders:
			`http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/hello/{name}",network_protocol_version="1.1",url_scheme="http"} 2`,
			`http_server_request_duration_seconds_count{error_type="500",http_request_method="GET",http_response_status_code="500",http_route="/fail",network_protocol_version="1.1",url_scheme="http"} 1`,
			`http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="201",http_route="/orders",network_protocol_version="1.1",url_scheme="http"} 1`,
			`http_client_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",network_protocol_version="1.1",server_address="127.0.0.1",server_port="` + port + `"} 1`,
			`operation_duration_seconds_count{operation_name="orders.process"} 1`,
			`operation_active{operation_name="orders.process"} 0`,
			"\ngo_goroutines ",
			`go_memory_used_bytes{go_memory_type="stack"} `,
			// The resource names the service and this instance.
			`target_info{service_instance_id="` + d.instanceID() + `",service_name="otelred-test"`,
		} {
			if !strings.Contains(body, s) {
				t.Errorf("/metrics lacks %s:\n%s", s, body)
			}
		}
		if strings.Contains(body, `"/metrics"`) {
			t.Errorf("/metrics records itself:\n%s", body)
		}
	})
	t.Run("classic labels the service with the resource's service.name", func(t *testing.T) {
		noOTELEnv(t)
		for _, tt := range []struct {
			name string
			env  map[string]string
			cfg  string
			want string
		}{
			{"from the config", nil, "shop", "shop"},
			{"from OTEL_SERVICE_NAME", map[string]string{"OTEL_SERVICE_NAME": "checkout"}, "", "checkout"},
			{"from OTEL_RESOURCE_ATTRIBUTES", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "team=web,service.name=cart"}, "", "cart"},
			{"by default", nil, "", "example"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				d, err := newDemo(context.Background(), options{addr: "127.0.0.1:0", naming: "classic",
					config: exporter.Config{Exporters: []string{"prometheus"}, ServiceName: tt.cfg}})
				if err != nil {
					t.Fatal(err)
				}
				d.serve()
				t.Cleanup(func() { _ = d.shutdown() })
				get(t, c, d.url()+"/fail")
				if status, _ := post(t, c, d.url()+"/orders"); status != 201 {
					t.Fatalf("POST /orders: %d, want 201", status)
				}
				_, body := get(t, c, d.url()+"/metrics")
				for _, s := range []string{
					`http_requests_total{method="GET",path="/fail",service="` + tt.want + `",status_code="500"} 1`,
					`http_errors_total{method="GET",path="/fail",service="` + tt.want + `",status_code="500"} 1`,
					`http_requests_total{method="POST",path="/orders",service="` + tt.want + `",status_code="201"} 1`,
					`http_client_requests_total{host="127.0.0.1",method="GET",service="` + tt.want + `",status_code="200"} 1`,
					`http_client_request_duration_seconds_count{host="127.0.0.1",method="GET",service="` + tt.want + `",status_code="200"} 1`,
					`operations_total{operation="orders.process",service="` + tt.want + `"} 1`,
					`operation_duration_seconds_count{operation="orders.process",service="` + tt.want + `"} 1`,
					`operations_active{operation="orders.process",service="` + tt.want + `"} 0`,
					`target_info{service_instance_id="` + d.instanceID() + `",service_name="` + tt.want + `"`,
				} {
					if !strings.Contains(body, s) {
						t.Errorf("/metrics lacks %s:\n%s", s, body)
					}
				}
			})
		}
	})
	t.Run("bare has no /metrics", func(t *testing.T) {
		d := startDemo(t, options{bare: true})
		if status, _ := get(t, c, d.url()+"/metrics"); status != 404 {
			t.Errorf("GET /metrics on -bare: %d, want 404", status)
		}
		if status, _ := get(t, c, d.url()+"/hello/ada"); status != 200 {
			t.Errorf("GET /hello/ada on -bare: %d, want 200", status)
		}
		if status, body := post(t, c, d.url()+"/orders"); status != 201 {
			t.Errorf("POST /orders on -bare: %d %q, want 201", status, body)
		}
		if d.provider != nil {
			t.Error("-bare built a MeterProvider")
		}
	})
	t.Run("without the prometheus exporter there is no /metrics", func(t *testing.T) {
		d := startDemo(t, options{config: exporter.Config{Exporters: []string{"none"}}})
		if status, _ := get(t, c, d.url()+"/metrics"); status != 404 {
			t.Errorf("GET /metrics with exporters none: %d, want 404", status)
		}
	})
}

// TestRunWithLoad runs the whole demo with -load until two live lines are
// out, then cancels it, as a signal would.
func TestRunWithLoad(t *testing.T) {
	stdout := &testsupport.LockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{addr: "127.0.0.1:0", load: true, loadEvery: 300 * time.Millisecond,
			config: exporter.Config{Exporters: []string{"prometheus"}, ServiceName: "load"}, stdout: stdout})
	}()
	line := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d all \d+\.\d/s err (\d+\.\d%|-) p50 \S+ p99 \S+( \| /\S+ \d+\.\d/s err \S+ p50 \S+ p99 \S+)+$`)
	deadline := time.After(20 * time.Second)
	for len(line.FindAllString(stdout.String(), -1)) < 2 {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, stdout)
		case <-deadline:
			t.Fatalf("no two live lines in 20 s:\n%s", stdout)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return 20 s after its context ended")
	}
	if out := stdout.String(); !strings.Contains(out, "/hello/{name} ") || !strings.Contains(out, "/slow ") {
		t.Errorf("the live lines lack a route:\n%s", out)
	}
}

// TestBinaryRefusesBadConfig runs the built demo with bad settings: it
// exits non-zero at once, naming the bad value.
func TestBinaryRefusesBadConfig(t *testing.T) {
	bin := demoBinary(t)
	for _, tt := range []struct {
		name string
		args []string
		env  []string
		want []string // in stderr
	}{
		{"an unknown exporter", nil, []string{"OTEL_METRICS_EXPORTER=bogus"}, []string{"OTEL_METRICS_EXPORTER", `"bogus"`}},
		{"an unknown exporter in a list", nil, []string{"OTEL_METRICS_EXPORTER=prometheus,otlpp"}, []string{"OTEL_METRICS_EXPORTER", `"otlpp"`}},
		{"a bad OTLP endpoint", nil, []string{"OTEL_METRICS_EXPORTER=otlp", "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318"}, []string{"OTEL_EXPORTER_OTLP_ENDPOINT", `"collector:4318"`}},
		{"a bad export interval", nil, []string{"OTEL_METRICS_EXPORTER=otlp", "OTEL_METRIC_EXPORT_INTERVAL=1m"}, []string{"OTEL_METRIC_EXPORT_INTERVAL", `"1m"`}},
		{"an unknown naming", []string{"-naming", "bogus"}, nil, []string{`-naming "bogus"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0"}, tt.args...)...)
			cmd.Env = cleanEnv(tt.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Fatalf("%v %q: %v, want a non-zero exit\n%s", tt.env, tt.args, err, stderr.String())
			}
			for _, s := range tt.want {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %s:\n%s", s, stderr.String())
				}
			}
		})
	}
}

// TestBinaryShutsDownGracefully runs the built demo pushing OTLP once an
// hour, sends it requests and a signal: it exits 0, and the last push,
// flushed at shutdown, has every request.
func TestBinaryShutsDownGracefully(t *testing.T) {
	bin := demoBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			recv := otlptest.Start(t, otlptest.HTTP)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0")
			cmd.Env = cleanEnv(
				"OTEL_METRICS_EXPORTER=otlp",
				"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
				"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="+recv.Endpoint(),
				"OTEL_METRIC_EXPORT_INTERVAL=3600000",
				"OTEL_SERVICE_NAME=shutdown-test",
			)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var (
				out     testsupport.LockedBuffer
				addr    = make(chan string, 1)
				exited  = make(chan struct{})
				waitErr error
			)
			go func() {
				defer close(exited)
				sc := bufio.NewScanner(stderr)
				re := regexp.MustCompile(`listening on (http://\S+)`)
				for sc.Scan() {
					_, _ = out.Write([]byte(sc.Text() + "\n"))
					if m := re.FindStringSubmatch(sc.Text()); m != nil {
						addr <- m[1]
					}
				}
				waitErr = cmd.Wait()
			}()
			t.Cleanup(func() {
				_ = cmd.Process.Kill() // if it is still running
				<-exited
				if t.Failed() {
					t.Logf("the demo's stderr:\n%s", out.String())
				}
			})
			var base string
			select {
			case base = <-addr:
			case <-exited:
				t.Fatalf("the demo exited at start: %v", waitErr)
			case <-ctx.Done():
				t.Fatal("the demo did not say where it listens")
			}

			c := newClient(t)
			const hellos, fails = 7, 3
			for range hellos {
				get(t, c, base+"/hello/ada")
			}
			for range fails {
				get(t, c, base+"/fail")
			}
			if n := recv.Attempts(); n != 0 {
				t.Fatalf("%d pushes before the signal, want none (interval 1h)", n)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
				if waitErr != nil {
					t.Fatalf("after %v the demo exited with %v, want 0", sig, waitErr)
				}
			case <-ctx.Done():
				t.Fatalf("the demo did not exit after %v", sig)
			}

			for _, want := range []struct {
				attrs map[string]string
				n     uint64
			}{
				{map[string]string{"http.request.method": "GET", "http.route": "/hello/{name}", "http.response.status_code": "200", "network.protocol.version": "1.1", "url.scheme": "http"}, hellos},
				{map[string]string{"http.request.method": "GET", "http.route": "/fail", "http.response.status_code": "500", "error.type": "500", "network.protocol.version": "1.1", "url.scheme": "http"}, fails},
			} {
				hp, ok := recv.Histogram("http.server.request.duration", want.attrs)
				if !ok || hp.GetCount() != want.n {
					t.Errorf("the last push has %v for %v, want a count of %d", hp, want.attrs, want.n)
				}
			}
			if got := recv.Resource()["service.name"]; got != "shutdown-test" {
				t.Errorf("pushed service.name %q, want shutdown-test", got)
			}
			if !strings.Contains(out.String(), "shutting down") {
				t.Errorf("the demo did not say it shut down:\n%s", out.String())
			}
		})
	}
}

// TestDemoServesOperatorEndpointsOnItsPortWithoutAListener checks that
// without a standalone listener the demo serves /debug/red on -addr, and
// /metrics beside it when the Prometheus exporter runs, and says so.
func TestDemoServesOperatorEndpointsOnItsPortWithoutAListener(t *testing.T) {
	for _, tc := range []struct {
		exporters []string
		metrics   bool
	}{
		{[]string{"prometheus"}, true},
		{[]string{"none"}, false},
	} {
		t.Run(strings.Join(tc.exporters, ","), func(t *testing.T) {
			c := newClient(t)
			d := startDemo(t, options{config: exporter.Config{Exporters: tc.exporters}})
			if d.provider.Addr() != nil {
				t.Fatal("a standalone listener runs")
			}
			b := d.banner()
			if !strings.Contains(b, "  GET /debug/red     the live RED page, in a browser\n") || strings.Contains(b, "GET /metrics") != tc.metrics || strings.Contains(b, "operators:") {
				t.Errorf("banner:\n%s\nwant the GET /debug/red route, a GET /metrics route: %v, and no listener", b, tc.metrics)
			}
			if status, page := get(t, c, d.url()+"/debug/red"); status != 200 || !strings.Contains(page, "<html") {
				t.Errorf("GET /debug/red: %d, want the page:\n%.300s", status, page)
			}
			want := 404
			if tc.metrics {
				want = 200
			}
			if status, _ := get(t, c, d.url()+"/metrics"); status != want {
				t.Errorf("GET /metrics: %d, want %d", status, want)
			}
		})
	}
}

// TestDemoServesMetricsOnTheStandaloneListenerOnly checks that with
// OTEL_EXPORTER_PROMETHEUS_HOST and _PORT the demo says where /metrics and
// /debug/red are, serves them there, and no longer on the application's
// port.
func TestDemoServesMetricsOnTheStandaloneListenerOnly(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
	t.Setenv("OTEL_EXPORTER_PROMETHEUS_PORT", "0")
	c := newClient(t)
	d := startDemo(t, options{})
	addr := d.provider.Addr()
	if addr == nil {
		t.Fatal("no standalone listener")
	}
	want := "operators: the Prometheus exposition is at http://" + addr.String() + "/metrics and the live RED page at http://" + addr.String() + "/debug/red, on their own listener, and not on " + d.url() + "\n"
	if b := d.banner(); !strings.Contains(b, want) || strings.Contains(b, "GET /metrics") || strings.Contains(b, "GET /debug/red") {
		t.Errorf("banner:\n%s\nwant the line %q and neither a GET /metrics nor a GET /debug/red route", b, want)
	}
	get(t, c, d.url()+"/hello/ada")
	for _, path := range []string{"/metrics", "/debug/red", "/debug/red?format=json"} {
		if status, _ := get(t, c, d.url()+path); status != 404 {
			t.Errorf("GET %s on the application's port: %d, want 404", path, status)
		}
	}
	if status, page := get(t, c, "http://"+addr.String()+"/debug/red"); status != 200 || !strings.Contains(page, "<html") {
		t.Errorf("GET /debug/red on the standalone listener: %d, want 200 with the page:\n%.300s", status, page)
	}
	if status, feed := get(t, c, "http://"+addr.String()+"/debug/red?format=json"); status != 200 || !strings.Contains(feed, `"name":"/hello/{name}"`) || !strings.Contains(feed, `"service":"`+d.service+`"`) {
		t.Errorf("GET /debug/red?format=json on the standalone listener: %d, want the feed with /hello/{name}:\n%.500s", status, feed)
	}
	status, body := get(t, c, "http://"+addr.String()+"/metrics")
	line := `http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/hello/{name}",network_protocol_version="1.1",url_scheme="http"} 1`
	if status != 200 || !strings.Contains(body, line) {
		t.Errorf("GET /metrics on the standalone listener: %d, want 200 with %s:\n%s", status, line, body)
	}
	// The middleware leaves /metrics out wherever it is served.
	if strings.Contains(body, `http_response_status_code="404"`) {
		t.Errorf("the application's 404 for /metrics is recorded:\n%s", body)
	}
}
