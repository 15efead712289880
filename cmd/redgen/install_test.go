package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otelred/otelred/internal/redgen"
)

// redgen installed as a user installs it (go install, into GOBIN) and run
// outside the repository, in an empty directory, with HOME and GOPATH
// elsewhere, writes what it is told to, where it is told to, and nothing
// else: without -config it says so, with its usage, and writes nothing.
func TestInstalledCommandWritesOnlyWhereTold(t *testing.T) {
	if testing.Short() {
		t.Skip("builds redgen with go install: not with -short")
	}
	gobin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/redgen")
	install.Dir = filepath.Join("..", "..")
	install.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("GOBIN=%s go install ./cmd/redgen: %v\n%s", gobin, err, out)
	}
	bin := filepath.Join(gobin, "redgen")

	slo, err := os.ReadFile(exampleSLO)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(config, slo, 0o644); err != nil {
		t.Fatal(err)
	}
	c := redgen.Config{Objectives: exampleObjectives(t)}
	rules, err := redgen.Rules(c)
	if err != nil {
		t.Fatal(err)
	}
	dashboard, err := redgen.Dashboard(c)
	if err != nil {
		t.Fatal(err)
	}

	// Without flags, redgen says what its test run says: the usage, then
	// the error.
	var usage bytes.Buffer
	if code := exit(run(nil, nil, io.Discard, &usage), &usage); code != 2 ||
		!strings.HasPrefix(usage.String(), "Usage: redgen -config FILE") || !strings.HasSuffix(usage.String(), "\nredgen: -config is required: name the objectives file (YAML or JSON), or \"-\" to read it from stdin\n") {
		t.Fatalf("without flags, exit status %d and:\n%s", code, usage.String())
	}

	work, home, gopath := t.TempDir(), t.TempDir(), t.TempDir()
	for _, tt := range []struct {
		name           string
		args           []string
		stdin          []byte
		code           int
		stdout, stderr string
		files          []string // what work holds afterwards
	}{
		{name: "no flags", code: 2, stderr: usage.String()},
		{name: "the rules to stdout", args: []string{"-config", config, "-rules", "-"},
			stdout: string(rules), stderr: boundariesLine},
		{name: "the objectives from stdin", args: []string{"-config", "-", "-dashboard", "-"}, stdin: slo,
			stdout: string(dashboard), stderr: boundariesLine},
		{name: "the rules to a file", args: []string{"-config", config, "-rules", "otelred-rules.yml"},
			stdout: boundariesLine + "wrote otelred-rules.yml\n", files: []string{"otelred-rules.yml"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Dir = work
			cmd.Env = []string{"HOME=" + home, "GOPATH=" + gopath, "PATH=" + os.Getenv("PATH")}
			cmd.Stdin = bytes.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case tt.code == 0 && err != nil, tt.code != 0 && !errors.As(err, &exit):
				t.Fatalf("redgen %q: %v\n%s", tt.args, err, stderr.String())
			case tt.code != 0 && exit.ExitCode() != tt.code:
				t.Errorf("redgen %q: exit status %d, want %d", tt.args, exit.ExitCode(), tt.code)
			}
			if stdout.String() != tt.stdout {
				t.Errorf("redgen %q: stdout %.200q, want %.200q", tt.args, stdout.String(), tt.stdout)
			}
			if stderr.String() != tt.stderr {
				t.Errorf("redgen %q: stderr %q, want %q", tt.args, stderr.String(), tt.stderr)
			}
			if got := dirFiles(t, work); !slices.Equal(got, tt.files) {
				t.Errorf("redgen %q: %s holds %q, want %q", tt.args, work, got, tt.files)
			}
			for _, dir := range []string{home, gopath} {
				if got := dirFiles(t, dir); got != nil {
					t.Errorf("redgen %q wrote %q in %s, HOME or GOPATH", tt.args, got, dir)
				}
			}
			if len(tt.files) > 0 {
				got, err := os.ReadFile(filepath.Join(work, tt.files[0]))
				if err != nil || !bytes.Equal(got, rules) {
					t.Errorf("%s is not the rules (%v)", tt.files[0], err)
				}
			}
		})
	}
}

// dirFiles lists every file below dir, by its path from dir, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
