package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/redgen"
	"github.com/otelred/otelred/views"
)

// committed lists the generated files kept in the repository, by the
// arguments that generate them from example/redgen (the go:generate lines
// of main.go).
var committed = []struct {
	args  []string
	files map[string]string // flag: path relative to example/redgen
}{
	{
		args: []string{"-config", "../../example/slo.yaml"},
		files: map[string]string{
			"-rules":     "../../example/prometheus/rules.yml",
			"-tests":     "../../example/prometheus/rules_test.yml",
			"-dashboard": "../../example/grafana/red-dashboard.json",
		},
	},
	{
		args: []string{"-config", "../../example/slo.yaml", "-naming", "classic", "-rules", "", "-tests", ""},
		files: map[string]string{
			"-dashboard": "../../example/grafana/testdata/red-dashboard-classic.json",
		},
	},
	{
		args: []string{"-config", "../../example/slo.yaml", "-native"},
		files: map[string]string{
			"-rules":     "../../example/prometheus/rules-native.yml",
			"-tests":     "../../example/prometheus/rules-native_test.yml",
			"-dashboard": "../../example/grafana/testdata/red-dashboard-native.json",
		},
	},
	{
		args: []string{"-config", "../../example/slo.yaml", "-rules", "", "-tests", "", "-dashboard", ""},
		files: map[string]string{
			"-prometheusrule":      "../../example/kubernetes/prometheusrule.yaml",
			"-dashboard-configmap": "../../example/kubernetes/dashboard-configmap.yaml",
		},
	},
}

// The committed rules, tests and dashboards must be exactly what redgen
// writes from example/slo.yaml today.
func TestCommittedFilesAreUpToDate(t *testing.T) {
	for _, c := range committed {
		dir := t.TempDir()
		args := append([]string(nil), c.args...)
		for flag, path := range c.files {
			// Keep the layout, so that the tests file names the rules
			// file by the same relative path.
			args = append(args, flag, filepath.Join(dir, strings.TrimPrefix(path, "../../")))
		}
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err != nil {
			t.Fatalf("redgen %q: %v\n%s", args, err, errOut.String())
		}
		if errOut.Len() > 0 {
			t.Errorf("redgen %q warned:\n%s", args, errOut.String())
		}
		for _, path := range c.files {
			want, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(path, "../../")))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go generate ./cmd/redgen)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is out of date: run go generate ./cmd/redgen (or go run ./cmd/redgen from the repository root)", path)
			}
		}
	}
}

