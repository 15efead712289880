package main

import (
	"flag"

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
		rule:       fs.String("prometheusrule", "", `PrometheusRule (monitoring.coreos.com/v1) to write, holding the rules, or "-" for stdout (default: none)`),
		ruleName:   fs.String("rule-name", "otelred-rules", "name of the PrometheusRule"),
		ruleLabels: fs.String("rule-labels", "release=kube-prometheus-stack", "labels of the PrometheusRule, key=value,...: the Prometheus Operator's ruleSelector\nmust select them (kube-prometheus-stack's selects release=<its Helm release name>)"),
		configMap:  fs.String("dashboard-configmap", "", `ConfigMap to write, holding the dashboard for Grafana's dashboard sidecar, or "-" for stdout (default: none)`),
		cmName:     fs.String("configmap-name", "otelred-dashboard", "name of the dashboard ConfigMap"),
		cmLabels:   fs.String("dashboard-labels", "grafana_dashboard=1", "labels of the dashboard ConfigMap, key=value,...: the sidecar's label and labelValue"),
		folder:     fs.String("dashboard-folder", "", "Grafana folder of the dashboard, the value of the ConfigMap's folder annotation (empty: no annotation)"),
		folderKey:  fs.String("folder-annotation", "k8s-sidecar-target-directory", "the dashboard sidecar's folder annotation (its FOLDER_ANNOTATION; the Grafana\nchart's sidecar.dashboards.folderAnnotation)"),
		namespace:  fs.String("kube-namespace", "", "namespace of the PrometheusRule and the ConfigMap (default: none, so kubectl's)"),
	}
}

// objects returns the metadata of the PrometheusRule and of the ConfigMap,
// as the flags give them; redgen checks them when it writes them.
func (k *kube) objects() (rule, configMap redgen.Object, err error) {
	rule = redgen.Object{Name: *k.ruleName, Namespace: *k.namespace}
	if rule.Labels, err = (otelenv.List{Name: "-rule-labels"}).Parse(*k.ruleLabels); err != nil {
		return rule, configMap, err
	}
	configMap = redgen.Object{Name: *k.cmName, Namespace: *k.namespace}
	if configMap.Labels, err = (otelenv.List{Name: "-dashboard-labels"}).Parse(*k.cmLabels); err != nil {
		return rule, configMap, err
	}
	if *k.folder != "" {
		configMap.Annotations = map[string]string{*k.folderKey: *k.folder}
	}
	return rule, configMap, nil
}
