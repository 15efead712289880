package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// TestObjectivesFromTheEnvironment runs the demo with OTELRED_OBJECTIVES
// naming a file of its own: its threshold, not the embedded slo.yaml's,
// becomes a bucket of the scrape.
func TestObjectivesFromTheEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slo.json")
	if err := os.WriteFile(path, []byte(`{"latency": {"threshold": 0.7, "target": 0.99}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTELRED_OBJECTIVES", path)
	d := startDemo(t, options{})
	want := append(views.Default(otelred.Semconv), 0.7)
	slices.Sort(want)
	if !slices.Equal(d.boundaries, want) {
		t.Errorf("boundaries %v, want the defaults with 0.7 (and not slo.yaml's 0.3), %v", d.boundaries, want)
	}
	c := newClient(t)
	get(t, c, d.url()+"/hello/ada")
	resp, err := c.Get(d.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `le="0.7"`) || strings.Contains(string(body), `le="0.3"`) {
		t.Errorf("the scrape lacks a 0.7 bucket, or has slo.yaml's 0.3:\n%s", body)
	}
}
