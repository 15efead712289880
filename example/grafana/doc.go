// Package grafana holds the example's Grafana dashboard,
// red-dashboard.json, which redgen generates, and a test that checks it
// against Grafana's own dashboard schema with the Grafana Foundation SDK.
//
// It is a module of its own so that the SDK never becomes a dependency of
// otelred's users. Run its test from this directory:
//
//	cd example/grafana && go test ./...
package grafana
