package redgen

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// exampleConfig is the example's configuration, read from example/slo.yaml.
func exampleConfig(t *testing.T) Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "example", "slo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var o exporter.Objectives
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	return Config{Objectives: o}
}

// promtoolBin is the promtool of one Prometheus version.
type promtoolBin struct{ name, path string }

// promtools returns the promtool of every Prometheus version the tests run
// against (testsupport.Prometheuses): 2.42 and 3.16. A missing one skips
// the test, or fails it when OTELRED_REQUIRE_PROMETHEUS=1.
func promtools(t *testing.T) []promtoolBin {
	t.Helper()
	var bins []promtoolBin
	for _, p := range testsupport.Prometheuses() {
		bins = append(bins, promtoolBin{p.Name, p.Tool(t, "promtool")})
	}
	return bins
}

// runPromtool runs the promtool of every Prometheus version with args, and
// returns their output, each after the version's name, with an error if
// any of them failed.
func runPromtool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	var errs []error
	for _, p := range promtools(t) {
		b, err := exec.Command(p.path, args...).CombinedOutput()
		fmt.Fprintf(&out, "%s:\n%s", p.name, b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return out.String(), errors.Join(errs...)
}

// variants are configurations that exercise each naming choice.
func variants(t *testing.T) []struct {
	name string
	c    Config
} {
	ex := exampleConfig(t)
	withService := ex
	withService.ServiceLabel, withService.Service, withService.Namespace = "service_name", "checkout", "shop"
	classic := ex
	classic.Profile = otelred.Classic
	classicNS := classic
	classicNS.Namespace, classicNS.Service = "shop", "checkout"
	perRoute := Config{Objectives: exporter.Objectives{
		Window: exporter.Window(28 * 24 * 3600 * 1e9),
		Routes: []exporter.RouteObjective{
			{Route: "/users/{id}", Availability: 0.99, Latency: &exporter.LatencyObjective{Threshold: 1, Target: 0.9}},
			{Route: "/search", Availability: 0.995},
		},
	}}
	return []struct {
		name string
		c    Config
	}{
		{"semconv", ex},
		{"semconv with a namespace, service_name and one service", withService},
		{"classic", classic},
		{"classic with a namespace and one service", classicNS},
		{"route objectives only, with an integer threshold", perRoute},
	}
}

// writeRules generates the rules and tests of c into a temporary directory.
func writeRules(t *testing.T, c Config) (rules, tests string) {
	t.Helper()
	dir := t.TempDir()
	rules, tests = filepath.Join(dir, "rules.yml"), filepath.Join(dir, "rules_test.yml")
	r, err := Rules(c)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := Tests(c, "rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rules, r, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tests, ts, 0o644); err != nil {
		t.Fatal(err)
	}
	return rules, tests
}

func TestCommittedRulesPassPromtool(t *testing.T) {
	dir := filepath.Join("..", "..", "example", "prometheus")
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rules files in %s: %v", dir, err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.yml") {
			t.Run("test rules "+filepath.Base(f), func(t *testing.T) {
				if out, err := runPromtool(t, "test", "rules", f); err != nil {
					t.Fatalf("promtool test rules %s: %v\n%s", f, err, out)
				}
			})
			continue
		}
		if strings.HasPrefix(filepath.Base(f), "prometheus") {
			continue // a Prometheus configuration, not a rules file
		}
		t.Run("check rules "+filepath.Base(f), func(t *testing.T) {
			if out, err := runPromtool(t, "check", "rules", "--lint-fatal", f); err != nil {
				t.Fatalf("promtool check rules --lint-fatal %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestGeneratedRulesPassPromtool lints the rules of every variant, explicit
// and native, and runs their unit tests.
func TestGeneratedRulesPassPromtool(t *testing.T) {
	promtools(t)
	for _, v := range slices.Concat(variants(t), nativeVariants(t)) {
		t.Run(fmt.Sprintf("%s/native=%v", v.name, v.c.Native), func(t *testing.T) {
			t.Parallel()
			rules, tests := writeRules(t, v.c)
			if out, err := runPromtool(t, "check", "rules", "--lint-fatal", rules); err != nil {
				t.Fatalf("promtool check rules --lint-fatal: %v\n%s", err, out)
			}
			if out, err := runPromtool(t, "test", "rules", tests); err != nil {
				t.Fatalf("promtool test rules: %v\n%s", err, out)
			}
		})
	}
}

// The unit tests must fail when an alert's threshold is off by 10% either
// way: otherwise they would pass for any threshold.
func TestPromtoolTestsCatchWrongThresholds(t *testing.T) {
	bins := promtools(t)
	factorRE := regexp.MustCompile(`> \(([0-9.]+) \* `)
	for _, tc := range []struct {
		name  string
		scale float64
		want  string
	}{
		{"thresholds 10% too high miss the alerts at 1.05 times", 1.1, "fires a"},
		{"thresholds 10% too low fire at 0.95 times", 0.9, "fires nothing"},
	} {
		for _, native := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/native=%v", tc.name, native), func(t *testing.T) {
				t.Parallel()
				c := exampleConfig(t)
				c.Native = native
				rules, tests := writeRules(t, c)
				data, err := os.ReadFile(rules)
				if err != nil {
					t.Fatal(err)
				}
				bad := factorRE.ReplaceAllStringFunc(string(data), func(s string) string {
					f := factorRE.FindStringSubmatch(s)[1]
					v, _ := strconv.ParseFloat(f, 64)
					return "> (" + num(v*tc.scale) + " * "
				})
				if err := os.WriteFile(rules, []byte(bad), 0o644); err != nil {
					t.Fatal(err)
				}
				for _, p := range bins {
					b, err := exec.Command(p.path, "test", "rules", tests).CombinedOutput()
					out := string(b)
					if err == nil {
						t.Fatalf("%s: promtool test rules passed with thresholds scaled by %v", p.name, tc.scale)
					}
					// Every burn-rate scenario of that kind must fail: 4
					// window pairs for each of the 3 objectives.
					if n := strings.Count(out, "name: ") - strings.Count(out, "name: "+"requests that matched"); n < 12 || !strings.Contains(out, tc.want) {
						t.Fatalf("%s: %d failed scenarios, want 12 or more that %s:\n%s", p.name, n, tc.want, out)
					}
				}
			})
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ex := exampleConfig(t)
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr error
		inErr   string
	}{
		{"a threshold that is not a boundary", func(c *Config) { c.Boundaries = views.Default(otelred.Semconv) },
			exporter.ErrInvalidObjective, "latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5)"},
		{"invalid boundaries", func(c *Config) { c.Boundaries = []float64{0.5, 0.3} }, views.ErrInvalidBoundaries, "boundaries[1] = 0.3"},
		{"an invalid objective", func(c *Config) { c.Objectives.Availability = 2 }, exporter.ErrInvalidObjective, "availability = 2 is not in (0, 1)"},
		{"a namespace with a dash", func(c *Config) { c.Namespace = "my-app" }, ErrInvalidConfig, `Namespace = "my-app"`},
		{"a service label with a dot", func(c *Config) { c.ServiceLabel = "service.name" }, ErrInvalidConfig, `ServiceLabel = "service.name" is not a Prometheus label name`},
		{"an unknown profile", func(c *Config) { c.Profile = 9 }, ErrInvalidConfig, "Profile = Profile(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ex
			c.Objectives.Routes = append([]exporter.RouteObjective(nil), ex.Objectives.Routes...)
			tt.mutate(&c)
			for what, f := range map[string]func(Config) ([]byte, error){
				"Rules":     Rules,
				"Dashboard": Dashboard,
				"Tests":     func(c Config) ([]byte, error) { return Tests(c, "rules.yml") },
			} {
				_, err := f(c)
				if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.inErr) {
					t.Errorf("%s() = %v, want an error wrapping ErrInvalidConfig and %v, containing %q", what, err, tt.wantErr, tt.inErr)
				}
			}
		})
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	for _, v := range variants(t) {
		for what, f := range map[string]func(Config) ([]byte, error){
			"Rules":     Rules,
			"Dashboard": Dashboard,
			"Tests":     func(c Config) ([]byte, error) { return Tests(c, "rules.yml") },
		} {
			a, err := f(v.c)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if b, _ := f(v.c); !bytes.Equal(a, b) {
					t.Fatalf("%s(%s) differs between runs", what, v.name)
				}
			}
		}
	}
}

func TestQueries(t *testing.T) {
	c := exampleConfig(t)
	qs, err := Queries(c, Vars{Service: "example", Route: "/hello/{name}"})
	if err != nil {
		t.Fatal(err)
	}
	var rules, panels int
	bySignal := map[string]int{}
	for _, q := range qs {
		if q.Panel {
			panels++
		} else {
			rules++
		}
		bySignal[q.Signal]++
		if strings.Contains(q.Expr, "$") {
			t.Errorf("%s: a variable is left: %s", q.Source, q.Expr)
		}
		if q.Panel && strings.Contains(q.Expr, `=~"`) && !strings.Contains(q.Expr, `job=~"example"`) {
			t.Errorf("%s: $service not substituted: %s", q.Source, q.Expr)
		}
	}
	// 5 RED rules, 3 for the fleet, 3 for each of the client, the
	// operations and gRPC, 7 windows for 3 objectives, 2 alerts for each,
	// and a guard alert for each of the 2 latency thresholds.
	if want := 5 + 3 + 3*3 + 7*3 + 2*3 + 2; rules != want {
		t.Errorf("%d rule expressions, want %d", rules, want)
	}
	// Rate, errors, 3 percentiles, the fleet's 3, in-flight, 3 SLIs, 3
	// budgets, 4 burn rates for availability and 8 for latency; rate,
	// errors and 2 percentiles for each of the client, the operations and
	// gRPC, and in-flight for the last two; goroutines, memory (2) and
	// allocations.
	if want := 1 + 1 + 3 + 3 + 1 + 3 + 3 + 4 + 8 + 4*3 + 2 + 4; panels != want {
		t.Errorf("%d panel expressions, want %d", panels, want)
	}
	wantSignals := map[string]int{
		signalServer:    5 + 3 + 7*3 + 2*3 + 2 + 1 + 1 + 3 + 3 + 1 + 3 + 3 + 4 + 8,
		signalClient:    3 + 4,
		signalOperation: 3 + 4 + 1,
		SignalGRPC:      3 + 4 + 1,
		signalRuntime:   4,
	}
	if !maps.Equal(bySignal, wantSignals) {
		t.Errorf("expressions by signal: %v, want %v", bySignal, wantSignals)
	}
	var rate string
	for _, q := range qs {
		if strings.HasPrefix(q.Source, "panel 2 Request rate") {
			rate = q.Expr
		}
	}
	// The overflow series and the requests that matched no route (no
	// route label) are given routes that say what they are.
	want := `label_replace(
  label_replace(
    sum by (job, http_route) (rate(http_server_request_duration_seconds_count{job=~"example", http_route=~"/hello/\\{name\\}"}[1m])),
    "http_route", "overflow (past the cardinality limit)", "http_route", "overflow"
  ),
  "http_route", "(no route)", "http_route", ""
)`
	if rate != want {
		t.Errorf("request rate panel:\n got %s\nwant %s", rate, want)
	}
	for source, want := range map[string]string{
		"Client rate":                    `sum by (job, server_address) (rate(http_client_request_duration_seconds_count{job=~"example"}[1m]))`,
		"Operation rate":                 `sum by (job, operation_name) (rate(operation_duration_seconds_count{job=~"example"}[1m]))`,
		"gRPC rate":                      `sum by (job, rpc_method) (rate(rpc_server_call_duration_seconds_count{job=~"example"}[1m]))`,
		"gRPC calls in flight":           `sum by (job, rpc_method) (rpc_server_active_calls{job=~"example"})`,
		"Goroutines":                     `sum by (job, instance) (go_goroutines{job=~"example"})`,
		"Instances with the most errors": `topk by (job) (5, otelred_instance:http_errors:ratio_rate5m{job=~"example", instance=~".*"})`,
	} {
		var got []string
		for _, q := range qs {
			if strings.Contains(q.Source, " "+source+", target") {
				got = append(got, q.Expr)
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s panel: %q, want [%s]", source, got, want)
		}
	}

	all, err := Queries(c, Vars{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		if q.Panel && strings.Contains(q.Expr, "=~") && !strings.Contains(q.Expr, `=~".*"`) {
			t.Errorf("%s: the zero Vars should select every service and route: %s", q.Source, q.Expr)
		}
	}
}

func TestRegexValue(t *testing.T) {
	for in, want := range map[string]string{
		"":            ".*",
		"example":     "example",
		"/users/{id}": `/users/\\{id\\}`,
		"a.b":         `a\\.b`,
	} {
		if got := regexValue(in); got != want {
			t.Errorf("regexValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	ws, err := Warnings(exampleConfig(t))
	if err != nil || len(ws) != 0 {
		t.Fatalf("Warnings(example) = %q, %v; want none", ws, err)
	}
	c := Config{Objectives: exporter.Objectives{Availability: 0.9}}
	ws, err = Warnings(c)
	if err != nil {
		t.Fatal(err)
	}
	want := "objective availability, all routes (90%): its page alert at 14.4 times the sustainable rate over 1h and 5m can never fire, as a target of 90% burns its budget at most 10 times that fast"
	if len(ws) != 1 || ws[0] != want {
		t.Fatalf("Warnings(90%%) = %q, want [%q]", ws, want)
	}
}

// dashboardRules is a rules file that records every dashboard query of c,
// with its variables substituted, for promtool to check.
func dashboardRules(t *testing.T, c Config) []byte {
	t.Helper()
	qs, err := Queries(c, Vars{Service: "checkout", Route: "/users/{id}"})
	if err != nil {
		t.Fatal(err)
	}
	f := ruleFile{Groups: []ruleGroup{{Name: "dashboard"}}}
	for i, q := range qs {
		if q.Panel {
			f.Groups[0].Rules = append(f.Groups[0].Rules, rule{Record: "dashboard:query:" + strconv.Itoa(i), Expr: q.Expr})
		}
	}
	data, err := encodeYAML("", f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Every dashboard query, variables substituted, must be valid PromQL:
// promtool parses each as the expression of a recording rule.
func TestDashboardQueriesParse(t *testing.T) {
	promtools(t)
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			data := dashboardRules(t, v.c)
			path := filepath.Join(t.TempDir(), "dashboard.yml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := runPromtool(t, "check", "rules", path); err != nil {
				t.Fatalf("promtool check rules: %v\n%s", err, out)
			}
		})
	}
}
