package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		args: []string{"-config", "../slo.yaml"},
		files: map[string]string{
			"-rules":     "../prometheus/rules.yml",
			"-tests":     "../prometheus/rules_test.yml",
			"-dashboard": "../grafana/red-dashboard.json",
		},
	},
	{
		args: []string{"-config", "../slo.yaml", "-naming", "classic", "-rules", "", "-tests", ""},
		files: map[string]string{
			"-dashboard": "../grafana/testdata/red-dashboard-classic.json",
		},
	},
	{
		args: []string{"-config", "../slo.yaml", "-native"},
		files: map[string]string{
			"-rules":     "../prometheus/rules-native.yml",
			"-tests":     "../prometheus/rules-native_test.yml",
			"-dashboard": "../grafana/testdata/red-dashboard-native.json",
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
			args = append(args, flag, filepath.Join(dir, strings.TrimPrefix(path, "../")))
		}
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err != nil {
			t.Fatalf("redgen %q: %v\n%s", args, err, errOut.String())
		}
		if errOut.Len() > 0 {
			t.Errorf("redgen %q warned:\n%s", args, errOut.String())
		}
		for _, path := range c.files {
			want, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(path, "../")))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go generate ./example/redgen)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is out of date: run go generate ./example/redgen (or go run ./example/redgen from the repository root)", path)
			}
		}
	}
}

func TestRunPrintsTheBoundaries(t *testing.T) {
	var out bytes.Buffer
	args := []string{"-config", "../slo.yaml", "-rules", "", "-tests", "", "-dashboard", ""}
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
			[]string{"-config", "../slo.yaml", "-buckets", "0.1,0.25,0.5,1"}, views.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5)"},
		{"bad -buckets are rejected",
			[]string{"-config", "../slo.yaml", "-buckets", "0.5,0.3"}, views.ErrInvalidBoundaries, "boundaries[1] = 0.3"},
		{"an unknown field in the objectives is rejected",
			[]string{"-config", file("typo.yaml", "availabilty: 0.999\n")}, nil, "field availabilty not found"},
		{"an invalid objective names its field",
			[]string{"-config", file("bad.json", `{"routes": [{"route": "/a", "availability": 1.5}]}`)}, views.ErrInvalidObjective,
			"routes[0].availability = 1.5 is not in (0, 1)"},
		{"tests need rules", []string{"-config", "../slo.yaml", "-rules", "", "-dashboard", "", "-tests", filepath.Join(dir, "t.yml")}, nil, "-tests needs -rules"},
		{"an unknown profile", []string{"-config", "../slo.yaml", "-naming", "modern"}, nil, `profile "modern"`},
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
