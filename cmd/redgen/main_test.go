package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/redgen"
	"github.com/otelred/otelred/views"
)

// exampleDir is the example service's directory, from this one.
var exampleDir = filepath.Join("..", "..", "example")

// exampleSLO is the example's objectives file.
var exampleSLO = filepath.Join(exampleDir, "slo.yaml")

// boundariesLine is what redgen says of example/slo.yaml's buckets.
const boundariesLine = "bucket boundaries: 0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.3 0.5 0.75 1 2.5 5 7.5 10\n"

// outputFlags are the flags that name an output.
var outputFlags = []string{"-rules", "-tests", "-dashboard", "-prometheusrule", "-dashboard-configmap"}

// generateLines returns the arguments of the go:generate lines of
// example/generate.go, which run redgen from example/.
func generateLines(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join(exampleDir, "generate.go"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const prefix = "//go:generate go run ../cmd/redgen "
	var lines [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			if strings.HasPrefix(sc.Text(), "//go:generate") {
				t.Fatalf("example/generate.go: %q does not start with %q", sc.Text(), prefix)
			}
			continue
		}
		if strings.ContainsAny(line, `"'$`) {
			t.Fatalf("example/generate.go: %q quotes or expands; write plain arguments", line)
		}
		lines = append(lines, strings.Fields(line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("example/generate.go has %d redgen lines, want 4", len(lines))
	}
	return lines
}

// The committed rules, tests, dashboards and manifests must be exactly
// what the go:generate lines of example/generate.go write from
// example/slo.yaml today, and those lines must write nothing else.
func TestCommittedFilesAreUpToDate(t *testing.T) {
	seen := map[string]bool{}
	for _, line := range generateLines(t) {
		dir := t.TempDir()
		var args, outputs []string
		for i := 0; i < len(line); i++ {
			switch a := line[i]; {
			case a == "-config" && i+1 < len(line):
				i++
				args = append(args, a, filepath.Join(exampleDir, line[i]))
			case slices.Contains(outputFlags, a) && i+1 < len(line):
				i++
				// Keep the layout, so that the tests file names the rules
				// file by the same relative path.
				outputs = append(outputs, line[i])
				args = append(args, a, filepath.Join(dir, line[i]))
			default:
				args = append(args, a)
			}
		}
		var out, errOut bytes.Buffer
		if err := run(args, nil, &out, &errOut); err != nil {
			t.Fatalf("redgen %q: %v\n%s", line, err, errOut.String())
		}
		if errOut.Len() > 0 {
			t.Errorf("redgen %q warned:\n%s", line, errOut.String())
		}
		written := dirFiles(t, dir)
		slices.Sort(outputs)
		if !slices.Equal(written, outputs) {
			t.Errorf("redgen %q wrote %q, want exactly %q", line, written, outputs)
		}
		for _, path := range outputs {
			if seen[path] {
				t.Errorf("%s is written by two go:generate lines", path)
			}
			seen[path] = true
			want, err := os.ReadFile(filepath.Join(dir, path))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(exampleDir, path))
			if err != nil {
				t.Fatalf("%v (run go generate ./example)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("example/%s is out of date: run go generate ./example", path)
			}
		}
	}
	if len(seen) != 9 {
		t.Errorf("the go:generate lines write %d files, want the example's 9", len(seen))
	}
}

// With -config alone, redgen writes nothing and prints the boundaries.
func TestRunPrintsTheBoundaries(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-config", exampleSLO}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != boundariesLine {
		t.Fatalf("output %q, want %q", out.String(), boundariesLine)
	}
}

// "-config -" reads the objectives from stdin.
func TestRunReadsTheObjectivesFromStdin(t *testing.T) {
	slo, err := os.ReadFile(exampleSLO)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"-config", "-", "-dashboard", "-"}, bytes.NewReader(slo), &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	want, err := redgen.Dashboard(redgen.Config{Objectives: exampleObjectives(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("stdout is not the dashboard:\n%.300s", out.String())
	}
	if errOut.String() != boundariesLine {
		t.Errorf("stderr %q, want %q", errOut.String(), boundariesLine)
	}

	err = run([]string{"-config", "-"}, strings.NewReader("availability: 2\n"), &out, &errOut)
	if !errors.Is(err, exporter.ErrInvalidObjective) || !strings.Contains(err.Error(), "-config - (stdin): exporter: invalid objective: availability = 2") {
		t.Errorf("bad objectives on stdin: %v, want an error naming stdin and the field", err)
	}
}

// Without -config, redgen prints its usage and says that -config is
// required, with exit status 2; a bad flag does the same, once.
func TestRunWithoutConfig(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		inErr   string
		printed bool // the flag package printed the error
	}{
		{"no flags", nil, "-config is required", false},
		{"outputs but no -config", []string{"-rules", "-"}, "-config is required", false},
		{"an unknown flag", []string{"-confg", "slo.yaml"}, "flag provided but not defined: -confg", true},
		{"an argument", []string{"-config", exampleSLO, "rules.yml"}, `unexpected arguments ["rules.yml"]`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tt.args, nil, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.inErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.inErr)
			}
			if out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
			if !strings.HasPrefix(errOut.String(), "Usage: redgen -config FILE") && !tt.printed {
				t.Errorf("stderr does not start with the usage:\n%s", errOut.String())
			}
			if !strings.Contains(errOut.String(), "  -config string\n") {
				t.Errorf("the usage does not list -config:\n%s", errOut.String())
			}
			var report bytes.Buffer
			if code := exit(err, &report); code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			reported := errOut.String() + report.String()
			if n := strings.Count(reported, tt.inErr); n != 1 {
				t.Errorf("%q is reported %d times, want once:\n%s", tt.inErr, n, reported)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	var report bytes.Buffer
	for _, tt := range []struct {
		err  error
		code int
	}{
		{nil, 0},
		{errors.New("no such file"), 1},
		{&usageError{err: errors.New("-config is required")}, 2},
	} {
		if code := exit(tt.err, &report); code != tt.code {
			t.Errorf("exit(%v) = %d, want %d", tt.err, code, tt.code)
		}
	}
	if want := "redgen: no such file\nredgen: -config is required\n"; report.String() != want {
		t.Errorf("reported %q, want %q", report.String(), want)
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
	tests := []struct {
		name    string
		args    []string
		wantErr error
		inErr   string
	}{
		{"a threshold missing from -buckets is rejected",
			[]string{"-config", exampleSLO, "-buckets", "0.1,0.25,0.5,1"}, exporter.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5)"},
		{"bad -buckets are rejected",
			[]string{"-config", exampleSLO, "-buckets", "0.5,0.3"}, views.ErrInvalidBoundaries, "boundaries[1] = 0.3"},
		{"-buckets with -native", []string{"-config", exampleSLO, "-native", "-buckets", "0.3"}, nil, "-buckets does not apply to -native"},
		{"an unknown field in the objectives is rejected",
			[]string{"-config", file("typo.yaml", "availabilty: 0.999\n")}, nil, "field availabilty not found"},
		{"an invalid objective names its field",
			[]string{"-config", file("bad.json", `{"routes": [{"route": "/a", "availability": 1.5}]}`)}, exporter.ErrInvalidObjective,
			"routes[0].availability = 1.5 is not in (0, 1)"},
		{"a missing objectives file", []string{"-config", filepath.Join(dir, "none.yaml")}, os.ErrNotExist, "none.yaml"},
		{"tests need rules", []string{"-config", exampleSLO, "-tests", filepath.Join(dir, "t.yml")}, nil, "-tests needs -rules"},
		{"an unknown profile", []string{"-config", exampleSLO, "-naming", "modern"}, nil, `-naming: `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(tt.args, nil, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.inErr) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.inErr)
			}
		})
	}
}

