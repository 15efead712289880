package kubernetes_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/otelred/otelred/internal/otlptest"
)

// The downward API's values for the pods the test runs.
const (
	testNamespace = "otelred-test"
	podSuffix     = "-6f7d8b9c4d-x2x7q"
)

// requests is how many requests the test sends to the application.
const requests = 5

// TestDeploymentsRunAsDeclared runs the example's binary, built as the
// image builds it, with each Deployment's arguments and environment (the
// downward API's values filled in and $(VAR) references expanded as the
// kubelet does), on ports the OS picks instead of the container's. It
// probes it as the kubelet would, sends it a few requests, and then reads
// the metrics where each path takes them: the scraped Deployment through
// the PodMonitor's port and path, and the OTLP one through the pushes an
// in-process OTLP receiver gets in place of the Collector. The probes must
// not count as requests, and the pushes must carry the pod's name as
// service.instance.id.
func TestDeploymentsRunAsDeclared(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example: not with -short")
	}
	bin := buildExample(t)
	ms := loadManifests(t)
	pm := find[*monitoringv1.PodMonitor](t, ms, "PodMonitor", "otelred-example")
	for _, d := range deployments(t, ms) {
		t.Run(d.Name, func(t *testing.T) {
			c := container(t, d)
			pod := d.Name + podSuffix
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			var receiver *otlptest.Receiver
			if e, _ := env(c, "OTEL_EXPORTER_OTLP_ENDPOINT"); e.Value != "" {
				p, _ := env(c, "OTEL_EXPORTER_OTLP_PROTOCOL")
				receiver = otlptest.Start(t, p.Value)
			}
			p := start(ctx, t, bin, c, pod, receiver)
			for _, probe := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
				url := p.url(t, probe.HTTPGet.Port.StrVal) + probe.HTTPGet.Path
				if code, _ := get(t, url); code != http.StatusOK {
					t.Errorf("probe GET %s: %d, want 200", url, code)
				}
			}
			for range requests {
				if code, _ := get(t, p.url(t, "http")+"/hello/k8s"); code != http.StatusOK {
					t.Fatalf("GET /hello/k8s: %d", code)
				}
			}

			if selects(t, &pm.Spec.Selector, d.Spec.Template.Labels) {
				ep := pm.Spec.PodMetricsEndpoints[0]
				url := p.url(t, *ep.Port) + ep.Path
				code, body := get(t, url)
				if code != http.StatusOK {
					t.Fatalf("scrape GET %s: %d", url, code)
				}
				if got := helloCount(body); got != requests {
					t.Errorf("the scrape counts %v requests to /hello/{name}, want %d (the probes are not requests):\n%.2000s", got, requests, body)
				}
				for _, want := range []string{`service_instance_id="` + pod + `"`, `k8s_pod_name="` + pod + `"`, `k8s_namespace_name="` + testNamespace + `"`} {
					if !strings.Contains(targetInfo(body), want) {
						t.Errorf("target_info has no %s: %s", want, targetInfo(body))
					}
				}
			} else if receiver == nil {
				t.Fatal("the Deployment is neither scraped by the PodMonitor nor pushing OTLP")
			}

			p.checkMemory(t, c)
			p.stop(t) // SIGTERM, as the kubelet sends it: the last push is flushed

			if receiver != nil {
				res := receiver.Resource()
				svc, _ := env(c, "OTEL_SERVICE_NAME")
				for k, want := range map[string]string{
					"service.instance.id": pod,
					"service.name":        svc.Value,
					"k8s.pod.name":        pod,
					"k8s.namespace.name":  testNamespace,
				} {
					if res[k] != want {
						t.Errorf("pushed resource %s = %q, want %q (resource %v)", k, res[k], want, res)
					}
				}
				if got := pushedHelloCount(receiver); got != requests {
					t.Errorf("the last push counts %d requests to /hello/{name}, want %d", got, requests)
				}
			}
		})
	}
}

// buildExample builds ./example as example/Dockerfile builds it: the same
// go build line, with its environment and flags.
func buildExample(t *testing.T) string {
	t.Helper()
	env, args := dockerfile(t).build()
	bin := filepath.Join(t.TempDir(), "example")
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			args[i+1] = bin
		}
	}
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %q: %v\n%s", args, err, out)
	}
	return bin
}

// dockerfileLines are the instructions of example/Dockerfile, comments
// left out.
type dockerfileLines []string