func TestRunPrintsTheBoundaries(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-config", "../../example/slo.yaml", "-rules", "", "-tests", "", "-dashboard", ""}
	if err := run(args, &out, &out); err != nil {
		t.Fatal(err)
	}
	want := "bucket boundaries: 0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.3 0.5 0.75 1 2.5 5 7.5 10\n"
	if out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noOut := []string{"-rules", "", "-tests", "", "-dashboard", ""}
	tests := []struct {
		name    string
		args    []string
		wantErr error
		inErr   string
	}{
		{"a threshold missing from -buckets is rejected",
			[]string{"-config", "../../example/slo.yaml", "-buckets", "0.1,0.25,0.5,1"}, exporter.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5)"},
		{"bad -buckets are rejected",
			[]string{"-config", "../../example/slo.yaml", "-buckets", "0.5,0.3"}, views.ErrInvalidBoundaries, "boundaries[1] = 0.3"},
		{"an unknown field in the objectives is rejected",
			[]string{"-config", file("typo.yaml", "availabilty: 0.999\n")}, nil, "field availabilty not found"},
		{"an invalid objective names its field",
			[]string{"-config", file("bad.json", `{"routes": [{"route": "/a", "availability": 1.5}]}`)}, exporter.ErrInvalidObjective,
			"routes[0].availability = 1.5 is not in (0, 1)"},
		{"tests need rules", []string{"-config", "../../example/slo.yaml", "-rules", "", "-dashboard", "", "-tests", filepath.Join(dir, "t.yml")}, nil, "-tests needs -rules"},
		{"an unknown profile", []string{"-config", "../../example/slo.yaml", "-naming", "modern"}, nil, `profile "modern"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.name != "tests need rules" {
				args = append(append([]string(nil), args...), noOut...)
			}
			var out bytes.Buffer
			err := run(args, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.inErr) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", args, err, tt.inErr)
			}
		})
	}
}

// Manifests written to "-" go to stdout, one YAML document after another,
// and nothing else does: what redgen says goes to stderr, so that the
// output can be piped into kubectl apply -f -.
func TestRunWritesManifestsToStdout(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-config", "../../example/slo.yaml", "-rules", "", "-tests", "", "-dashboard", "",
		"-prometheusrule", "-", "-dashboard-configmap", "-", "-kube-namespace", "shop",
		"-rule-labels", "release=monitoring,team=payments", "-dashboard-labels", "dashboards=otelred",
		"-dashboard-folder", "SLOs", "-folder-annotation", "grafana_folder"}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	c := redgen.Config{Objectives: exampleObjectives(t)}
	rule, err := redgen.PrometheusRule(c, redgen.Object{Name: "otelred-rules", Namespace: "shop",
		Labels: map[string]string{"release": "monitoring", "team": "payments"}})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := redgen.DashboardConfigMap(c, "", redgen.Object{Name: "otelred-dashboard", Namespace: "shop",
		Labels: map[string]string{"dashboards": "otelred"}, Annotations: map[string]string{"grafana_folder": "SLOs"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := string(rule) + "---\n" + string(cm); out.String() != want {
		t.Errorf("stdout is not the PrometheusRule, a --- line and the ConfigMap:\n%.600s", out.String())
	}
	if want := "bucket boundaries: 0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.3 0.5 0.75 1 2.5 5 7.5 10\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
}

// Files written as well as stdout are reported on stderr; a single file
// may go to stdout too.
func TestRunWritesOneFileToStdout(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	pr := filepath.Join(dir, "pr.yaml")
	args := []string{"-config", "../../example/slo.yaml", "-rules", "-", "-tests", "", "-dashboard", "", "-prometheusrule", pr}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../example/prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("stdout is not the rules file:\n%.300s", out.String())
	}
	if !strings.HasSuffix(errOut.String(), "wrote "+pr+"\n") {
		t.Errorf("stderr %q does not report %s", errOut.String(), pr)
	}
}

func TestRunManifestErrors(t *testing.T) {
	dir := t.TempDir()
	none := []string{"-config", "../../example/slo.yaml", "-rules", "", "-tests", "", "-dashboard", ""}
	for _, tt := range []struct {
		name  string
		args  []string
		inErr string
	}{
		{"two files on stdout", []string{"-config", "../../example/slo.yaml", "-tests", "", "-rules", "-", "-dashboard", "-"},
			"-rules, -dashboard all write to stdout"},
		{"a file and a manifest on stdout", append(none[:len(none):len(none)], "-dashboard", "-", "-prometheusrule", "-"),
			"-dashboard, -prometheusrule all write to stdout"},
		{"tests of rules on stdout", []string{"-config", "../../example/slo.yaml", "-dashboard", "", "-rules", "-", "-tests", filepath.Join(dir, "t.yml")},
			"-tests and -rules must be files"},
		{"a label without a value", append(none[:len(none):len(none)], "-prometheusrule", "-", "-rule-labels", "release"),
			`-rule-labels: entry 1, "release", is not key=value`},
		{"a bad label value", append(none[:len(none):len(none)], "-dashboard-configmap", "-", "-dashboard-labels", "grafana_dashboard=a b"),
			`-dashboard-configmap: invalid config: ConfigMap: Labels["grafana_dashboard"] = "a b" is not a label value`},
		{"a bad name", append(none[:len(none):len(none)], "-prometheusrule", "-", "-rule-name", "Rules"),
			`-prometheusrule: invalid config: PrometheusRule: Name = "Rules"`},
		{"a bad namespace", append(none[:len(none):len(none)], "-prometheusrule", "-", "-kube-namespace", "a_b"),
			`Namespace = "a_b"`},
		{"a bad folder annotation", append(none[:len(none):len(none)], "-dashboard-configmap", "-", "-dashboard-folder", "x", "-folder-annotation", "a b"),
			`Annotations: "a b" is not an annotation key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.inErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.inErr)
			}
		})
	}
}

func exampleObjectives(t *testing.T) exporter.Objectives {
	t.Helper()
	o, err := readObjectives("../../example/slo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return o
}
