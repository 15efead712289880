package exporter_test

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// objectivesYAML and objectivesJSON hold the same objectives: latency
// thresholds of 0.3 s (global) and 0.45 s (/slow), neither a default
// boundary of either profile, and 0.5 s (/users/{id}), one of both.
const (
	objectivesYAML = `availability: 0.999
latency: {threshold: 0.3, target: 0.99}
routes:
  - route: /slow
    latency: {threshold: 0.45, target: 0.95}
  - route: /users/{id}
    latency: {threshold: 0.5, target: 0.9}
`
	objectivesJSON = `{"availability": 0.999, "latency": {"threshold": 0.3, "target": 0.99},
 "routes": [{"route": "/slow", "latency": {"threshold": 0.45, "target": 0.95}},
            {"route": "/users/{id}", "latency": {"threshold": 0.5, "target": 0.9}}]}`
)

// thresholds are the latency thresholds of objectivesYAML.
var thresholds = []float64{0.3, 0.45, 0.5}

// writeFile writes content to a file named name in a temporary directory
// and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// durationName is the Prometheus name of profile p's server duration
// histogram.
func durationName(p otelred.Profile) string {
	if p == otelred.Classic {
		return "http_request_duration_seconds"
	}
	return "http_server_request_duration_seconds"
}

// scrapedBounds serves one request through a profile-p middleware on
// provider and returns the finite bucket boundaries of the histogram
// family scraped from its handler. Every series of the family must have
// the same ones.
func scrapedBounds(t *testing.T, provider *exporter.Provider, p otelred.Profile, family string) []float64 {
	t.Helper()
	if code := serve(context.Background(), app(t, provider, p), "/users/1"); code != 200 {
		t.Fatalf("GET /users/1: %d", code)
	}
	_, body := scrape(t, provider.Handler(), "")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%s", err, body)
	}
	f := families[family]
	if len(f.GetMetric()) == 0 {
		t.Fatalf("the scrape has no %s series:\n%s", family, body)
	}
	var bounds []float64
	for i, m := range f.GetMetric() {
		var b []float64
		for _, bucket := range m.GetHistogram().GetBucket() {
			if ub := bucket.GetUpperBound(); !math.IsInf(ub, 1) {
				b = append(b, ub)
			}
		}
		if i > 0 && !slices.Equal(b, bounds) {
			t.Fatalf("%s: series %d has the buckets %v, series 0 %v", family, i, b, bounds)
		}
		bounds = b
	}
	return bounds
}

// withThresholds returns base with thresholds added, sorted, computed
// here, not with views, so that the test checks the derivation.
func withThresholds(base []float64, ts ...float64) []float64 {
	out := append(slices.Clone(base), ts...)
	slices.Sort(out)
	return slices.Compact(out)
}

// TestObjectivesFileDerivesBoundaries sets the objectives file through
// the field and the variable, in YAML and JSON, for each profile: the
// scrape's buckets are then exactly the profile's defaults plus every
// threshold.
func TestObjectivesFileDerivesBoundaries(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		for _, format := range []struct{ name, content string }{{"slo.yaml", objectivesYAML}, {"slo.json", objectivesJSON}} {
			for _, source := range []string{"the field", "the variable"} {
				t.Run(p.String()+", "+format.name+" in "+source, func(t *testing.T) {
					clearEnv(t)
					path := writeFile(t, format.name, format.content)
					cfg := exporter.Config{Naming: p.String(), ServiceName: "shop"}
					if source == "the field" {
						cfg.ObjectivesFile = path
					} else {
						t.Setenv("OTELRED_OBJECTIVES", path)
					}
					provider := setup(t, cfg)
					got := scrapedBounds(t, provider, p, durationName(p))
					want := withThresholds(views.Default(p), thresholds...)
					if !slices.Equal(got, want) {
						t.Errorf("buckets %v, want %v (the defaults with %v)", got, want, thresholds)
					}
					if b := provider.Boundaries(p); !slices.Equal(b, want) {
						t.Errorf("Provider.Boundaries(%v) = %v, want the scrape's %v", p, b, want)
					}
					for _, th := range thresholds {
						if !slices.Contains(got, th) {
							t.Errorf("threshold %v is not exactly a boundary of %v", th, got)
						}
					}
				})
			}
		}
	}
}

