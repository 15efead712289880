package redgen

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/views"
)

// nativeVariants are the variants with native histograms.
func nativeVariants(t *testing.T) []struct {
	name string
	c    Config
} {
	vs := variants(t)
	for i := range vs {
		vs[i].c.Native = true
	}
	return vs
}

// TestNativeRulesPassPromtoolLint lints the rules of every variant in
// native mode, and checks that every dashboard query parses.
func TestNativeRulesPassPromtoolLint(t *testing.T) {
	promtools(t)
	for _, v := range nativeVariants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			r, err := Rules(v.c)
			if err != nil {
				t.Fatal(err)
			}
			d := dashboardRules(t, v.c)
			dir := t.TempDir()
			for name, data := range map[string][]byte{"rules.yml": r, "dashboard.yml": d} {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := runPromtool(t, "check", "rules", "--lint-fatal", path); err != nil {
					t.Fatalf("promtool check rules --lint-fatal %s: %v\n%s", name, err, out)
				}
			}
		})
	}
}

// classicSeries matches a selector of a native histogram's classic series,
// or an le matcher: neither exists with native histograms.
var classicSeries = regexp.MustCompile(`_seconds_(bucket|count|sum)\b|\ble[=!~]`)

// TestNativeQueriesReadTheHistogramsWithHistogramFunctions: in native
// mode, no expression reads a classic bucket, count or sum series, every
// duration quantile is a histogram_quantile without le, every latency SLI
// a histogram_fraction, and every rate of a native histogram a
// histogram_count; Classic keeps its request and error counters.
func TestNativeQueriesReadTheHistogramsWithHistogramFunctions(t *testing.T) {
	for _, v := range nativeVariants(t) {
		t.Run(v.name, func(t *testing.T) {
			qs, err := Queries(v.c, Vars{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := v.c.plan()
			if err != nil {
				t.Fatal(err)
			}
			var fractions, quantiles, counts int
			for _, q := range qs {
				if classicSeries.MatchString(q.Expr) {
					t.Errorf("%s reads a classic series: %s", q.Source, q.Expr)
				}
				fractions += strings.Count(q.Expr, "histogram_fraction(0, ")
				quantiles += strings.Count(q.Expr, "histogram_quantile(")
				counts += strings.Count(q.Expr, "histogram_count(rate(")
				// A rate of a native histogram is always inside
				// histogram_count, histogram_quantile or histogram_fraction.
				for _, h := range []string{m.n.bucket, m.client.bucket, m.ops.bucket, m.grpc.bucket} {
					for _, i := range indexAll(q.Expr, "rate("+h) {
						before := q.Expr[:i]
						if !strings.HasSuffix(before, "histogram_count(") && !strings.HasSuffix(before, "(") {
							t.Errorf("%s: a bare rate of %s: %s", q.Source, h, q.Expr)
						}
					}
				}
			}
			if fractions == 0 && len(m.latency) > 0 || quantiles == 0 || counts == 0 {
				t.Errorf("%d histogram_fraction, %d histogram_quantile, %d histogram_count: want each at least once", fractions, quantiles, counts)
			}
			if m.cfg.Profile.Names().Requests != "" && (m.n.requests == m.n.bucket || !strings.HasSuffix(m.n.requests, "_total")) {
				t.Errorf("classic requests %q, want its own counter", m.n.requests)
			}
		})
	}
}

func indexAll(s, sub string) []int {
	var is []int
	for i := 0; ; {
		j := strings.Index(s[i:], sub)
		if j < 0 {
			return is
		}
		is = append(is, i+j)
		i += j + 1
	}
}

func TestNativeConfig(t *testing.T) {
	c := exampleConfig(t)
	c.Native = true
	t.Run("a threshold need not be a boundary", func(t *testing.T) {
		c := c
		c.Objectives.Latency = &exporter.LatencyObjective{Threshold: 0.123, Target: 0.99}
		r, err := Rules(c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r), "histogram_fraction(0, 0.123, ") {
			t.Errorf("no histogram_fraction at 0.123 in\n%s", r)
		}
	})
	t.Run("boundaries are refused", func(t *testing.T) {
		c := c
		c.Boundaries = views.Default(c.Profile)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "native histograms have no bucket boundaries") {
			t.Errorf("Validate() = %v, want an error about the boundaries", err)
		}
	})
	t.Run("unit tests feed the alerts the recorded SLIs", func(t *testing.T) {
		b, err := Tests(c, "rules.yml")
		if err != nil {
			t.Fatal(err)
		}
		var f testFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		// 4 window pairs at 1.05 and 0.95 times their burn rate, for each
		// of the example's 3 objectives.
		if len(f.Tests) != 24 {
			t.Errorf("%d scenarios, want 24", len(f.Tests))
		}
		for _, g := range f.Tests {
			if len(g.InputSeries) != len(sliWindows) || len(g.PromqlExprTest) != 0 {
				t.Errorf("%s: %d input series and %d expression tests, want one SLI per window and none", g.Name, len(g.InputSeries), len(g.PromqlExprTest))
			}
			for _, in := range g.InputSeries {
				if !strings.HasPrefix(in.Series, "otelred:sli_") {
					t.Errorf("%s: input %s is not a recorded SLI", g.Name, in.Series)
				}
			}
		}
	})
}
