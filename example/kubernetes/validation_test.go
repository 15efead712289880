package kubernetes_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/redgen"
)

// candidates are the strings of up to three characters of an alphabet
// that mixes what names allow and what they do not, and a few long ones at
// and past each limit.
func candidates() []string {
	const alphabet = "a0Z-_./"
	out := []string{""}
	prev := []string{""}
	for range 3 {
		var next []string
		for _, p := range prev {
			for _, r := range alphabet {
				next = append(next, p+string(r))
			}
		}
		out = append(out, next...)
		prev = next
	}
	for _, n := range []int{63, 64, 253, 254} {
		out = append(out, strings.Repeat("a", n), "a/"+strings.Repeat("b", n), strings.Repeat("c", n)+"/d",
			strings.Repeat("a.", n/2)+"a")
	}
	return append(out, "example.com/name", "Example.com/name", "a..b", "..a", "a:b", "é")
}

// redgen refuses the names, namespaces, labels, annotations and keys that
// Kubernetes refuses (k8s.io/apimachinery's validation), and only those.
func TestManifestMetadataIsCheckedAsKubernetesChecksIt(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := exporter.ParseObjectives(raw)
	if err != nil {
		t.Fatal(err)
	}
	c := redgen.Config{Objectives: o}
	for _, tc := range []struct {
		what       string
		kubernetes func(string) []string
		object     func(string) (redgen.Object, string)
	}{
		{"object names", validation.IsDNS1123Subdomain, func(s string) (redgen.Object, string) { return redgen.Object{Name: s}, "" }},
		{"namespaces", validation.IsDNS1123Label, func(s string) (redgen.Object, string) {
			if s == "" {
				s = "-" // "" means no namespace
			}
			return redgen.Object{Name: "a", Namespace: s}, ""
		}},
		{"label keys", validation.IsQualifiedName, func(s string) (redgen.Object, string) {
			return redgen.Object{Name: "a", Labels: map[string]string{s: "v"}}, ""
		}},
		{"label values", validation.IsValidLabelValue, func(s string) (redgen.Object, string) {
			return redgen.Object{Name: "a", Labels: map[string]string{"k": s}}, ""
		}},
		{"annotation keys", validation.IsQualifiedName, func(s string) (redgen.Object, string) {
			return redgen.Object{Name: "a", Annotations: map[string]string{s: "v"}}, ""
		}},
		{"ConfigMap keys", validation.IsConfigMapKey, func(s string) (redgen.Object, string) {
			if s == "" {
				s = "-/" // "" means the dashboard's uid
			}
			return redgen.Object{Name: "a"}, s
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			accepted, refused := 0, 0
			for _, s := range candidates() {
				obj, key := tc.object(s)
				probe := s
				if tc.what == "namespaces" {
					probe = obj.Namespace
				}
				if tc.what == "ConfigMap keys" {
					probe = key
				}
				valid := len(tc.kubernetes(probe)) == 0
				_, err := redgen.DashboardConfigMap(c, key, obj)
				if err != nil && !errors.Is(err, redgen.ErrInvalidConfig) {
					t.Fatalf("%q: %v", probe, err)
				}
				if valid != (err == nil) {
					t.Errorf("%q: Kubernetes says %v, redgen says %v", probe, tc.kubernetes(probe), err)
				}
				if valid {
					accepted++
				} else {
					refused++
				}
			}
			if accepted < 10 || refused < 10 {
				t.Errorf("%d accepted and %d refused: the candidates do not test both sides", accepted, refused)
			}
		})
	}
}
