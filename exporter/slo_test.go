package exporter_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// exampleObjectives are the objectives of the example service, as in
// example/slo.yaml.
func exampleObjectives() exporter.Objectives {
	return exporter.Objectives{
		Availability: 0.999,
		Latency:      &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99},
		Routes: []exporter.RouteObjective{
			{Route: "/slow", Latency: &exporter.LatencyObjective{Threshold: 0.5, Target: 0.95}},
		},
	}
}

func TestObjectivesValidate(t *testing.T) {
	lat := func(threshold, target float64) *exporter.LatencyObjective {
		return &exporter.LatencyObjective{Threshold: threshold, Target: target}
	}
	tests := []struct {
		name      string
		o         exporter.Objectives
		wantInErr string // empty: valid
	}{
		{"the zero value has no objectives and is valid", exporter.Objectives{}, ""},
		{"the example's objectives are valid", exampleObjectives(), ""},
		{"a route may set only an availability objective", exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "/users/{id}", Availability: 0.99}}}, ""},
		{"an availability of 1 leaves no budget", exporter.Objectives{Availability: 1}, "availability = 1 is not in (0, 1): a target of 1 leaves no error budget"},
		{"an availability above 1 is rejected", exporter.Objectives{Availability: 99.9}, "availability = 99.9 is not in (0, 1)"},
		{"a negative availability is rejected", exporter.Objectives{Availability: -0.5}, "availability = -0.5 is not in (0, 1)"},
		{"a NaN availability is rejected", exporter.Objectives{Availability: math.NaN()}, "availability = NaN is not in (0, 1)"},
		{"a latency objective needs a target", exporter.Objectives{Latency: lat(0.3, 0)}, "latency.target = 0 is not in (0, 1)"},
		{"a latency objective needs a threshold", exporter.Objectives{Latency: lat(0, 0.99)}, "latency.threshold = 0 is not greater than 0 s"},
		{"a negative threshold is rejected", exporter.Objectives{Latency: lat(-1, 0.99)}, "latency.threshold = -1 is not greater than 0 s"},
		{"an infinite threshold is rejected", exporter.Objectives{Latency: lat(math.Inf(1), 0.99)}, "latency.threshold = +Inf is not a finite number of seconds"},
		{"a negative window is rejected", exporter.Objectives{Window: exporter.Window(-time.Hour)}, "window = -1h0m0s is negative"},
		{"a window must be whole minutes", exporter.Objectives{Window: exporter.Window(90 * time.Second)}, "window = 1m30s is not a whole number of minutes"},
		{
			"a route target names the route's index",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "/a", Availability: 0.9}, {Route: "/b", Latency: lat(0.3, 1.5)}}},
			"routes[1].latency.target = 1.5 is not in (0, 1)",
		},
		{"a route must be named", exporter.Objectives{Routes: []exporter.RouteObjective{{Availability: 0.9}}}, "routes[0].route is empty"},
		{
			"a ServeMux pattern is turned down with its template",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "GET /slow", Availability: 0.9}}},
			`routes[0].route = "GET /slow" is a ServeMux pattern: write its path template "/slow"`,
		},
		{
			"a host is turned down with the template",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "example.com/slow", Availability: 0.9}}},
			`routes[0].route = "example.com/slow" has a host: write its path template "/slow"`,
		},
		{
			"a route must start with a slash",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "slow", Availability: 0.9}}},
			`routes[0].route = "slow" is not a path template starting with "/"`,
		},
		{
			"unmatched takes no objective",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: otelred.Unmatched, Availability: 0.9}}},
			`routes[0].route = "unmatched" is the value otelred records for requests without a route of their own`,
		},
		{
			"overflow takes no objective",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: otelred.Overflow, Availability: 0.9}}},
			`routes[0].route = "overflow" is the value otelred records`,
		},
		{
			"a route is listed once",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "/a", Availability: 0.9}, {Route: "/b", Availability: 0.9}, {Route: "/a", Availability: 0.99}}},
			`routes[2].route = "/a" is a duplicate of routes[0].route`,
		},
		{
			"a route sets at least one objective",
			exporter.Objectives{Routes: []exporter.RouteObjective{{Route: "/a"}}},
			`routes[0] (route "/a") sets no objective`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.wantInErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, exporter.ErrInvalidObjective) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidObjective", err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.wantInErr)
			}
		})
	}
}

