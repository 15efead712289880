package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/otelred/otelred/internal/otelenv"
	"github.com/otelred/otelred/internal/redgen"
)

// kube holds the flags of the Kubernetes manifests: the PrometheusRule and
// the dashboard ConfigMap.
type kube struct {
	rule, ruleName, ruleLabels                     *string
	configMap, cmName, cmLabels, folder, folderKey *string
	namespace                                      *string
}

// kubeFlags defines the flags of the Kubernetes manifests on fs. Their
// defaults are what kube-prometheus-stack selects (see docs/kubernetes.md).
func kubeFlags(fs *flag.FlagSet) *kube {
	return &kube{
		rule:       fs.String("prometheusrule", "", "PrometheusRule (monitoring.coreos.com/v1) to write, holding the rules (empty: skip)"),
		ruleName:   fs.String("rule-name", "otelred-rules", "name of the PrometheusRule"),
		ruleLabels: fs.String("rule-labels", "release=kube-prometheus-stack", "labels of the PrometheusRule, key=value,...: the Prometheus Operator's ruleSelector\nmust select them (kube-prometheus-stack's selects release=<its Helm release name>)"),
		configMap:  fs.String("dashboard-configmap", "", "ConfigMap to write, holding the dashboard for Grafana's dashboard sidecar (empty: skip)"),
		cmName:     fs.String("configmap-name", "otelred-dashboard", "name of the dashboard ConfigMap"),
		cmLabels:   fs.String("dashboard-labels", "grafana_dashboard=1", "labels of the dashboard ConfigMap, key=value,...: the sidecar's label and labelValue"),
		folder:     fs.String("dashboard-folder", "", "Grafana folder of the dashboard, the value of the ConfigMap's folder annotation (empty: no annotation)"),
		folderKey:  fs.String("folder-annotation", "k8s-sidecar-target-directory", "the dashboard sidecar's folder annotation (its FOLDER_ANNOTATION; the Grafana\nchart's sidecar.dashboards.folderAnnotation)"),
		namespace:  fs.String("kube-namespace", "", "namespace of the PrometheusRule and the ConfigMap (default: none, so kubectl's)"),
	}
}

// write writes the manifests that were asked for.
func (k *kube) write(c redgen.Config, out *outputs) error {
	if *k.rule != "" {
		o := redgen.Object{Name: *k.ruleName, Namespace: *k.namespace}
		var err error
		if o.Labels, err = (otelenv.List{Name: "-rule-labels"}).Parse(*k.ruleLabels); err != nil {
			return err
		}
		b, err := redgen.PrometheusRule(c, o)
		if err != nil {
			return fmt.Errorf("-prometheusrule: %w", err)
		}
		if err := out.write(*k.rule, b, true); err != nil {
			return err
		}
	}
	if *k.configMap != "" {
		o := redgen.Object{Name: *k.cmName, Namespace: *k.namespace}
		var err error
		if o.Labels, err = (otelenv.List{Name: "-dashboard-labels"}).Parse(*k.cmLabels); err != nil {
			return err
		}
		if *k.folder != "" {
			o.Annotations = map[string]string{*k.folderKey: *k.folder}
		}
		b, err := redgen.DashboardConfigMap(c, "", o)
		if err != nil {
			return fmt.Errorf("-dashboard-configmap: %w", err)
		}
		if err := out.write(*k.configMap, b, true); err != nil {
			return err
		}
	}
	return nil
}

// outputs is where the generated files go: a file, or stdout for "-".
type outputs struct {
	stdout    io.Writer // what is written to "-"
	info      io.Writer // what redgen says: stdout, or stderr when stdout is an output
	manifests int       // Kubernetes manifests written to stdout so far
}

// newOutputs checks the paths of the outputs. Only Kubernetes manifests
// may share stdout, as a multi-document stream; the tests name the rules
// file by its path, so neither can be stdout.
func newOutputs(stdout, stderr io.Writer, rules, tests, dashboard string, k *kube) (*outputs, error) {
	var toStdout []string
	files := 0
	for _, o := range []struct {
		flag, path string
		manifest   bool
	}{
		{"-rules", rules, false}, {"-tests", tests, false}, {"-dashboard", dashboard, false},
		{"-prometheusrule", *k.rule, true}, {"-dashboard-configmap", *k.configMap, true},
	} {
		if o.path == "-" {
			toStdout = append(toStdout, o.flag)
			if !o.manifest {
				files++
			}
		}
	}
	switch {
	case tests != "" && (tests == "-" || rules == "-"):
		return nil, errors.New("-tests and -rules must be files when -tests is written: the tests load the rules file by its path")
	case len(toStdout) > 1 && files > 0:
		return nil, fmt.Errorf("%s all write to stdout: only the Kubernetes manifests (-prometheusrule, -dashboard-configmap) can share it", strings.Join(toStdout, ", "))
	}
	out := &outputs{stdout: stdout, info: stdout}
	if len(toStdout) > 0 {
		out.info = stderr
	}
	return out, nil
}

// write writes data to path, creating its directory, and says so; "-" is
// stdout, where a manifest after the first is preceded by a "---" line.
func (o *outputs) write(path string, data []byte, manifest bool) error {
	if path == "-" {
		if manifest {
			if o.manifests > 0 {
				data = append([]byte("---\n"), data...)
			}
			o.manifests++
		}
		_, err := o.stdout.Write(data)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.info, "wrote %s\n", path)
	return nil
}
