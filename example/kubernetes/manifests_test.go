package kubernetes_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// image is the placeholder image of the Deployments, which the user builds
// (docs/kubernetes.md, "The image").
const image = "otelred-example:dev"

// kubePrometheusStackRelease is the value of the release label that
// kube-prometheus-stack's Prometheus selects PodMonitors and
// PrometheusRules by when its Helm release has this name.
const kubePrometheusStackRelease = "kube-prometheus-stack"

// manifest is one object of a manifest file.
type manifest struct {
	file, kind, name string
	obj              any // *appsv1.Deployment, *corev1.Service, ...
}

// newObject returns the Go type of an apiVersion and kind.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return new(appsv1.Deployment), true
	case "v1 Service":
		return new(corev1.Service), true
	case "v1 ConfigMap":
		return new(corev1.ConfigMap), true
	case "monitoring.coreos.com/v1 PodMonitor":
		return new(monitoringv1.PodMonitor), true
	case "monitoring.coreos.com/v1 PrometheusRule":
		return new(monitoringv1.PrometheusRule), true
	}
	return nil, false
}

// decodeManifests splits data into YAML documents as kubectl does (on
// "---" lines; a document of comments alone is skipped) and decodes each
// into its Go type strictly, as the API server does with strict field
// validation: an unknown field, a field in the wrong case, a duplicate key
// or a value of the wrong type is an error.
func decodeManifests(file string, data []byte) ([]manifest, error) {
	var out []manifest
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		j, err := sigsyaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", file, n, err)
		}
		if string(bytes.TrimSpace(j)) == "null" {
			continue
		}
		var tm metav1.TypeMeta
		if err := sigsjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", file, n, err)
		}
		obj, ok := newObject(tm.APIVersion, tm.Kind)
		if !ok {
			return nil, fmt.Errorf("%s, document %d: unexpected apiVersion %q and kind %q", file, n, tm.APIVersion, tm.Kind)
		}
		strict, err := sigsjson.UnmarshalStrict(j, obj)
		if err != nil {
			return nil, fmt.Errorf("%s, document %d (%s): %w", file, n, tm.Kind, err)
		}
		if len(strict) > 0 {
			return nil, fmt.Errorf("%s, document %d (%s): %w", file, n, tm.Kind, errors.Join(strict...))
		}
		meta := reflect.ValueOf(obj).Elem().FieldByName("ObjectMeta").Interface().(metav1.ObjectMeta)
		out = append(out, manifest{file: file, kind: tm.Kind, name: meta.Name, obj: obj})
	}
}

// loadManifests decodes every manifest file of this directory.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var all []manifest
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := decodeManifests(f, data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ms...)
	}
	return all
}

// find returns the object of kind and name, or fails the test.
func find[T any](t *testing.T, ms []manifest, kind, name string) T {
	t.Helper()
	for _, m := range ms {
		if m.kind == kind && m.name == name {
			return m.obj.(T)
		}
	}
	t.Fatalf("no %s %q in the manifests", kind, name)
	var zero T
	return zero
}

