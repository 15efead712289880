package kubernetes_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/otelred/otelred/internal/testsupport"
)

// ruleFile is a Prometheus rules file, in the Operator's types: what the
// Operator writes for Prometheus from a PrometheusRule's spec.
type ruleFile struct {
	Groups []monitoringv1.RuleGroup `json:"groups"`
}

// committedRules decodes example/prometheus/rules.yml strictly into the
// Operator's types, so that a field the Operator does not know fails here.
func committedRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := sigsyaml.YAMLToJSONStrict(raw)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	strict, err := sigsjson.UnmarshalStrict(j, &f)
	if err != nil || len(strict) > 0 {
		t.Fatalf("rules.yml in the Operator's types: %v %v", err, strict)
	}
	return f
}

func prometheusRule(t *testing.T) *monitoringv1.PrometheusRule {
	t.Helper()
	return find[*monitoringv1.PrometheusRule](t, loadManifests(t), "PrometheusRule", "otelred-rules")
}

// The PrometheusRule holds the rules file's groups, rules, expressions,
// labels and annotations, and is labelled for kube-prometheus-stack's
// ruleSelector.
func TestPrometheusRuleHoldsTheRulesFile(t *testing.T) {
	pr := prometheusRule(t)
	want := committedRules(t)
	if len(want.Groups) < 2 {
		t.Fatalf("rules.yml has %d groups", len(want.Groups))
	}
	if !reflect.DeepEqual(pr.Spec.Groups, want.Groups) {
		t.Errorf("the PrometheusRule's %d groups are not the %d of example/prometheus/rules.yml: run go generate ./example", len(pr.Spec.Groups), len(want.Groups))
	}
	if want := map[string]string{"release": kubePrometheusStackRelease}; !reflect.DeepEqual(pr.Labels, want) {
		t.Errorf("labels %v, want %v (kube-prometheus-stack's ruleSelector)", pr.Labels, want)
	}
	if pr.Namespace != "" {
		t.Errorf("namespace %q: leave it to kubectl -n, with the other manifests", pr.Namespace)
	}
}

// promtools returns the promtool binaries to check with: Debian's 2.x on
// PATH (required when OTELRED_REQUIRE_PROMETHEUS=1, else the test skips
// without it) and Prometheus 3's in the user's cache, when it has been
// built there (docs/fleets.md).
func promtools(t *testing.T) []string {
	t.Helper()
	var tools []string
	if p, err := exec.LookPath("promtool"); err == nil {
		tools = append(tools, p)
	} else if os.Getenv(testsupport.RequirePrometheus) == "1" {
		t.Fatalf("promtool not found (%v), and %s=1 requires it: apt-get install -y prometheus", err, testsupport.RequirePrometheus)
	}
	if dir, err := os.UserCacheDir(); err == nil {
		if p := filepath.Join(dir, "prom3", "promtool"); isExecutable(p) {
			tools = append(tools, p)
		}
	}
	if len(tools) == 0 {
		t.Skipf("promtool not installed (apt-get install -y prometheus); set %s=1 to make this a failure", testsupport.RequirePrometheus)
	}
	return tools
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// The rules extracted from the PrometheusRule, as the Operator hands them
// to Prometheus, pass promtool's lint and the unit tests redgen writes for
// the rules file.
func TestPrometheusRulePassesPromtool(t *testing.T) {
	tools := promtools(t)
	pr := prometheusRule(t)
	dir := t.TempDir()
	rules, err := sigsyaml.Marshal(ruleFile{Groups: pr.Spec.Groups})
	if err != nil {
		t.Fatal(err)
	}
	// The unit tests load rules.yml from their own directory.
	tests, err := os.ReadFile(filepath.Join("..", "prometheus", "rules_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tests), "rule_files:\n  - rules.yml\n") {
		t.Fatal("rules_test.yml does not load rules.yml")
	}
	for name, data := range map[string][]byte{"rules.yml": rules, "rules_test.yml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	for _, g := range pr.Spec.Groups {
		n += len(g.Rules)
	}
	for _, tool := range tools {
		t.Run(version(t, tool), func(t *testing.T) {
			out, err := promtool(tool, dir, "check", "rules", "--lint-fatal", "rules.yml")
			if err != nil {
				t.Fatalf("promtool check rules: %v\n%s", err, out)
			}
			if want := fmt.Sprintf("SUCCESS: %d rules found", n); !strings.Contains(out, want) {
				t.Errorf("promtool check rules says\n%s\nwant %q", out, want)
			}
			if out, err := promtool(tool, dir, "test", "rules", "rules_test.yml"); err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, out)
			}
		})
	}
}

func promtool(tool, dir string, args ...string) (string, error) {
	cmd := exec.Command(tool, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// version names a promtool by its version, such as "promtool 2.42.0+ds",
// or by its path when it has none (a build from the module proxy).
func version(t *testing.T, tool string) string {
	t.Helper()
	out, err := exec.Command(tool, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", tool, err, out)
	}
	if f := strings.Fields(string(out)); len(f) >= 3 && f[1] == "version" && !strings.HasPrefix(f[2], "(") {
		return "promtool " + f[2]
	}
	return tool
}
