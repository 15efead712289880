// Command redgen writes Prometheus recording and alerting rules, promtool
// unit tests for them, and a Grafana RED dashboard, all derived from one
// file of service level objectives (see exporter.Objectives) and the naming of
// the metrics, so that names, buckets and thresholds cannot drift apart.
//
// Run from the repository root, with no flags it regenerates the example's
// files from example/slo.yaml:
//
//	go run ./example/redgen
//
// For your own service:
//
//	go run github.com/otelred/otelred/example/redgen@latest \
//		-config slo.yaml -naming semconv -service-label job \
//		-rules deploy/otelred-rules.yml -tests deploy/otelred-rules_test.yml \
//		-dashboard deploy/otelred-dashboard.json
//
// An empty path skips that file. redgen prints the bucket boundaries the
// duration histogram must use (the objectives' thresholds added to the
// profile's defaults, or -buckets): give the service the same objectives
// file (exporter.Config.ObjectivesFile, or OTELRED_OBJECTIVES) and
// exporter.Setup uses exactly these, or give them to views.RED. With
// -buckets, a latency threshold that is not one of the boundaries is an
// error. The rules' guard alert, OtelredLatencyBucketMissing, fires for a
// service whose histogram lacks a threshold's bucket.
//
// For the Prometheus Operator and Grafana's dashboard sidecar on Kubernetes
// (docs/kubernetes.md), -prometheusrule writes the rules as a
// PrometheusRule and -dashboard-configmap the dashboard in a ConfigMap,
// labelled by default as kube-prometheus-stack selects them. A path of "-"
// writes to stdout (and what redgen says goes to stderr); the manifests may
// share it, as one multi-document stream:
//
//	go run github.com/otelred/otelred/example/redgen@latest -config slo.yaml \
//		-rules "" -tests "" -dashboard "" \
//		-prometheusrule - -dashboard-configmap - | kubectl apply -f -
//
// With -native, the rules and the dashboard read native histograms
// (exporter.Config.Histogram "native", scraped by Prometheus 3 with
// scrape_native_histograms: true or Prometheus 2 with
// --enable-feature=native-histograms, or pushed over OTLP to Prometheus
// 3) with histogram_count,
// histogram_quantile and histogram_fraction; there are no boundaries. As
// promtool 2.42 cannot write native histograms in a test's input series,
// the unit tests check the alerts on the SLIs the recording rules would
// record.
package main

//go:generate go run . -config ../../example/slo.yaml -rules ../../example/prometheus/rules.yml -tests ../../example/prometheus/rules_test.yml -dashboard ../../example/grafana/red-dashboard.json
//go:generate go run . -config ../../example/slo.yaml -naming classic -rules "" -tests "" -dashboard ../../example/grafana/testdata/red-dashboard-classic.json
//go:generate go run . -config ../../example/slo.yaml -native -rules ../../example/prometheus/rules-native.yml -tests ../../example/prometheus/rules-native_test.yml -dashboard ../../example/grafana/testdata/red-dashboard-native.json
//go:generate go run . -config ../../example/slo.yaml -rules "" -tests "" -dashboard "" -prometheusrule ../../example/kubernetes/prometheusrule.yaml -dashboard-configmap ../../example/kubernetes/dashboard-configmap.yaml

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/redgen"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "redgen:", err)
		}
		os.Exit(2)
	}
}

// run is the whole command, for tests.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("redgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		config    = fs.String("config", filepath.Join("example", "slo.yaml"), "objectives file, YAML or JSON (exporter.Objectives)")
		naming    = fs.String("naming", "semconv", "naming profile: semconv or classic")
		namespace = fs.String("namespace", "", "Prometheus exporter namespace, prefixed to every metric name")
		svcLabel  = fs.String("service-label", "", `label that names the service (default "job" for semconv, "service" for classic)`)
		service   = fs.String("service", "", "restrict rules and dashboard to this value of the service label (default: every service)")
		buckets   = fs.String("buckets", "", "comma-separated bucket boundaries in seconds of the histogram in use (default: the profile's, with the objectives' thresholds added)")
		rules     = fs.String("rules", filepath.Join("example", "prometheus", "rules.yml"), "Prometheus rules file to write (empty: skip)")
		tests     = fs.String("tests", filepath.Join("example", "prometheus", "rules_test.yml"), "promtool unit-test file to write for the rules file (empty: skip)")
		dashboard = fs.String("dashboard", filepath.Join("example", "grafana", "red-dashboard.json"), "Grafana dashboard file to write (empty: skip)")
		title     = fs.String("title", "", `dashboard title (default "otelred: RED and SLOs")`)
		uid       = fs.String("uid", "", `dashboard uid (default "otelred-red")`)
		native    = fs.Bool("native", false, "the duration histograms are native histograms (exporter.Config.Histogram \"native\"): read them with\nhistogram_count, histogram_quantile and histogram_fraction; no buckets, and no -tests")
		kube      = kubeFlags(fs)
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	out, err := newOutputs(stdout, stderr, *rules, *tests, *dashboard, kube)
	if err != nil {
		return err
	}

	o, err := readObjectives(*config)
	if err != nil {
		return err
	}
	p, err := otelred.ParseProfile(*naming)
	if err != nil {
		return err
	}
	c := redgen.Config{
		Objectives:   o,
		Profile:      p,
		Namespace:    *namespace,
		ServiceLabel: *svcLabel,
		Service:      *service,
		Title:        *title,
		UID:          *uid,
	}
	if *native {
		switch {
		case *buckets != "":
			return errors.New("-buckets does not apply to -native: native histograms have no bucket boundaries")
		}
		c.Native = true
	} else if *buckets != "" {
		if c.Boundaries, err = parseBuckets(*buckets); err != nil {
			return err
		}
	} else if c.Boundaries, err = o.Boundaries(views.Default(p)); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Native {
		fmt.Fprintln(out.info, "native histograms: no bucket boundaries (exporter.Config.Histogram \"native\")")
	} else {
		fmt.Fprintf(out.info, "bucket boundaries: %s\n", strings.Trim(fmt.Sprint(c.Boundaries), "[]"))
	}
	warnings, err := redgen.Warnings(c)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "redgen: warning:", w)
	}

	if *rules != "" {
		b, err := redgen.Rules(c)
		if err != nil {
			return err
		}
		if err := out.write(*rules, b, false); err != nil {
			return err
		}
	}
	if *tests != "" {
		if *rules == "" {
			return errors.New("-tests needs -rules: the tests load the rules file")
		}
		rel, err := filepath.Rel(filepath.Dir(*tests), *rules)
		if err != nil {
			return err
		}
		b, err := redgen.Tests(c, filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if err := out.write(*tests, b, false); err != nil {
			return err
		}
	}
	if *dashboard != "" {
		b, err := redgen.Dashboard(c)
		if err != nil {
			return err
		}
		if err := out.write(*dashboard, b, false); err != nil {
			return err
		}
	}
	return kube.write(c, out)
}

// readObjectives decodes a YAML or JSON objectives file, as
// exporter.Config's ObjectivesFile is read (exporter.ParseObjectives).
func readObjectives(path string) (exporter.Objectives, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return exporter.Objectives{}, err
	}
	o, err := exporter.ParseObjectives(data)
	if err != nil {
		return o, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

func parseBuckets(s string) ([]float64, error) {
	var b []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("-buckets: %q is not a number", f)
		}
		b = append(b, v)
	}
	if err := views.Validate(b); err != nil {
		return nil, fmt.Errorf("-buckets: %w", err)
	}
	return b, nil
}