// TestObjectivesInCode gives Setup the objectives as a value: the same
// derivation as from a file.
func TestObjectivesInCode(t *testing.T) {
	clearEnv(t)
	o, err := exporter.ParseObjectives([]byte(objectivesYAML))
	if err != nil {
		t.Fatal(err)
	}
	got := scrapedBounds(t, setup(t, exporter.Config{Objectives: &o}), otelred.Semconv, durationName(otelred.Semconv))
	if want := withThresholds(views.Default(otelred.Semconv), thresholds...); !slices.Equal(got, want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
}

// TestObjectivesCheckGivenBoundaries: with Boundaries given, the
// objectives' thresholds are checked against them, not added. Boundaries
// holding every threshold are the scrape's buckets as they are; a
// threshold missing is an error naming it, the source and the file.
func TestObjectivesCheckGivenBoundaries(t *testing.T) {
	t.Run("boundaries holding every threshold are used as given", func(t *testing.T) {
		clearEnv(t)
		given := []float64{0.1, 0.3, 0.45, 0.5, 2}
		cfg := exporter.Config{Boundaries: given, ObjectivesFile: writeFile(t, "slo.yaml", objectivesYAML)}
		if got := scrapedBounds(t, setup(t, cfg), otelred.Semconv, durationName(otelred.Semconv)); !slices.Equal(got, given) {
			t.Errorf("buckets %v, want the given %v", got, given)
		}
	})
	for _, tc := range []struct {
		name       string
		boundaries []float64
		want       []string
	}{
		{"the global threshold missing", []float64{0.1, 0.45, 0.5, 1}, []string{"latency.threshold = 0.3", "between 0.1 and 0.45"}},
		{"a route's threshold missing", []float64{0.1, 0.3, 0.5, 1}, []string{"routes[0].latency.threshold = 0.45", "between 0.3 and 0.5"}},
	} {
		for _, source := range []string{"ObjectivesFile", "OTELRED_OBJECTIVES"} {
			t.Run(tc.name+", from "+source, func(t *testing.T) {
				clearEnv(t)
				path := writeFile(t, "slo.yaml", objectivesYAML)
				cfg := exporter.Config{Boundaries: tc.boundaries}
				if source == "ObjectivesFile" {
					cfg.ObjectivesFile = path
				} else {
					t.Setenv("OTELRED_OBJECTIVES", path)
				}
				_, err := exporter.Setup(context.Background(), cfg)
				if !errors.Is(err, exporter.ErrInvalidConfig) || !errors.Is(err, exporter.ErrInvalidObjective) {
					t.Fatalf("Setup: %v; want an error wrapping ErrInvalidConfig and exporter.ErrInvalidObjective", err)
				}
				for _, w := range append(tc.want, source, path, "Boundaries") {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error %q does not name %q", err, w)
					}
				}
			})
		}
	}
	t.Run("objectives in code are checked by Validate", func(t *testing.T) {
		o, err := exporter.ParseObjectives([]byte(objectivesYAML))
		if err != nil {
			t.Fatal(err)
		}
		err = exporter.Config{Boundaries: []float64{0.1, 0.5}, Objectives: &o}.Validate()
		if !errors.Is(err, exporter.ErrInvalidConfig) || !strings.Contains(err.Error(), "latency.threshold = 0.3") || !strings.Contains(err.Error(), "Objectives") {
			t.Errorf("Validate: %v; want the missing threshold 0.3 of Objectives named", err)
		}
	})
}