// Manifests written to "-" go to stdout, one YAML document after another,
// and nothing else does: what redgen says goes to stderr, so that the
// output can be piped into kubectl apply -f -.
func TestRunWritesManifestsToStdout(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-config", exampleSLO,
		"-prometheusrule", "-", "-dashboard-configmap", "-", "-kube-namespace", "shop",
		"-rule-labels", "release=monitoring,team=payments", "-dashboard-labels", "dashboards=otelred",
		"-dashboard-folder", "SLOs", "-folder-annotation", "grafana_folder"}
	if err := run(args, nil, &out, &errOut); err != nil {
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
	if errOut.String() != boundariesLine {
		t.Errorf("stderr %q, want %q", errOut.String(), boundariesLine)
	}
}

// Files written as well as stdout are reported on stderr; a single file
// may go to stdout too.
func TestRunWritesOneFileToStdout(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	pr := filepath.Join(dir, "pr.yaml")
	args := []string{"-config", exampleSLO, "-rules", "-", "-prometheusrule", pr}
	if err := run(args, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(exampleDir, "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("stdout is not the rules file:\n%.300s", out.String())
	}
	if want := boundariesLine + "wrote " + pr + "\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
}

func TestRunManifestErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name  string
		args  []string
		inErr string
	}{
		{"two files on stdout", []string{"-rules", "-", "-dashboard", "-"},
			"-rules, -dashboard all write to stdout"},
		{"a file and a manifest on stdout", []string{"-dashboard", "-", "-prometheusrule", "-"},
			"-dashboard, -prometheusrule all write to stdout"},
		{"tests of rules on stdout", []string{"-rules", "-", "-tests", filepath.Join(dir, "t.yml")},
			"-tests and -rules must be files"},
		{"a label without a value", []string{"-prometheusrule", "-", "-rule-labels", "release"},
			`-rule-labels: entry 1, "release", is not key=value`},
		{"a bad label value", []string{"-dashboard-configmap", "-", "-dashboard-labels", "grafana_dashboard=a b"},
			`-dashboard-configmap: invalid config: ConfigMap: Labels["grafana_dashboard"] = "a b" is not a label value`},
		{"a bad name", []string{"-prometheusrule", "-", "-rule-name", "Rules"},
			`-prometheusrule: invalid config: PrometheusRule: Name = "Rules"`},
		{"a bad namespace", []string{"-prometheusrule", "-", "-kube-namespace", "a_b"},
			`Namespace = "a_b"`},
		{"a bad folder annotation", []string{"-dashboard-configmap", "-", "-dashboard-folder", "x", "-folder-annotation", "a b"},
			`Annotations: "a b" is not an annotation key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"-config", exampleSLO}, tt.args...)
			err := run(args, nil, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.inErr) {
				t.Fatalf("run(%q) = %v, want an error containing %q", args, err, tt.inErr)
			}
		})
	}
}

// An output that cannot be generated leaves every file as it was, those
// before it included.
func TestRunWritesNothingAfterAnError(t *testing.T) {
	dir := t.TempDir()
	rules, pr := filepath.Join(dir, "rules.yml"), filepath.Join(dir, "pr.yaml")
	var out bytes.Buffer
	err := run([]string{"-config", exampleSLO, "-rules", rules, "-prometheusrule", pr, "-rule-name", "Rules"}, nil, &out, &out)
	if err == nil || !strings.Contains(err.Error(), `Name = "Rules"`) {
		t.Fatalf("run = %v, want the PrometheusRule's bad name", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%s holds %v after the error, want nothing", dir, entries)
	}
	if strings.Contains(out.String(), "wrote") {
		t.Errorf("redgen says %q after the error", out.String())
	}
}

func exampleObjectives(t *testing.T) exporter.Objectives {
	t.Helper()
	o, err := readObjectives(exampleSLO, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