func TestObjectivesRoute(t *testing.T) {
	o := exporter.Objectives{
		Availability: 0.999,
		Latency:      &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99},
		Routes: []exporter.RouteObjective{
			{Route: "/slow", Latency: &exporter.LatencyObjective{Threshold: 0.5, Target: 0.95}},
			{Route: "/batch", Availability: 0.99},
		},
	}
	tests := []struct {
		name  string
		route string
		want  exporter.RouteObjective
	}{
		{"a route without objectives gets the global ones", "/hello/{name}", exporter.RouteObjective{Route: "/hello/{name}", Availability: 0.999, Latency: o.Latency}},
		{"a latency override keeps the global availability", "/slow", exporter.RouteObjective{Route: "/slow", Availability: 0.999, Latency: o.Routes[0].Latency}},
		{"an availability override keeps the global latency", "/batch", exporter.RouteObjective{Route: "/batch", Availability: 0.99, Latency: o.Latency}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := o.Route(tt.route)
			if got.Route != tt.want.Route || got.Availability != tt.want.Availability || got.Latency != tt.want.Latency {
				t.Fatalf("Route(%q) = %+v, want %+v", tt.route, got, tt.want)
			}
		})
	}
}

func TestObjectivesBoundaries(t *testing.T) {
	t.Run("every threshold becomes a boundary", func(t *testing.T) {
		o := exampleObjectives()
		if got, want := o.Thresholds(), []float64{0.3, 0.5}; !slices.Equal(got, want) {
			t.Fatalf("Thresholds() = %v, want %v", got, want)
		}
		b, err := o.Boundaries(views.Default(otelred.Semconv))
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
		if !slices.Equal(b, want) {
			t.Fatalf("Boundaries() = %v, want %v", b, want)
		}
		if err := o.Check(b); err != nil {
			t.Fatalf("Check(Boundaries()) = %v", err)
		}
	})
	t.Run("no latency objective adds nothing", func(t *testing.T) {
		o := exporter.Objectives{Availability: 0.99}
		if got := o.Thresholds(); got != nil {
			t.Fatalf("Thresholds() = %v, want nil", got)
		}
		b, err := o.Boundaries(views.Default(otelred.Classic))
		if err != nil || !slices.Equal(b, views.Default(otelred.Classic)) {
			t.Fatalf("Boundaries() = %v, %v; want the defaults", b, err)
		}
		if err := o.Check(nil); err != nil {
			t.Fatalf("Check(nil) without latency objectives = %v, want nil", err)
		}
	})
	t.Run("invalid objectives are reported before boundaries", func(t *testing.T) {
		o := exporter.Objectives{Latency: &exporter.LatencyObjective{Threshold: 0.3, Target: 2}}
		if _, err := o.Boundaries(views.Default(otelred.Semconv)); !errors.Is(err, exporter.ErrInvalidObjective) {
			t.Fatalf("Boundaries() = %v, want ErrInvalidObjective", err)
		}
	})
}

