package redgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Object is the metadata of a Kubernetes object that [PrometheusRule] or
// [DashboardConfigMap] writes, checked as the Kubernetes API server checks
// it.
type Object struct {
	// Name is the object's name, a DNS subdomain: at most 253 lower-case
	// letters, digits, '-' and '.', starting and ending with a letter or a
	// digit. It is required.
	Name string

	// Namespace is the object's namespace, a DNS label (at most 63
	// lower-case letters, digits and '-').
	//
	// The zero value leaves it out, so that the object goes where kubectl
	// puts it: the namespace of -n, or of the current context.
	Namespace string

	// Labels are the object's labels. A key is a name of at most 63
	// letters, digits, '-', '_' and '.', starting and ending with a letter
	// or a digit, with an optional DNS subdomain prefix and '/'; a value is
	// empty or a name of the same form without a prefix.
	//
	// The zero value means none.
	Labels map[string]string

	// Annotations are the object's annotations; keys are of the form
	// label keys are, and values are free.
	//
	// The zero value means none.
	Annotations map[string]string
}

// The regular expressions of Kubernetes' name validation
// (k8s.io/apimachinery/pkg/util/validation).
var (
	dns1123LabelRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	qualifiedNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	configMapKeyRE  = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

// isDNS1123Subdomain reports whether s is a DNS subdomain as Kubernetes
// defines one: dot-separated DNS labels, at most 253 characters in all.
func isDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if !dns1123LabelRE.MatchString(l) {
			return false
		}
	}
	return true
}

// isQualifiedName reports whether s is a label or annotation key.
func isQualifiedName(s string) bool {
	name := s
	if prefix, n, ok := strings.Cut(s, "/"); ok {
		if !isDNS1123Subdomain(prefix) {
			return false
		}
		name = n
	}
	return len(name) <= 63 && qualifiedNameRE.MatchString(name)
}

// isLabelValue reports whether s is a label value.
func isLabelValue(s string) bool {
	return s == "" || len(s) <= 63 && qualifiedNameRE.MatchString(s)
}

// isConfigMapKey reports whether s is a key of a ConfigMap's data.
func isConfigMapKey(s string) bool {
	return len(s) <= 253 && configMapKeyRE.MatchString(s) && s != "." && s != ".." && !strings.HasPrefix(s, "..")
}