func dockerfile(t *testing.T) dockerfileLines {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var lines dockerfileLines
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

// build returns the environment and the arguments after "go build" of its
// one RUN line that builds.
func (d dockerfileLines) build() (env, args []string) {
	for _, l := range d {
		f := strings.Fields(l)
		for i := 1; i+1 < len(f); i++ {
			if f[0] == "RUN" && f[i] == "go" && f[i+1] == "build" {
				return f[1:i], f[i+2:]
			}
		}
	}
	return nil, nil
}

// exec returns the JSON array of the instruction named, such as CMD.
func (d dockerfileLines) exec(t *testing.T, instruction string) []string {
	t.Helper()
	for _, l := range d {
		if rest, ok := strings.CutPrefix(l, instruction+" "); ok {
			var v []string
			if err := json.Unmarshal([]byte(rest), &v); err != nil {
				t.Fatalf("%s %s: want the exec form, a JSON array: %v", instruction, rest, err)
			}
			return v
		}
	}
	t.Fatalf("example/Dockerfile has no %s", instruction)
	return nil
}

// The image runs what the test runs: the binary go build writes, with the
// arguments the Deployments give it when run without them.
func TestDockerfileRunsTheExample(t *testing.T) {
	d := dockerfile(t)
	env, args := d.build()
	if !slices.Contains(env, "CGO_ENABLED=0") || !slices.Contains(args, "./example") {
		t.Fatalf("the build line: env %q, args %q; want a static build of ./example", env, args)
	}
	o := slices.Index(args, "-o")
	if o < 0 || o+1 == len(args) {
		t.Fatalf("the build line %q has no -o", args)
	}
	out := args[o+1]
	entry := d.exec(t, "ENTRYPOINT")
	if !slices.Contains(d, "COPY --from=build "+out+" "+entry[0]) {
		t.Errorf("the image does not copy %s, which go build writes, to the ENTRYPOINT %s", out, entry[0])
	}
	if !slices.Contains(d, "USER 65532:65532") {
		t.Error("the image does not run as the non-root user 65532 the Deployments ask for")
	}
	cmd := d.exec(t, "CMD")
	for _, dep := range deployments(t, loadManifests(t)) {
		if c := container(t, dep); !slices.Equal(c.Args, cmd) {
			t.Errorf("Deployment %s runs %q, the image's CMD is %q", dep.Name, c.Args, cmd)
		}
	}
}

// process is the example, running as a container would.
type process struct {
	cmd    *exec.Cmd
	addrs  map[string]string // container port name: where it listens
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) add(s string) { l.mu.Lock(); l.b.WriteString(s); l.mu.Unlock() }

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// bannerRE is the example's line saying where it listens.
var bannerRE = regexp.MustCompile(`^otelred example: listening on http://(\S+)`)

// start runs bin with c's arguments and environment, each listening address
// of a container port moved to 127.0.0.1 and a port the OS picks, and the
// OTLP endpoint moved to receiver's, and returns when it serves.
func start(ctx context.Context, t *testing.T, bin string, c corev1.Container, pod string, receiver *otlptest.Receiver) *process {
	t.Helper()
	if len(c.Command) > 0 {
		t.Fatalf("the container overrides the image's command %q", c.Command)
	}
	args := append([]string(nil), c.Args...)
	names := map[int]string{} // argument index: container port name
	for _, cp := range c.Ports {
		found := 0
		for i, a := range args {
			if a == ":"+strconv.Itoa(int(cp.ContainerPort)) || a == "0.0.0.0:"+strconv.Itoa(int(cp.ContainerPort)) {
				args[i] = "127.0.0.1:0"
				names[i] = cp.Name
				found++
			}
		}
		if found != 1 {
			t.Fatalf("container port %s (%d) is in the arguments %q %d times, want once: the test does not know where it listens", cp.Name, cp.ContainerPort, c.Args, found)
		}
	}
	if len(names) != 1 {
		t.Fatalf("the container listens on %d ports; the test reads the example's one banner", len(names))
	}

	environ := expandEnv(t, c.Env, map[string]string{"metadata.name": pod, "metadata.namespace": testNamespace})
	if receiver != nil {
		for i, e := range environ {
			if strings.HasPrefix(e, "OTEL_EXPORTER_OTLP_ENDPOINT=") {
				environ[i] = "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + receiver.Addr()
			}
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = environ
	cmd.Stdout = io.Discard
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, addrs: map[string]string{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	listening := make(chan string, 1)
	var read sync.WaitGroup
	read.Go(func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.stderr.add(sc.Text() + "\n")
			if m := bannerRE.FindStringSubmatch(sc.Text()); m != nil {
				listening <- m[1]
			}
		}
	})
	go func() {
		read.Wait() // Wait closes the pipe: read it all first
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case addr := <-listening:
		for _, name := range names {
			p.addrs[name] = addr
		}
	case err := <-p.done:
		p.done <- err
		t.Fatalf("the example exited before serving: %v\n%s", err, p.stderr)
	case <-ctx.Done():
		t.Fatalf("the example did not serve: %v\n%s", ctx.Err(), p.stderr)
	}
	return p
}

// expandEnv returns vars as the kubelet sets them: in order, each
// $(NAME) of a variable declared before it replaced by its value ($$ is a
// literal $), and each fieldRef read from fields.
func expandEnv(t *testing.T, vars []corev1.EnvVar, fields map[string]string) []string {
	t.Helper()
	defined := map[string]string{}
	var out []string
	for _, e := range vars {
		v := e.Value
		switch {
		case e.ValueFrom == nil:
			v = expand(v, defined)
		case e.ValueFrom.FieldRef != nil:
			var ok bool
			if v, ok = fields[e.ValueFrom.FieldRef.FieldPath]; !ok {
				t.Fatalf("%s reads %s, which the test does not fill in", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
		default:
			t.Fatalf("%s comes from %+v, which the test does not fill in", e.Name, e.ValueFrom)
		}
		defined[e.Name] = v
		out = append(out, e.Name+"="+v)
	}
	return out
}

// expand expands $(NAME) references as Kubernetes does for env values.
func expand(s string, defined map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i:], ')'); end > 0 {
				if v, ok := defined[s[i+2:i+end]]; ok {
					b.WriteString(v)
					i += end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestExpandFollowsKubernetes(t *testing.T) {
	defined := map[string]string{"POD_NAME": "web-1", "NS": "shop"}
	for in, want := range map[string]string{
		"service.instance.id=$(POD_NAME)": "service.instance.id=web-1",
		"$(POD_NAME).$(NS)":               "web-1.shop",
		"$(UNDECLARED)":                   "$(UNDECLARED)",
		"$$(POD_NAME)":                    "$(POD_NAME)",
		"cost $5":                         "cost $5",
		"$(POD_NAME":                      "$(POD_NAME",
		"trailing $":                      "trailing $",
	} {
		if got := expand(in, defined); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

// url returns the base URL of the container port named name.
func (p *process) url(t *testing.T, name string) string {
	t.Helper()
	addr, ok := p.addrs[name]
	if !ok {
		t.Fatalf("no container port %q (ports %v)", name, p.addrs)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// stop sends SIGTERM and waits for a clean exit, within the Deployment's
// grace period.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM\n%s", p.stderr)
	}
}

// checkMemory compares the process's peak resident memory with the
// container's memory limit, where /proc tells it.
func (p *process) checkMemory(t *testing.T, c corev1.Container) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Logf("no peak memory figure: %v", err)
		return
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(status)
	if m == nil {
		t.Logf("no VmHWM in /proc/%d/status", p.cmd.Process.Pid)
		return
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	limit := c.Resources.Limits.Memory().Value()
	t.Logf("peak resident memory %d KiB; the container's limit is %d KiB", kb, limit>>10)
	if kb<<10 > limit/2 {
		t.Errorf("peak resident memory %d KiB, more than half the container's limit of %d KiB, at idle", kb, limit>>10)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

var countRE = regexp.MustCompile(`(?m)^http_server_request_duration_seconds_count\{(.*)\} (\S+)$`)

// helloCount sums the scraped request counts of the route /hello/{name}.
func helloCount(exposition string) float64 {
	var n float64
	for _, m := range countRE.FindAllStringSubmatch(exposition, -1) {
		if strings.Contains(m[1], `http_route="/hello/{name}"`) {
			v, _ := strconv.ParseFloat(m[2], 64)
			n += v
		}
	}
	return n
}

// targetInfo returns the target_info series of a scrape.
func targetInfo(exposition string) string {
	return regexp.MustCompile(`(?m)^target_info\{.*$`).FindString(exposition)
}

// pushedHelloCount sums the request counts of the route /hello/{name} in
// the last push (cumulative, so the totals).
func pushedHelloCount(r *otlptest.Receiver) uint64 {
	reqs := r.Requests()
	if len(reqs) == 0 {
		return 0
	}
	var n uint64
	for _, rm := range reqs[len(reqs)-1].GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != "http.server.request.duration" {
					continue
				}
				for _, dp := range m.GetHistogram().GetDataPoints() {
					if otlptest.Attributes(dp.GetAttributes())["http.route"] == "/hello/{name}" {
						n += dp.GetCount()
					}
				}
			}
		}
	}
	return n
}
