package testsupport

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Prometheus3Dir is the environment variable that names the directory
// holding Prometheus 3's prometheus and promtool binaries, which .ci/run
// builds from the Go module proxy and exports. Unset, the tests look where
// .ci/run builds them: [DefaultPrometheus3Dir].
const Prometheus3Dir = "OTELRED_PROMETHEUS3_DIR"

// Prometheus3Module is the version of the github.com/prometheus/prometheus
// module the Prometheus 3 binaries are built from: v0.316.0 is Prometheus
// 3.16.
const Prometheus3Module = "v0.316.0"

// DefaultPrometheus3Dir returns the directory .ci/run builds Prometheus 3
// into: prometheus-v0.316.0 in otelred's directory of the user's cache
// (${XDG_CACHE_HOME:-$HOME/.cache}/otelred on Linux). It returns "" when the
// system has no cache directory.
func DefaultPrometheus3Dir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "otelred", "prometheus-"+Prometheus3Module)
}

// Prometheus is one major version of Prometheus that the tests run
// against, with its promtool.
type Prometheus struct {
	// Name names the version's subtests: "prometheus2" or "prometheus3".
	Name string
	// Major is the major version, 2 or 3.
	Major int

	dir  string // where the binaries are; "" is the PATH
	hint string // how to install them
}

// Prometheus2 is Debian's Prometheus 2.42, prometheus and promtool on the
// PATH.
func Prometheus2() Prometheus {
	return Prometheus{Name: "prometheus2", Major: 2, hint: "apt-get install -y prometheus"}
}

// Prometheus3 is Prometheus 3.16, from [Prometheus3Dir] or, when that is
// not set, [DefaultPrometheus3Dir].
func Prometheus3() Prometheus {
	dir := os.Getenv(Prometheus3Dir)
	if dir == "" {
		dir = DefaultPrometheus3Dir()
	}
	return Prometheus{Name: "prometheus3", Major: 3, dir: dir,
		hint: fmt.Sprintf("run .ci/run once, or GOBIN=DIR go install github.com/prometheus/prometheus/cmd/{prometheus,promtool}@%s from outside any module and set %s=DIR", Prometheus3Module, Prometheus3Dir)}
}

// Prometheuses returns the versions every end-to-end test runs against:
// [Prometheus2] and [Prometheus3].
func Prometheuses() []Prometheus { return []Prometheus{Prometheus2(), Prometheus3()} }

// Tool returns the path of the binary name ("prometheus" or "promtool") of
// version p. When it is missing, or is not of p's major version, the test is
// skipped with a message saying how to install it, or fails when
// [RequirePrometheus] is "1", as CI sets it.
func (p Prometheus) Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := p.find(name)
	if err == nil {
		return path
	}
	if os.Getenv(RequirePrometheus) == "1" {
		t.Fatalf("%v, and %s=1 requires it: %s", err, RequirePrometheus, p.hint)
	}
	t.Skipf("%v: %s, or set %s=1 to make this a failure", err, p.hint, RequirePrometheus)
	return ""
}

// find locates name and checks its major version, once per path.
func (p Prometheus) find(name string) (string, error) {
	var path string
	var err error
	if p.dir == "" {
		path, err = exec.LookPath(name)
	} else {
		path = filepath.Join(p.dir, name)
		var fi os.FileInfo
		if fi, err = os.Stat(path); err == nil && (fi.IsDir() || fi.Mode()&0o111 == 0) {
			err = fmt.Errorf("not an executable file")
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s of %s not found (%v)", name, p.Name, err)
	}
	v, _ := versions.LoadOrStore(path, sync.OnceValues(func() (string, error) { return version(path) }))
	got, err := v.(func() (string, error))()
	if err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	if !p.accepts(got) {
		return "", fmt.Errorf("%s is version %q, not %d.x", path, got, p.Major)
	}
	return path, nil
}

// accepts reports whether version (what --version prints, "" when the
// binary was built with go install, which stamps no version) is p's
// major version. A go install build is accepted only from p's directory.
func (p Prometheus) accepts(version string) bool {
	if version == "" {
		return p.dir != ""
	}
	return strings.HasPrefix(version, fmt.Sprintf("%d.", p.Major))
}

// versions caches the version of each binary, by path.
var versions sync.Map

var versionRE = regexp.MustCompile(`^\w+, version (\S*)`)

// version runs path --version and returns the version it prints.
func version(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("--version: %v\n%s", err, out)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("--version printed no version: %q", out)
	}
	return string(m[1]), nil
}