// check returns an error wrapping [ErrInvalidConfig] that names the
// field of o that Kubernetes would refuse, the first one in the order of
// the fields (and of the keys).
func (o Object) check(kind string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, kind, fmt.Sprintf(format, args...))
	}
	if !isDNS1123Subdomain(o.Name) {
		return bad("Name = %q is not a Kubernetes object name (at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or a digit)", o.Name)
	}
	if o.Namespace != "" && (len(o.Namespace) > 63 || !dns1123LabelRE.MatchString(o.Namespace)) {
		return bad("Namespace = %q is not a Kubernetes namespace (at most 63 lower-case letters, digits and '-', starting and ending with a letter or a digit)", o.Namespace)
	}
	const keyForm = "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or a digit, after an optional DNS subdomain and '/'"
	for _, k := range sortedKeys(o.Labels) {
		if !isQualifiedName(k) {
			return bad("Labels: %q is not a label key (%s)", k, keyForm)
		}
		if v := o.Labels[k]; !isLabelValue(v) {
			return bad("Labels[%q] = %q is not a label value (empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or a digit)", k, v)
		}
	}
	for _, k := range sortedKeys(o.Annotations) {
		if !isQualifiedName(k) {
			return bad("Annotations: %q is not an annotation key (%s)", k, keyForm)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// manifest is a Kubernetes object, in the fields redgen writes, in the
// order kubectl shows them.
type manifest struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   objectMeta        `yaml:"metadata"`
	Spec       any               `yaml:"spec,omitempty"`
	Data       map[string]string `yaml:"data,omitempty"`
}

type objectMeta struct {
	Name        string            `yaml:"name"`
	Namespace   string            `yaml:"namespace,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// newManifest returns the object of apiVersion and kind whose metadata is
// o.
func newManifest(apiVersion, kind string, o Object) manifest {
	return manifest{APIVersion: apiVersion, Kind: kind, Metadata: objectMeta(o)}
}

// PrometheusRule returns the rules [Rules] writes for c as a PrometheusRule
// (monitoring.coreos.com/v1), the object the Prometheus Operator loads rules
// from: the same groups, rules and expressions, in the same order, under
// spec.groups. The Operator's Prometheus loads it when o.Labels match its
// ruleSelector, which in kube-prometheus-stack is the Helm release's label
// (release: the release name) unless the chart is told otherwise.
//
// The output is one YAML document, deterministic, and starts with the same
// comment as the rules file; an invalid o is an error wrapping
// [ErrInvalidConfig] that names the field.
func PrometheusRule(c Config, o Object) ([]byte, error) {
	m, err := c.planObject("PrometheusRule", o)
	if err != nil {
		return nil, err
	}
	groups, err := m.ruleGroups()
	if err != nil {
		return nil, err
	}
	rule := newManifest("monitoring.coreos.com/v1", "PrometheusRule", o)
	rule.Spec = struct {
		Groups *yaml.Node `yaml:"groups"`
	}{groups}
	return encodeYAML(m.header("PrometheusRule"), rule)
}

// planObject returns the plan of c, for an object of kind whose metadata
// is o, which it checks.
func (c Config) planObject(kind string, o Object) (*plan, error) {
	m, err := c.plan()
	if err != nil {
		return nil, err
	}
	return m, o.check(kind)
}

// ruleGroups returns the groups of the rules file, as parsed, so that they
// are written again with the styles they were written with.
func (m *plan) ruleGroups() (*yaml.Node, error) {
	rules, err := m.rulesFile()
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(rules))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading the rules file back: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("reading the rules file back: more than one document")
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("reading the rules file back: not a mapping")
	}
	top := doc.Content[0]
	if len(top.Content) != 2 || top.Content[0].Value != "groups" || top.Content[1].Kind != yaml.SequenceNode {
		return nil, errors.New("reading the rules file back: want groups, and nothing else")
	}
	return top.Content[1], nil
}

// DashboardConfigMap returns the dashboard [Dashboard] writes for c in a
// ConfigMap for Grafana's dashboard sidecar, which loads the ConfigMaps
// that carry its label (in kube-prometheus-stack, grafana_dashboard: "1")
// into Grafana. The dashboard is the value of the one key of data, byte for
// byte the JSON that Dashboard returns; the key is key, or, when key is
// empty, the dashboard's uid followed by ".json" (the sidecar writes the
// value to a file of that name, so two dashboards must not share one).
// Grafana's sidecar puts it in the folder named by its folder annotation
// (see docs/kubernetes.md), which o.Annotations can carry.
//
// The output is one YAML document, deterministic, with the JSON as a
// literal block; an invalid o or key is an error wrapping
// [ErrInvalidConfig] that names the field.
func DashboardConfigMap(c Config, key string, o Object) ([]byte, error) {
	m, err := c.planObject("ConfigMap", o)
	if err != nil {
		return nil, err
	}
	if key == "" {
		key = m.uid() + ".json"
	}
	if !isConfigMapKey(key) {
		return nil, fmt.Errorf("%w: ConfigMap: key %q is not a ConfigMap key (at most 253 letters, digits, '-', '_' and '.', not starting with \"..\")", ErrInvalidConfig, key)
	}
	dashboard, err := m.dashboardJSON()
	if err != nil {
		return nil, err
	}
	cm := newManifest("v1", "ConfigMap", o)
	cm.Data = map[string]string{key: string(dashboard)}
	return encodeYAML(m.header("Grafana dashboard ConfigMap"), cm)
}