func TestObjectivesCheck(t *testing.T) {
	tests := []struct {
		name       string
		boundaries []float64
		wantErr    error
		wantInErr  string
	}{
		{"boundaries holding every threshold pass", []float64{0.1, 0.3, 0.5, 1}, nil, ""},
		{"a global threshold between boundaries names them", views.Default(otelred.Semconv), exporter.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5)"},
		{"a route threshold names the route's index", []float64{0.1, 0.3, 1}, exporter.ErrInvalidObjective,
			"routes[0].latency.threshold = 0.5 is not a bucket boundary (it falls between 0.3 and 1)"},
		{"a threshold above the last boundary is in the +Inf bucket", []float64{0.05, 0.1}, exporter.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary (it is above the last boundary, 0.1, in the +Inf bucket)"},
		{"a threshold below the first boundary says so", []float64{0.4, 0.5}, exporter.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary (it is below the first boundary, 0.4)"},
		{"a near miss is still a miss", []float64{0.1, 0.30000000000000004, 0.5}, exporter.ErrInvalidObjective,
			"latency.threshold = 0.3 is not a bucket boundary"},
		{"invalid boundaries are reported as such", []float64{0.5, 0.3}, views.ErrInvalidBoundaries, "boundaries[1] = 0.3"},
		{"no boundaries cannot hold a threshold", nil, views.ErrInvalidBoundaries, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := exampleObjectives().Check(tt.boundaries)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Check(%v) = %v, want nil", tt.boundaries, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantInErr) {
				t.Fatalf("Check(%v) = %v, want an error wrapping %v containing %q", tt.boundaries, err, tt.wantErr, tt.wantInErr)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"30d", 30 * day, "30d"},
		{"4w", 28 * day, "28d"},
		{"720h", 30 * day, "30d"},
		{"36h", 36 * time.Hour, "36h"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"90m", 90 * time.Minute, "90m"},
		{"120s", 2 * time.Minute, "2m"},
	}
	for _, tt := range tests {
		t.Run(tt.in+" is "+tt.out, func(t *testing.T) {
			w, err := exporter.ParseWindow(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if w.Duration() != tt.want || w.String() != tt.out {
				t.Fatalf("ParseWindow(%q) = %v (%s), want %v (%s)", tt.in, w.Duration(), w, tt.want, tt.out)
			}
		})
	}
	for _, bad := range []string{"", "30", "1.5d", "-1d", "30 d", "1y", "90s", "99999999999999w"} {
		t.Run(strings.TrimSpace("rejects "+bad), func(t *testing.T) {
			if w, err := exporter.ParseWindow(bad); !errors.Is(err, exporter.ErrInvalidObjective) {
				t.Fatalf("ParseWindow(%q) = %v, %v; want ErrInvalidObjective", bad, w, err)
			}
		})
	}
	t.Run("the zero window means 30 days", func(t *testing.T) {
		if got := (exporter.Objectives{}).SLOWindow(); got != exporter.DefaultWindow || got.String() != "30d" {
			t.Fatalf("SLOWindow() = %v, want 30d", got)
		}
		if got := (exporter.Objectives{Window: exporter.Window(7 * day)}).SLOWindow(); got.String() != "7d" {
			t.Fatalf("SLOWindow() = %v, want 7d", got)
		}
	})
}

const exampleYAML = `
availability: 0.999
latency:
  threshold: 0.3
  target: 0.99
window: 28d
routes:
  - route: /slow
    latency: {threshold: 0.5, target: 0.95}
  - route: /users/{id}
    availability: 0.99
`

const exampleJSON = `{
  "availability": 0.999,
  "latency": {"threshold": 0.3, "target": 0.99},
  "window": "28d",
  "routes": [
    {"route": "/slow", "latency": {"threshold": 0.5, "target": 0.95}},
    {"route": "/users/{id}", "availability": 0.99}
  ]
}`

func TestObjectivesDecode(t *testing.T) {
	want := exporter.Objectives{
		Availability: 0.999,
		Latency:      &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99},
		Window:       exporter.Window(28 * 24 * time.Hour),
		Routes: []exporter.RouteObjective{
			{Route: "/slow", Latency: &exporter.LatencyObjective{Threshold: 0.5, Target: 0.95}},
			{Route: "/users/{id}", Availability: 0.99},
		},
	}
	decoders := []struct {
		name   string
		decode func(*exporter.Objectives) error
	}{
		{"yaml", func(o *exporter.Objectives) error {
			d := yaml.NewDecoder(strings.NewReader(exampleYAML))
			d.KnownFields(true)
			return d.Decode(o)
		}},
		{"json", func(o *exporter.Objectives) error {
			d := json.NewDecoder(strings.NewReader(exampleJSON))
			d.DisallowUnknownFields()
			return d.Decode(o)
		}},
	}
	for _, d := range decoders {
		t.Run(d.name+" decodes every field", func(t *testing.T) {
			var got exporter.Objectives
			if err := d.decode(&got); err != nil {
				t.Fatal(err)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			if !equalObjectives(got, want) {
				t.Fatalf("decoded %+v, want %+v", got, want)
			}
		})
	}

	t.Run("json round-trips", func(t *testing.T) {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var got exporter.Objectives
		if err := json.Unmarshal(b, &got); err != nil || !equalObjectives(got, want) {
			t.Fatalf("round trip through %s = %+v, %v", b, got, err)
		}
	})
	t.Run("yaml round-trips", func(t *testing.T) {
		b, err := yaml.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "window: 28d") {
			t.Fatalf("yaml.Marshal wrote the window as\n%s", b)
		}
		var got exporter.Objectives
		if err := yaml.Unmarshal(b, &got); err != nil || !equalObjectives(got, want) {
			t.Fatalf("round trip through %s = %+v, %v", b, got, err)
		}
	})
	t.Run("a bad window is a decoding error", func(t *testing.T) {
		var o exporter.Objectives
		err := yaml.Unmarshal([]byte("window: 30 days\n"), &o)
		if err == nil || !strings.Contains(err.Error(), `window = "30 days" is not a duration`) {
			t.Fatalf("yaml.Unmarshal = %v", err)
		}
		err = json.Unmarshal([]byte(`{"window": "1.5d"}`), &o)
		if !errors.Is(err, exporter.ErrInvalidObjective) {
			t.Fatalf("json.Unmarshal = %v, want ErrInvalidObjective", err)
		}
	})
}

func equalObjectives(a, b exporter.Objectives) bool {
	eqLat := func(x, y *exporter.LatencyObjective) bool {
		return x == nil && y == nil || x != nil && y != nil && *x == *y
	}
	return a.Availability == b.Availability && eqLat(a.Latency, b.Latency) && a.Window == b.Window &&
		slices.EqualFunc(a.Routes, b.Routes, func(x, y exporter.RouteObjective) bool {
			return x.Route == y.Route && x.Availability == y.Availability && eqLat(x.Latency, y.Latency)
		})
}

// TestParseObjectives decodes the same objectives from YAML and JSON, and
// rejects what redgen and exporter.Config's ObjectivesFile must not
// accept.
func TestParseObjectives(t *testing.T) {
	want := exporter.Objectives{
		Availability: 0.999,
		Latency:      &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99},
		Window:       exporter.Window(28 * 24 * time.Hour),
		Routes:       []exporter.RouteObjective{{Route: "/slow", Latency: &exporter.LatencyObjective{Threshold: 0.5, Target: 0.95}}},
	}
	for _, tc := range []struct{ name, in string }{
		{"YAML", "availability: 0.999\nlatency: {threshold: 0.3, target: 0.99}\nwindow: 4w\nroutes:\n  - route: /slow\n    latency: {threshold: 0.5, target: 0.95}\n"},
		{"JSON", `{"availability": 0.999, "latency": {"threshold": 0.3, "target": 0.99}, "window": "4w", "routes": [{"route": "/slow", "latency": {"threshold": 0.5, "target": 0.95}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exporter.ParseObjectives([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	t.Run("an empty file has no objectives", func(t *testing.T) {
		got, err := exporter.ParseObjectives(nil)
		if err != nil || !reflect.DeepEqual(got, exporter.Objectives{}) {
			t.Errorf("ParseObjectives(nil) = %+v, %v; want the zero Objectives", got, err)
		}
	})
	for _, tc := range []struct{ name, in, want string }{
		{"an unknown key", "availability: 0.999\nlatancy: {threshold: 0.3, target: 0.99}\n", "latancy"},
		{"a value of the wrong type", `{"availability": "high"}`, "high"},
		{"two documents", "availability: 0.999\n---\navailability: 0.99\n", "more than one document"},
		{"a bad objective", "latency: {threshold: 0.3, target: 1}\n", "latency.target = 1"},
		{"a bad window", "window: 30 days\n", "30 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := exporter.ParseObjectives([]byte(tc.in))
			if !errors.Is(err, exporter.ErrInvalidObjective) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseObjectives: %v; want an error wrapping ErrInvalidObjective that names %q", err, tc.want)
			}
		})
	}
}
