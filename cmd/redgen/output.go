package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/otelred/otelred/internal/redgen"
)

// An output is one file redgen can write.
type output struct {
	flag string // the flag that names it
	path string // "" for none, "-" for stdout
	// manifest says it is a Kubernetes manifest, which may share stdout
	// with the other manifests, as a multi-document stream.
	manifest bool
	generate func(redgen.Config) ([]byte, error)
}

// outputs are the outputs asked for, in the order they are written.
type outputs []output

// plan returns the outputs of all that have a path. Only Kubernetes
// manifests may share stdout.
func plan(all []output) (outputs, error) {
	var outs outputs
	var toStdout []string
	files := 0
	for _, o := range all {
		if o.path == "" {
			continue
		}
		outs = append(outs, o)
		if o.path == "-" {
			toStdout = append(toStdout, o.flag)
			if !o.manifest {
				files++
			}
		}
	}
	if len(toStdout) > 1 && files > 0 {
		return nil, fmt.Errorf("%s all write to stdout: only the Kubernetes manifests (-prometheusrule, -dashboard-configmap) can share it", strings.Join(toStdout, ", "))
	}
	return outs, nil
}

// testsRules returns the path of the rules file as the tests file names it
// (relative to the tests file's directory, with forward slashes), or ""
// when there are no tests: the tests load the rules file by its path, so
// both must be files.
func testsRules(tests, rules string) (string, error) {
	switch {
	case tests == "":
		return "", nil
	case rules == "":
		return "", errors.New("-tests needs -rules: the tests load the rules file")
	case tests == "-" || rules == "-":
		return "", errors.New("-tests and -rules must be files when -tests is written: the tests load the rules file by its path")
	}
	rel, err := filepath.Rel(filepath.Dir(tests), rules)
	if err != nil {
		return "", fmt.Errorf("-tests %q cannot name -rules %q by a relative path: %w", tests, rules, err)
	}
	return filepath.ToSlash(rel), nil
}

// toStdout reports whether an output goes to stdout.
func (outs outputs) toStdout() bool {
	for _, o := range outs {
		if o.path == "-" {
			return true
		}
	}
	return false
}

// write generates every output from c, then writes each to its file,
// creating its directory, or to stdout for "-", where a manifest after the
// first is preceded by a "---" line. It reports each file on info.
func (outs outputs) write(c redgen.Config, stdout, info io.Writer) error {
	data := make([][]byte, len(outs))
	for i, o := range outs {
		b, err := o.generate(c)
		if err != nil {
			return fmt.Errorf("%s: %w", o.flag, err)
		}
		data[i] = b
	}
	manifests := 0 // written to stdout so far
	for i, o := range outs {
		if o.path != "-" {
			if err := os.MkdirAll(filepath.Dir(o.path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(o.path, data[i], 0o644); err != nil {
				return err
			}
			fmt.Fprintf(info, "wrote %s\n", o.path)
			continue
		}
		b := data[i]
		if o.manifest {
			if manifests > 0 {
				b = append([]byte("---\n"), b...)
			}
			manifests++
		}
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	}
	return nil
}