// TestObjectivesFileErrors: a file that cannot be read or decoded, or
// that holds a bad objective, is an error wrapping ErrInvalidConfig that
// names the field or the variable and the file; nothing is left running.
func TestObjectivesFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string // "" for a file that does not exist
		wantIs  error
		want    string
	}{
		{"a file that does not exist", "", fs.ErrNotExist, "no such file"},
		{"an unknown key", "availability: 0.999\nlatancy: {threshold: 0.3, target: 0.99}\n", exporter.ErrInvalidObjective, "latancy"},
		{"a target out of range", "latency: {threshold: 0.3, target: 1.5}\n", exporter.ErrInvalidObjective, "latency.target = 1.5"},
		{"JSON of the wrong type", `{"latency": {"threshold": "fast", "target": 0.99}}`, exporter.ErrInvalidObjective, "fast"},
		{"two documents", "availability: 0.999\n---\navailability: 0.99\n", exporter.ErrInvalidObjective, "more than one document"},
	} {
		for _, source := range []string{"ObjectivesFile", "OTELRED_OBJECTIVES"} {
			t.Run(tc.name+", from "+source, func(t *testing.T) {
				clearEnv(t)
				path := filepath.Join(t.TempDir(), "slo.yaml")
				if tc.content != "" {
					path = writeFile(t, "slo.yaml", tc.content)
				}
				cfg := exporter.Config{}
				if source == "ObjectivesFile" {
					cfg.ObjectivesFile = path
				} else {
					t.Setenv("OTELRED_OBJECTIVES", path)
				}
				_, err := exporter.Setup(context.Background(), cfg)
				if !errors.Is(err, exporter.ErrInvalidConfig) || !errors.Is(err, tc.wantIs) {
					t.Fatalf("Setup: %v; want an error wrapping ErrInvalidConfig and %v", err, tc.wantIs)
				}
				for _, w := range []string{source, path, tc.want} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("the error %q does not name %q", err, w)
					}
				}
			})
		}
	}
	t.Run("both ObjectivesFile and Objectives", func(t *testing.T) {
		err := exporter.Config{ObjectivesFile: "slo.yaml", Objectives: &exporter.Objectives{Availability: 0.99}}.Validate()
		if !errors.Is(err, exporter.ErrInvalidConfig) || !strings.Contains(err.Error(), "ObjectivesFile") || !strings.Contains(err.Error(), "Objectives and") {
			t.Errorf("Validate: %v; want both fields named", err)
		}
	})
	t.Run("Objectives win over the variable", func(t *testing.T) {
		clearEnv(t)
		t.Setenv("OTELRED_OBJECTIVES", filepath.Join(t.TempDir(), "missing.yaml"))
		o := exporter.Objectives{Latency: &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99}}
		got := scrapedBounds(t, setup(t, exporter.Config{Objectives: &o}), otelred.Semconv, durationName(otelred.Semconv))
		if want := withThresholds(views.Default(otelred.Semconv), 0.3); !slices.Equal(got, want) {
			t.Errorf("buckets %v, want %v", got, want)
		}
	})
}

// TestObjectivesWithNativeHistograms: native histograms have no
// boundaries to derive; the file is still read and checked.
func TestObjectivesWithNativeHistograms(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{Histogram: "native", ObjectivesFile: writeFile(t, "slo.yaml", objectivesYAML)})
	if got := scrapedBounds(t, p, otelred.Semconv, durationName(otelred.Semconv)); len(got) != 0 {
		t.Errorf("a native histogram scraped as text has the finite buckets %v, want none", got)
	}
	if b := p.Boundaries(otelred.Semconv); b != nil {
		t.Errorf("Provider.Boundaries with native histograms = %v, want nil", b)
	}
	_, err := exporter.Setup(context.Background(), exporter.Config{Histogram: "native", ObjectivesFile: writeFile(t, "slo.yaml", "latency: {threshold: -1, target: 0.99}\n")})
	if !errors.Is(err, exporter.ErrInvalidObjective) || !strings.Contains(err.Error(), "ObjectivesFile") {
		t.Errorf("Setup with a bad file and native histograms: %v; want the bad threshold reported", err)
	}
}

// TestBoundariesApplyToEitherProfile: Boundaries land on the duration
// histogram of whichever profile the middleware records with, whatever
// Naming says, and without Boundaries each profile keeps its own
// defaults.
func TestBoundariesApplyToEitherProfile(t *testing.T) {
	given := []float64{0.3, 1}
	for _, tc := range []struct {
		name       string
		naming     string
		boundaries []float64
		middleware otelred.Profile
		want       []float64
	}{
		{"Naming classic with Boundaries, a Semconv middleware", "classic", given, otelred.Semconv, given},
		{"Naming semconv with Boundaries, a Classic middleware", "semconv", given, otelred.Classic, given},
		{"Naming left out with Boundaries, a Classic middleware", "", given, otelred.Classic, given},
		{"Naming classic without Boundaries, a Semconv middleware", "classic", nil, otelred.Semconv, views.Default(otelred.Semconv)},
		{"Naming semconv without Boundaries, a Classic middleware", "semconv", nil, otelred.Classic, views.Default(otelred.Classic)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			p := setup(t, exporter.Config{Naming: tc.naming, Boundaries: tc.boundaries, ServiceName: "shop"})
			if got := scrapedBounds(t, p, tc.middleware, durationName(tc.middleware)); !slices.Equal(got, tc.want) {
				t.Errorf("buckets %v, want %v", got, tc.want)
			}
			if b := p.Boundaries(tc.middleware); !slices.Equal(b, tc.want) {
				t.Errorf("Provider.Boundaries(%v) = %v, want %v", tc.middleware, b, tc.want)
			}
		})
	}
}
