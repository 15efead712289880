package main

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// TestE2EGuardAlert runs two demos under one scrape job, and a real
// Prometheus that scrapes both every second and evaluates the committed
// rules every second. One demo is given no objectives, so its histogram
// has the profile's default buckets, without slo.yaml's 0.3 s threshold
// (0.5 s is a default boundary); the other has slo.yaml's. The guard alert
// OtelredLatencyBucketMissing must fire for the first one's 0.3 s bucket,
// and for nothing else. It runs on Prometheus 2 and 3.
func TestE2EGuardAlert(t *testing.T) {
	for _, v := range testsupport.Prometheuses() {
		t.Run(v.Name, func(t *testing.T) { e2eGuardAlert(t, v) })
	}
}

func e2eGuardAlert(t *testing.T, v testsupport.Prometheus) {
	bin := v.Tool(t, "prometheus")
	const job = "semconv"

	wrongCfg := exporterConfig(e2eService)
	wrongCfg.Objectives = &exporter.Objectives{} // none: the default buckets
	wrong := startDemo(t, options{config: wrongCfg})
	right := startDemo(t, options{config: exporterConfig(e2eService)})
	if slices.Contains(wrong.boundaries, 0.3) || !slices.Equal(wrong.boundaries, views.Default(otelred.Semconv)) {
		t.Fatalf("the demo without objectives has the buckets %v, want the defaults without 0.3", wrong.boundaries)
	}
	if !slices.Contains(right.boundaries, 0.3) {
		t.Fatalf("the demo with slo.yaml has the buckets %v, without its 0.3", right.boundaries)
	}

	rules, err := filepath.Abs(filepath.Join("prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	prom := startPrometheus(t, bin, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%q, %q]
`, rules, job, wrong.ln.Addr().String(), right.ln.Addr().String()))

	c := newClient(t)
	start := time.Now()
	type alert struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		State       string            `json:"state"`
	}
	var firing []alert
	err = prom.poll(60*time.Second, func() (bool, string) {
		// Traffic on both, all the time: the guard needs requests in
		// the last 5 minutes.
		for _, d := range []*demo{wrong, right} {
			get(t, c, d.url()+"/hello/ada")
		}
		var data struct {
			Alerts []alert `json:"alerts"`
		}
		if err := prom.api("/api/v1/alerts", nil, &data); err != nil {
			return false, err.Error()
		}
		firing = firing[:0]
		for _, a := range data.Alerts {
			if a.Labels["alertname"] == "OtelredLatencyBucketMissing" && a.State == "firing" {
				firing = append(firing, a)
			}
		}
		return len(firing) > 0, fmt.Sprintf("alerts %v", data.Alerts)
	})
	if err != nil {
		t.Fatalf("the guard alert did not fire: %v", err)
	}
	t.Logf("the guard alert fired %v after the demos and Prometheus started", time.Since(start).Round(100*time.Millisecond))
	// One more evaluation of the alerts, after traffic on both, to see
	// that nothing else fires.
	for _, d := range []*demo{wrong, right} {
		get(t, c, d.url()+"/hello/ada")
	}
	prom.waitEvaluatedAfter(t, "otelred_slo_alerts", time.Now())
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	if err := prom.api("/api/v1/alerts", nil, &data); err != nil {
		t.Fatal(err)
	}
	var guards []alert
	for _, a := range data.Alerts {
		if a.Labels["alertname"] == "OtelredLatencyBucketMissing" {
			guards = append(guards, a)
		}
	}
	if len(guards) != 1 {
		t.Fatalf("%d guard alerts, want 1 (the 0.3 s bucket of %s): %v", len(guards), wrong.ln.Addr(), guards)
	}
	g := guards[0]
	want := map[string]string{
		"alertname": "OtelredLatencyBucketMissing", "job": job, "instance": wrong.ln.Addr().String(),
		"severity": "ticket", "slo": "latency", "threshold": "0.3",
	}
	if g.State != "firing" || !maps.Equal(g.Labels, want) {
		t.Errorf("the guard alert is %s with %v, want firing with %v", g.State, g.Labels, want)
	}
	for _, w := range []string{"Service " + job + " has no bucket at its latency threshold of 0.3 s", "ObjectivesFile", "add 0.3 to its Boundaries"} {
		if !strings.Contains(g.Annotations["summary"], w) {
			t.Errorf("the summary %q does not say %q", g.Annotations["summary"], w)
		}
	}
	if !strings.Contains(g.Annotations["description"], "Instance "+wrong.ln.Addr().String()) {
		t.Errorf("the description %q does not name the instance", g.Annotations["description"])
	}
}

// waitEvaluatedAfter waits until Prometheus has evaluated the rule group
// named group since after.
func (p *promServer) waitEvaluatedAfter(t *testing.T, group string, after time.Time) {
	t.Helper()
	err := p.poll(30*time.Second, func() (bool, string) {
		var data struct {
			Groups []struct {
				Name           string    `json:"name"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		}
		if err := p.api("/api/v1/rules", nil, &data); err != nil {
			return false, err.Error()
		}
		for _, g := range data.Groups {
			if g.Name == group {
				return g.LastEvaluation.After(after), fmt.Sprintf("group %s last evaluated at %v", group, g.LastEvaluation)
			}
		}
		return false, "no group " + group
	})
	if err != nil {
		t.Fatal(err)
	}
}
