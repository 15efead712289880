package redgen

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// decodeManifest decodes one generated manifest, rejecting fields it does
// not expect.
func decodeManifest(t *testing.T, b []byte) (m struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		Groups []any `yaml:"groups"`
	} `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding the manifest: %v\n%s", err, b)
	}
	return m
}

func TestPrometheusRuleHoldsTheRules(t *testing.T) {
	obj := Object{Name: "otelred-rules", Namespace: "shop", Labels: map[string]string{"release": "kube-prometheus-stack", "team": "payments"}}
	for _, v := range slices.Concat(variants(t), nativeVariants(t)) {
		t.Run(fmt.Sprintf("%s/native=%v", v.name, v.c.Native), func(t *testing.T) {
			got, err := PrometheusRule(v.c, obj)
			if err != nil {
				t.Fatal(err)
			}
			again, err := PrometheusRule(v.c, obj)
			if err != nil || !bytes.Equal(got, again) {
				t.Fatalf("a second PrometheusRule differs (err %v)", err)
			}
			rules, err := Rules(v.c)
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Groups []any `yaml:"groups"`
			}
			if err := yaml.Unmarshal(rules, &want); err != nil {
				t.Fatal(err)
			}
			m := decodeManifest(t, got)
			if m.APIVersion != "monitoring.coreos.com/v1" || m.Kind != "PrometheusRule" {
				t.Errorf("apiVersion %q, kind %q", m.APIVersion, m.Kind)
			}
			if m.Metadata.Name != obj.Name || m.Metadata.Namespace != obj.Namespace ||
				!reflect.DeepEqual(m.Metadata.Labels, obj.Labels) || m.Metadata.Annotations != nil || m.Data != nil {
				t.Errorf("metadata %+v, data %v; want %+v", m.Metadata, m.Data, obj)
			}
			if len(want.Groups) < 2 || !reflect.DeepEqual(m.Spec.Groups, want.Groups) {
				t.Errorf("spec.groups are not the rules file's %d groups", len(want.Groups))
			}
			// The rules file's comment heads the manifest, with its name.
			header := strings.Replace(string(rules[:bytes.Index(rules, []byte("groups:"))]), "# Prometheus rules generated", "# PrometheusRule generated", 1)
			if !strings.HasPrefix(string(got), header+"apiVersion: monitoring.coreos.com/v1\n") {
				t.Errorf("the manifest does not start with the rules file's comment:\n%s", got[:min(len(got), 400)])
			}
		})
	}
}

func TestDashboardConfigMapHoldsTheDashboard(t *testing.T) {
	ex := exampleConfig(t)
	otherUID := ex
	otherUID.UID = "shop-red"
	for _, tc := range []struct {
		name    string
		c       Config
		key     string
		wantKey string
		obj     Object
	}{
		{"the example, keyed by its uid", ex, "", "otelred-red.json",
			Object{Name: "otelred-dashboard", Labels: map[string]string{"grafana_dashboard": "1"}}},
		{"another uid, another key", otherUID, "", "shop-red.json",
			Object{Name: "shop-dashboard", Labels: map[string]string{"grafana_dashboard": "1"}}},
		{"a key given, a namespace and a folder", ex, "red.json", "red.json",
			Object{Name: "otelred-dashboard", Namespace: "monitoring", Labels: map[string]string{"grafana_dashboard": "yes"},
				Annotations: map[string]string{"k8s-sidecar-target-directory": "SLOs/otelred"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DashboardConfigMap(tc.c, tc.key, tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DashboardConfigMap(tc.c, tc.key, tc.obj)
			if err != nil || !bytes.Equal(got, again) {
				t.Fatalf("a second ConfigMap differs (err %v)", err)
			}
			dashboard, err := Dashboard(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			m := decodeManifest(t, got)
			if m.APIVersion != "v1" || m.Kind != "ConfigMap" || m.Spec.Groups != nil {
				t.Errorf("apiVersion %q, kind %q, spec %v", m.APIVersion, m.Kind, m.Spec)
			}
			if m.Metadata.Name != tc.obj.Name || m.Metadata.Namespace != tc.obj.Namespace ||
				!reflect.DeepEqual(m.Metadata.Labels, tc.obj.Labels) || !reflect.DeepEqual(m.Metadata.Annotations, tc.obj.Annotations) {
				t.Errorf("metadata %+v, want %+v", m.Metadata, tc.obj)
			}
			if len(m.Data) != 1 {
				t.Fatalf("data has keys %v, want %q alone", sortedKeys(m.Data), tc.wantKey)
			}
			if m.Data[tc.wantKey] != string(dashboard) {
				t.Errorf("data[%q] is not the dashboard, byte for byte (keys %v)", tc.wantKey, sortedKeys(m.Data))
			}
			// A literal block, readable in a diff, not one quoted line.
			if !bytes.Contains(got, []byte("\n  "+tc.wantKey+": |\n    {\n")) {
				t.Errorf("the dashboard is not a literal block:\n%s", got[:min(len(got), 600)])
			}
		})
	}
}

// Label values are strings: "1" must stay "1", not become the number 1,
// which Kubernetes refuses in labels.
func TestManifestLabelsAreQuotedStrings(t *testing.T) {
	got, err := DashboardConfigMap(exampleConfig(t), "", Object{Name: "d", Labels: map[string]string{"grafana_dashboard": "1", "enabled": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n    grafana_dashboard: \"1\"\n", "\n    enabled: \"true\"\n"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("no %q in\n%s", want, got[:min(len(got), 500)])
		}
	}
}

func TestObjectsAreChecked(t *testing.T) {
	long := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name  string
		obj   Object
		key   string
		inErr string
	}{
		{"no name", Object{}, "", `ConfigMap: Name = ""`},
		{"an upper-case name", Object{Name: "Otelred"}, "", `Name = "Otelred" is not a Kubernetes object name`},
		{"a name ending with a dash", Object{Name: "otelred-"}, "", `Name = "otelred-"`},
		{"a name with an empty label", Object{Name: "a..b"}, "", `Name = "a..b"`},
		{"a name of 254 characters", Object{Name: strings.Repeat("a", 254)}, "", "Name = "},
		{"a namespace with a dot", Object{Name: "a", Namespace: "mon.itoring"}, "", `Namespace = "mon.itoring" is not a Kubernetes namespace`},
		{"a namespace of 64 characters", Object{Name: "a", Namespace: long}, "", "Namespace = "},
		{"a label key with a space", Object{Name: "a", Labels: map[string]string{"grafana dashboard": "1"}}, "", `Labels: "grafana dashboard" is not a label key`},
		{"a label key with a bad prefix", Object{Name: "a", Labels: map[string]string{"Example.com/team": "x"}}, "", `"Example.com/team" is not a label key`},
		{"a label key of 64 characters", Object{Name: "a", Labels: map[string]string{long: "x"}}, "", "is not a label key"},
		{"a label value with a slash", Object{Name: "a", Labels: map[string]string{"release": "a/b"}}, "", `Labels["release"] = "a/b" is not a label value`},
		{"a label value of 64 characters", Object{Name: "a", Labels: map[string]string{"release": long}}, "", `Labels["release"]`},
		{"an annotation key with two slashes", Object{Name: "a", Annotations: map[string]string{"a/b/c": "x"}}, "", `Annotations: "a/b/c" is not an annotation key`},
		{"a data key with a slash", Object{Name: "a"}, "dash/board.json", `key "dash/board.json" is not a ConfigMap key`},
		{"a data key starting with two dots", Object{Name: "a"}, "..json", `key "..json"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DashboardConfigMap(exampleConfig(t), tc.key, tc.obj)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.inErr) {
				t.Fatalf("err = %v, want one wrapping ErrInvalidConfig with %q", err, tc.inErr)
			}
			if tc.key == "" {
				_, err := PrometheusRule(exampleConfig(t), tc.obj)
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), strings.Replace(tc.inErr, "ConfigMap", "PrometheusRule", 1)) {
					t.Fatalf("PrometheusRule: err = %v, want one wrapping ErrInvalidConfig with %q", err, tc.inErr)
				}
			}
		})
	}
	t.Run("what Kubernetes accepts is accepted", func(t *testing.T) {
		obj := Object{
			Name:        strings.Repeat("a", 63) + ".b-c.0",
			Namespace:   strings.Repeat("n", 63),
			Labels:      map[string]string{"example.com/" + strings.Repeat("k", 63): strings.Repeat("v", 63), "a_b.c-d": "", "x": "Y_1.z-2"},
			Annotations: map[string]string{"k8s-sidecar-target-directory": "/tmp/dashboards/SLOs and RED", "note": ""},
		}
		if _, err := DashboardConfigMap(exampleConfig(t), "_a-b.c.json", obj); err != nil {
			t.Fatal(err)
		}
		if _, err := PrometheusRule(exampleConfig(t), obj); err != nil {
			t.Fatal(err)
		}
	})
}
