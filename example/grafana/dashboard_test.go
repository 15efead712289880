package grafana_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// dashboards are the generated dashboards: the example's, and the classic
// naming's, which redgen's test keeps in sync.
func dashboards(t *testing.T) []string {
	t.Helper()
	extra, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"red-dashboard.json"}, extra...)
}

func TestDashboardsPassGrafanaSchema(t *testing.T) {
	// Registers the panel and data-query types, so that panel options,
	// custom field config and Prometheus targets are decoded strictly too,
	// instead of into untyped maps.
	plugins.RegisterDefaultPlugins()

	for _, path := range dashboards(t) {
		t.Run(path, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard.Dashboard
			if err := d.UnmarshalJSONStrict(raw); err != nil {
				t.Fatalf("strict unmarshal: %v", err)
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkDashboard(t, &d)
		})
	}
}

// checkDashboard checks what the schema cannot: that every query was
// decoded as a Prometheus query on the datasource variable, that panel
// options were decoded with their panel's types, that ids are unique, and
// that the variables the queries use exist.
func checkDashboard(t *testing.T, d *dashboard.Dashboard) {
	t.Helper()
	if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" {
		t.Fatal("the dashboard has no uid or title")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, want := range []string{"datasource", "service", "route", "instance"} {
		if !vars[want] {
			t.Errorf("no %q variable", want)
		}
	}
	varRE := regexp.MustCompile(`\$(\w+)`)
	ids := map[uint32]string{}
	rows, panels := 0, 0
	for i, pr := range d.Panels {
		if pr.RowPanel != nil {
			rows++
			claimID(t, ids, pr.RowPanel.Id, "row "+deref(pr.RowPanel.Title))
			continue
		}
		p := pr.Panel
		if p == nil {
			t.Fatalf("panels[%d] is neither a panel nor a row", i)
		}
		panels++
		title := deref(p.Title)
		if p.Id == nil {
			t.Errorf("panel %q has no id", title)
		} else {
			claimID(t, ids, *p.Id, title)
		}
		if p.Datasource == nil || deref(p.Datasource.Uid) != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", title)
		}
		switch p.Type {
		case "timeseries":
			if _, ok := p.Options.(*timeseries.Options); !ok {
				t.Errorf("panel %q: options decoded as %T, not timeseries options", title, p.Options)
			}
		case "stat":
			if _, ok := p.Options.(*stat.Options); !ok {
				t.Errorf("panel %q: options decoded as %T, not stat options", title, p.Options)
			}
		default:
			t.Errorf("panel %q has unexpected type %q", title, p.Type)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", title)
		}
		for j, tg := range p.Targets {
			q, ok := tg.(*prometheus.Dataquery)
			if !ok {
				t.Errorf("panel %q target %d decoded as %T, not a Prometheus query", title, j, tg)
				continue
			}
			if strings.TrimSpace(q.Expr) == "" || deref(q.RefId) == "" {
				t.Errorf("panel %q target %d has no expr or refId", title, j)
			}
			for _, m := range varRE.FindAllStringSubmatch(q.Expr, -1) {
				if !vars[m[1]] && !strings.HasPrefix(m[1], "__") {
					t.Errorf("panel %q target %s uses undefined variable $%s", title, deref(q.RefId), m[1])
				}
			}
		}
	}
	if rows < 2 || panels < 4 {
		t.Errorf("%d rows and %d panels, want the RED and saturation rows at least", rows, panels)
	}
}

func claimID(t *testing.T, ids map[uint32]string, id uint32, what string) {
	t.Helper()
	if prev, dup := ids[id]; dup {
		t.Errorf("id %d of %s is also the id of %s", id, what, prev)
	}
	ids[id] = what
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The strict decoder must reject what Grafana's schema does not have;
// otherwise the test above proves nothing.
func TestStrictUnmarshalRejectsUnknownFields(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw, err := os.ReadFile("red-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"an unknown dashboard field", `"uid":`, `"notAField": 1, "uid":`},
		{"an unknown target field", `"refId":`, `"notAField": 1, "refId":`},
		{"an unknown timeseries option", `"legend":`, `"notAField": 1, "legend":`},
		{"a string where a number belongs", `"schemaVersion": 39`, `"schemaVersion": "39"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(string(raw), tc.from, tc.to, 1)
			if bad == string(raw) {
				t.Fatalf("%q not found in the dashboard", tc.from)
			}
			var d dashboard.Dashboard
			err := d.UnmarshalJSONStrict([]byte(bad))
			if err == nil {
				t.Fatal("strict unmarshal accepted it")
			}
		})
	}
}
