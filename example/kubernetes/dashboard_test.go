package kubernetes_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// lastAppliedLimit is the most that kubectl apply (client-side) can store
// in its last-applied-configuration annotation: the limit of all of an
// object's annotations together.
const lastAppliedLimit = 256 << 10

// The ConfigMap holds example/grafana/red-dashboard.json byte for byte,
// under a key named after the dashboard's uid, with the label Grafana's
// sidecar looks for in kube-prometheus-stack; and the dashboard passes
// Grafana's schema, as example/grafana's test checks the JSON file (whose
// test checks its panels, queries and variables too).
func TestDashboardConfigMapIsTheDashboard(t *testing.T) {
	cm := find[*corev1.ConfigMap](t, loadManifests(t), "ConfigMap", "otelred-dashboard")
	want, err := os.ReadFile(filepath.Join("..", "grafana", "red-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.Data) != 1 || len(cm.BinaryData) != 0 {
		t.Fatalf("data keys %d, binaryData keys %d: want one dashboard", len(cm.Data), len(cm.BinaryData))
	}
	if want := map[string]string{"grafana_dashboard": "1"}; !reflect.DeepEqual(cm.Labels, want) {
		t.Errorf("labels %v, want %v (kube-prometheus-stack's sidecar.dashboards.label and labelValue)", cm.Labels, want)
	}
	if cm.Namespace != "" || len(cm.Annotations) != 0 {
		t.Errorf("namespace %q, annotations %v: the example leaves both out", cm.Namespace, cm.Annotations)
	}
	for key, got := range cm.Data {
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			t.Errorf("key %q: %v", key, errs)
		}
		if !bytes.Equal([]byte(got), want) {
			t.Errorf("data[%q] is not example/grafana/red-dashboard.json byte for byte (%d bytes, want %d): run go generate ./example", key, len(got), len(want))
		}

		plugins.RegisterDefaultPlugins()
		var d dashboard.Dashboard
		if err := d.UnmarshalJSONStrict([]byte(got)); err != nil {
			t.Fatalf("strict unmarshal: %v", err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if d.Uid == nil || key != *d.Uid+".json" {
			t.Errorf("key %q, want the dashboard's uid and .json", key)
		}
		if len(d.Panels) < 4 {
			t.Errorf("%d panels", len(d.Panels))
		}
	}
	// kubectl apply stores the whole object, as JSON, in the annotation.
	j, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	if len(j) > lastAppliedLimit*9/10 {
		t.Errorf("the ConfigMap is %d bytes of JSON, near the %d bytes of kubectl apply's last-applied annotation: the docs must say kubectl apply --server-side", len(j), lastAppliedLimit)
	}
}
