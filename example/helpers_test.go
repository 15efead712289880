package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// startDemo builds the demo wiring with opts on a free loopback port, serves
// it, and shuts it down when the test ends. Unless opts says otherwise it
// runs the Prometheus exporter alone and names the service "otelred-test";
// the config wins over OTEL_METRICS_EXPORTER and OTEL_SERVICE_NAME.
func startDemo(t *testing.T, opts options) *demo {
	t.Helper()
	if opts.addr == "" {
		opts.addr = "127.0.0.1:0"
	}
	if opts.config.Exporters == nil {
		opts.config.Exporters = []string{"prometheus"}
	}
	if opts.config.ServiceName == "" {
		opts.config.ServiceName = "otelred-test"
	}
	d, err := newDemo(context.Background(), opts)
	if err != nil {
		t.Fatalf("newDemo: %v", err)
	}
	d.serve()
	t.Cleanup(func() {
		if err := d.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return d
}

// newClient returns an HTTP client whose connections are closed when the
// test ends.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// get sends GET url and returns the status and body.
func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// post sends POST url, with no body, and returns the status and body.
func post(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// built is the demo binary, built once for the exec tests.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// demoBinary builds the demo (with -race when the tests have it, so that
// the test's compiled packages are reused) and returns the binary's path.
func demoBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			built.err = err
			return
		}
		if built.dir, built.err = os.MkdirTemp("", "otelred-example-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "example")
		args := []string{"build", "-o", built.bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, gobin, append(args, ".")...)
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// cleanEnv returns the test process's environment without any OTEL_
// variable, followed by extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// noOTELEnv unsets, for the test, every OTEL_ variable the demo reads, so
// that the environment the tests run in does not leak into them.
func noOTELEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
}

// instanceID returns the service.instance.id of the demo's resource: the
// instance label of its series in a Prometheus that receives its OTLP
// pushes.
func (d *demo) instanceID() string {
	v, _ := d.provider.Resource.Set().Value("service.instance.id")
	return v.AsString()
}