// The directory holds exactly these objects, each decoded strictly.
func TestEveryManifestDecodesStrictly(t *testing.T) {
	var got []string
	for _, m := range loadManifests(t) {
		got = append(got, m.file+": "+m.kind+" "+m.name)
	}
	want := []string{
		"dashboard-configmap.yaml: ConfigMap otelred-dashboard",
		"deployment-otlp.yaml: Deployment otelred-example-otlp",
		"deployment.yaml: Deployment otelred-example",
		"deployment.yaml: Service otelred-example",
		"podmonitor.yaml: PodMonitor otelred-example",
		"prometheusrule.yaml: PrometheusRule otelred-rules",
	}
	if !slices.Equal(got, want) {
		t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The strict decoding must refuse what the API server refuses with strict
// field validation; otherwise the test above proves nothing.
func TestStrictDecodingRejectsMistakes(t *testing.T) {
	raw, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeManifests("deployment.yaml", raw); err != nil {
		t.Fatalf("the file itself: %v", err)
	}
	for _, tc := range []struct{ name, from, to, inErr string }{
		{"an unknown field", "containerPort: 8080", "containerPort: 8080\n              hostport: 8080", `unknown field "spec.template.spec.containers[0].ports[0].hostport"`},
		{"a field in the wrong case", "replicas: 2", "Replicas: 2", `unknown field "spec.Replicas"`},
		{"a field at the wrong level", "      automountServiceAccountToken: false", "      automountServiceAccountToken: false\n      replicas: 2", `unknown field "spec.template.spec.replicas"`},
		{"a duplicate key", "replicas: 2", "replicas: 2\n  replicas: 3", `"replicas" already set in map`},
		{"a string where a number belongs", "replicas: 2", `replicas: "2"`, "cannot unmarshal string"},
		{"an unknown kind", "kind: Service", "kind: Servise", `unexpected apiVersion "v1" and kind "Servise"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(raw), tc.from, tc.to, 1)
			if bad == string(raw) {
				t.Fatalf("%q not found in deployment.yaml", tc.from)
			}
			_, err := decodeManifests("deployment.yaml", []byte(bad))
			if err == nil || !strings.Contains(err.Error(), tc.inErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.inErr)
			}
		})
	}
}

// selects reports whether sel selects a pod with labels set.
func selects(t *testing.T, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	if s.Empty() {
		t.Fatal("an empty selector, which selects every pod")
	}
	return s.Matches(labels.Set(set))
}

// container returns the only container of d's pods.
func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("Deployment %s has %d containers, want 1", d.Name, n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

// port returns the container port named name.
func port(c corev1.Container, name string) (corev1.ContainerPort, bool) {
	for _, p := range c.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

// env returns the container's variable name, and its position.
func env(c corev1.Container, name string) (corev1.EnvVar, int) {
	for i, e := range c.Env {
		if e.Name == name {
			return e, i
		}
	}
	return corev1.EnvVar{}, -1
}

func TestPodMonitorScrapesTheDeployment(t *testing.T) {
	ms := loadManifests(t)
	pm := find[*monitoringv1.PodMonitor](t, ms, "PodMonitor", "otelred-example")
	d := find[*appsv1.Deployment](t, ms, "Deployment", "otelred-example")
	otlp := find[*appsv1.Deployment](t, ms, "Deployment", "otelred-example-otlp")
	pod := d.Spec.Template.Labels

	if !selects(t, &pm.Spec.Selector, pod) {
		t.Errorf("the PodMonitor's selector %v does not select the pods' labels %v", pm.Spec.Selector, pod)
	}
	if selects(t, &pm.Spec.Selector, otlp.Spec.Template.Labels) {
		t.Errorf("the PodMonitor selects the OTLP variant's pods %v, which serve no /metrics", otlp.Spec.Template.Labels)
	}
	if !reflect.DeepEqual(pm.Spec.NamespaceSelector, monitoringv1.NamespaceSelector{}) {
		t.Errorf("namespaceSelector %+v: the PodMonitor is applied with the Deployment, in its namespace", pm.Spec.NamespaceSelector)
	}
	c := container(t, d)
	if len(pm.Spec.PodMetricsEndpoints) != 1 {
		t.Fatalf("%d podMetricsEndpoints, want 1", len(pm.Spec.PodMetricsEndpoints))
	}
	for _, ep := range pm.Spec.PodMetricsEndpoints {
		if ep.Port == nil || ep.PortNumber != nil {
			t.Errorf("endpoint %+v: name the port, and only by port", ep)
			continue
		}
		if _, ok := port(c, *ep.Port); !ok {
			t.Errorf("the PodMonitor scrapes port %q, which container %s does not have (%v)", *ep.Port, c.Name, c.Ports)
		}
		if ep.Path != "/metrics" {
			t.Errorf("the PodMonitor scrapes %q, want /metrics", ep.Path)
		}
		// instance is the pod's name, as service.instance.id makes it on
		// the OTLP path.
		want := []monitoringv1.RelabelConfig{{SourceLabels: []monitoringv1.LabelName{"__meta_kubernetes_pod_name"}, TargetLabel: "instance"}}
		if !reflect.DeepEqual(ep.RelabelConfigs, want) {
			t.Errorf("relabelings %+v, want %+v", ep.RelabelConfigs, want)
		}
	}
	// The job label is the pod's label, the service's name, as the rules
	// and the dashboard read it; OTLP's job would be the same service.name.
	job, ok := pod[pm.Spec.JobLabel]
	if pm.Spec.JobLabel == "" || !ok {
		t.Fatalf("jobLabel %q is not a label of the pods %v", pm.Spec.JobLabel, pod)
	}
	if svc, _ := env(c, "OTEL_SERVICE_NAME"); svc.Value != job {
		t.Errorf("job %q from the pods' %s, but OTEL_SERVICE_NAME is %q", job, pm.Spec.JobLabel, svc.Value)
	}
	if got := pm.Labels["release"]; got != kubePrometheusStackRelease {
		t.Errorf("the PodMonitor's release label is %q, want %q (kube-prometheus-stack's podMonitorSelector)", got, kubePrometheusStackRelease)
	}
}

func TestServiceSelectsTheDeployment(t *testing.T) {
	ms := loadManifests(t)
	s := find[*corev1.Service](t, ms, "Service", "otelred-example")
	d := find[*appsv1.Deployment](t, ms, "Deployment", "otelred-example")
	otlp := find[*appsv1.Deployment](t, ms, "Deployment", "otelred-example-otlp")
	sel := &metav1.LabelSelector{MatchLabels: s.Spec.Selector}
	if !selects(t, sel, d.Spec.Template.Labels) {
		t.Errorf("the Service's selector %v does not select the pods' labels %v", s.Spec.Selector, d.Spec.Template.Labels)
	}
	if selects(t, sel, otlp.Spec.Template.Labels) {
		t.Errorf("the Service selects the OTLP variant's pods too")
	}
	c := container(t, d)
	if len(s.Spec.Ports) == 0 {
		t.Fatal("the Service has no ports")
	}
	for _, p := range s.Spec.Ports {
		if p.TargetPort.StrVal == "" {
			t.Errorf("Service port %q targets %v: name the container's port", p.Name, p.TargetPort.String())
			continue
		}
		cp, ok := port(c, p.TargetPort.StrVal)
		if !ok {
			t.Errorf("Service port %q targets %q, which container %s does not have", p.Name, p.TargetPort.StrVal, c.Name)
		}
		if p.Name != p.TargetPort.StrVal || p.Protocol != cp.Protocol {
			t.Errorf("Service port %q (%s) targets container port %q (%s): keep the names and protocols alike", p.Name, p.Protocol, cp.Name, cp.Protocol)
		}
	}
}

// deployments returns the example's Deployments.
func deployments(t *testing.T, ms []manifest) []*appsv1.Deployment {
	t.Helper()
	var ds []*appsv1.Deployment
	for _, m := range ms {
		if d, ok := m.obj.(*appsv1.Deployment); ok {
			ds = append(ds, d)
		}
	}
	if len(ds) != 2 {
		t.Fatalf("%d Deployments, want the scraped one and the OTLP one", len(ds))
	}
	return ds
}

// What the API server would refuse, and what a restricted namespace (the
// Pod Security Standards' restricted profile) refuses.
func TestDeploymentsAreValidAndRestricted(t *testing.T) {
	for _, d := range deployments(t, loadManifests(t)) {
		t.Run(d.Name, func(t *testing.T) {
			if !selects(t, d.Spec.Selector, d.Spec.Template.Labels) {
				t.Errorf("the selector %v does not select the template's labels %v", d.Spec.Selector, d.Spec.Template.Labels)
			}
			for k, v := range d.Spec.Template.Labels {
				if errs := slices.Concat(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)); len(errs) > 0 {
					t.Errorf("label %s=%s: %v", k, v, errs)
				}
			}
			if errs := validation.IsDNS1123Subdomain(d.Name); len(errs) > 0 {
				t.Errorf("name: %v", errs)
			}
			c := container(t, d)
			if c.Image != image {
				t.Errorf("image %q, want the placeholder %q that docs/kubernetes.md builds", c.Image, image)
			}
			for _, p := range c.Ports {
				if errs := validation.IsValidPortName(p.Name); len(errs) > 0 {
					t.Errorf("port name %q: %v", p.Name, errs)
				}
			}
			for what, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
				if p == nil || p.HTTPGet == nil {
					t.Errorf("no HTTP %s probe", what)
					continue
				}
				if _, ok := port(c, p.HTTPGet.Port.StrVal); !ok {
					t.Errorf("the %s probe's port %v is not a named port of the container", what, p.HTTPGet.Port.String())
				}
			}
			r := c.Resources
			if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() ||
				r.Limits.Memory().Cmp(*r.Requests.Memory()) < 0 {
				t.Errorf("resources %+v: want CPU and memory requests, and a memory limit at least the request", r)
			}
			pod := d.Spec.Template.Spec.SecurityContext
			sc := c.SecurityContext
			switch {
			case pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0:
				t.Errorf("the pod does not run as a non-root user: %+v", pod)
			case pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
				t.Errorf("the pod's seccomp profile is not RuntimeDefault")
			case sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("the container allows privilege escalation")
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("the container's root file system is writable")
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
				t.Errorf("the container keeps capabilities: %+v", sc.Capabilities)
			}
			if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < 30 {
				t.Errorf("terminationGracePeriodSeconds %v: the example takes up to 25 s to drain and flush", g)
			}
		})
	}
}

// refRE is a $(VAR) reference, which Kubernetes expands in env values.
var refRE = regexp.MustCompile(`\$\(([-._a-zA-Z][-._a-zA-Z0-9]*)\)`)

// Each pod is its own OpenTelemetry instance: service.instance.id is the
// pod's name, through the downward API, so that replicas pushing OTLP
// never write to one series. Kubernetes expands $(POD_NAME) only when
// POD_NAME is declared before the variable that uses it; an undeclared one
// stays as it is, silently.
func TestInstanceIdentityComesFromThePod(t *testing.T) {
	for _, d := range deployments(t, loadManifests(t)) {
		t.Run(d.Name, func(t *testing.T) {
			c := container(t, d)
			pod, at := env(c, "POD_NAME")
			if at < 0 || pod.ValueFrom == nil || pod.ValueFrom.FieldRef == nil || pod.ValueFrom.FieldRef.FieldPath != "metadata.name" {
				t.Fatalf("POD_NAME is not the pod's metadata.name: %+v", pod)
			}
			attrs, attrsAt := env(c, "OTEL_RESOURCE_ATTRIBUTES")
			if attrsAt < 0 || !slices.Contains(strings.Split(attrs.Value, ","), "service.instance.id=$(POD_NAME)") {
				t.Fatalf("OTEL_RESOURCE_ATTRIBUTES %q does not set service.instance.id=$(POD_NAME)", attrs.Value)
			}
			for i, e := range c.Env {
				for _, ref := range refRE.FindAllStringSubmatch(e.Value, -1) {
					if _, j := env(c, ref[1]); j < 0 || j >= i {
						t.Errorf("%s refers to $(%s), which is not declared before it: Kubernetes would leave it unexpanded", e.Name, ref[1])
					}
				}
			}
		})
	}
}

func TestOTLPVariantPushesToACollector(t *testing.T) {
	d := find[*appsv1.Deployment](t, loadManifests(t), "Deployment", "otelred-example-otlp")
	c := container(t, d)
	want := map[string]string{
		"OTEL_METRICS_EXPORTER":       "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_SERVICE_NAME":           "otelred-example-otlp",
	}
	for k, v := range want {
		if e, _ := env(c, k); e.Value != v {
			t.Errorf("%s = %q, want %q", k, e.Value, v)
		}
	}
	e, _ := env(c, "OTEL_EXPORTER_OTLP_ENDPOINT")
	u, err := url.Parse(e.Value)
	if err != nil || u.Scheme != "http" || u.Port() != "4318" || u.Path != "" || len(validation.IsDNS1123Label(u.Hostname())) > 0 {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q: want the URL of a Collector Service's OTLP/HTTP port, http://<service>:4318", e.Value)
	}
}
