package redgen

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// guardRules returns the guard alerts of the rules generated from c.
func guardRules(t *testing.T, c Config) (header string, guards []rule) {
	t.Helper()
	b, err := Rules(c)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == guardAlert {
				if g.Name != "otelred_slo_alerts" {
					t.Errorf("%s is in group %s, want otelred_slo_alerts", guardAlert, g.Name)
				}
				guards = append(guards, r)
			}
		}
	}
	header, _, _ = strings.Cut(string(b), "groups:")
	return header, guards
}

// TestGuardAlerts checks the guard alert of each latency threshold in
// every naming choice: its exact expression (le matched as the other rules
// match it, an integer one on Prometheus 2's "1" and 3's "1.0"), its labels,
// and that its summary names the threshold and the fix. Native histograms
// get none.
func TestGuardAlerts(t *testing.T) {
	vs := variants(t)
	want := map[string][]string{
		"semconv": {
			"sum by (job, instance) (rate(http_server_request_duration_seconds_count[5m])) > 0\nunless on (job, instance)\ncount by (job, instance) (http_server_request_duration_seconds_bucket{le=\"0.3\"})",
			"sum by (job, instance) (rate(http_server_request_duration_seconds_count[5m])) > 0\nunless on (job, instance)\ncount by (job, instance) (http_server_request_duration_seconds_bucket{le=\"0.5\"})",
		},
		"semconv with a namespace, service_name and one service": {
			"sum by (service_name, instance) (rate(shop_http_server_request_duration_seconds_count{service_name=\"checkout\"}[5m])) > 0\nunless on (service_name, instance)\ncount by (service_name, instance) (shop_http_server_request_duration_seconds_bucket{service_name=\"checkout\", le=\"0.3\"})",
			"sum by (service_name, instance) (rate(shop_http_server_request_duration_seconds_count{service_name=\"checkout\"}[5m])) > 0\nunless on (service_name, instance)\ncount by (service_name, instance) (shop_http_server_request_duration_seconds_bucket{service_name=\"checkout\", le=\"0.5\"})",
		},
		"classic": {
			"sum by (service, instance) (rate(http_request_duration_seconds_count[5m])) > 0\nunless on (service, instance)\ncount by (service, instance) (http_request_duration_seconds_bucket{le=\"0.3\"})",
			"sum by (service, instance) (rate(http_request_duration_seconds_count[5m])) > 0\nunless on (service, instance)\ncount by (service, instance) (http_request_duration_seconds_bucket{le=\"0.5\"})",
		},
		"classic with a namespace and one service": {
			"sum by (service, instance) (rate(shop_http_request_duration_seconds_count{service=\"checkout\"}[5m])) > 0\nunless on (service, instance)\ncount by (service, instance) (shop_http_request_duration_seconds_bucket{service=\"checkout\", le=\"0.3\"})",
			"sum by (service, instance) (rate(shop_http_request_duration_seconds_count{service=\"checkout\"}[5m])) > 0\nunless on (service, instance)\ncount by (service, instance) (shop_http_request_duration_seconds_bucket{service=\"checkout\", le=\"0.5\"})",
		},
		"route objectives only, with an integer threshold": {
			"sum by (job, instance) (rate(http_server_request_duration_seconds_count[5m])) > 0\nunless on (job, instance)\ncount by (job, instance) (http_server_request_duration_seconds_bucket{le=~\"1(\\\\.0)?\"})",
		},
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			header, guards := guardRules(t, v.c)
			exprs := want[v.name]
			if len(guards) != len(exprs) {
				t.Fatalf("%d guard alerts, want %d (one per latency threshold)", len(guards), len(exprs))
			}
			ths := v.c.Objectives.Thresholds()
			for i, g := range guards {
				if g.Expr != exprs[i] {
					t.Errorf("guard %d:\n got %s\nwant %s", i, g.Expr, exprs[i])
				}
				th := num(ths[i])
				if g.Labels["threshold"] != th || g.Labels["severity"] != "ticket" || g.Labels["slo"] != "latency" || len(g.Labels) != 3 {
					t.Errorf("guard %d: labels %v, want severity ticket, slo latency, threshold %s", i, g.Labels, th)
				}
				for _, w := range []string{"threshold of " + th + " s", "exporter.Config the objectives file (ObjectivesFile)", "add " + th + " to its Boundaries"} {
					if !strings.Contains(g.Annotations["summary"], w) {
						t.Errorf("guard %d: the summary %q does not say %q", i, g.Annotations["summary"], w)
					}
				}
			}
			if !strings.Contains(header, "# "+guardAlert+" fires") {
				t.Errorf("the header does not mention %s:\n%s", guardAlert, header)
			}
		})
	}
	for _, v := range nativeVariants(t) {
		t.Run(v.name+"/native", func(t *testing.T) {
			header, guards := guardRules(t, v.c)
			if len(guards) != 0 {
				t.Errorf("%d guard alerts for native histograms, want none", len(guards))
			}
			if !strings.Contains(header, "no "+guardAlert+" alerts (a native histogram has no le buckets)") {
				t.Errorf("the header does not say why there is no %s:\n%s", guardAlert, header)
			}
		})
	}
}
