// Package kubernetes holds the example's Kubernetes manifests, which a user
// copies, and the tests that check them without a cluster:
//
//   - deployment.yaml: the example service's Deployment and Service, with
//     /metrics on the port named http;
//   - podmonitor.yaml: the Prometheus Operator's PodMonitor that scrapes it;
//   - deployment-otlp.yaml: the same service pushing OTLP to a Collector,
//     each pod its own service.instance.id;
//   - prometheusrule.yaml and dashboard-configmap.yaml: the rules and the
//     Grafana dashboard, which redgen generates from example/slo.yaml
//     (go generate ./example).
//
// The tests decode every manifest strictly, as the API server does with
// strict field validation, into the Go types of Kubernetes (k8s.io/api) and
// of the Prometheus Operator; check that the PodMonitor and the Service
// select the pods and name their ports; run the PrometheusRule's rules
// through promtool and their unit tests; check the dashboard in the
// ConfigMap against Grafana's schema and byte for byte against
// example/grafana/red-dashboard.json; and run the example's binary with each
// Deployment's arguments and environment, probing it as the kubelet would.
//
// It is a module of its own so that those dependencies never reach
// otelred's users. Its tests import otelred's internal packages (the
// generator, internal/redgen, and the test support): Go decides which code
// may import an internal package by its import path, and this module's path
// is below otelred's. It is never released (.ci/versions.yaml), so it always
// builds against this checkout. Run its tests from this directory:
//
//	cd example/kubernetes && go test ./...
//
// See docs/kubernetes.md.
package kubernetes
