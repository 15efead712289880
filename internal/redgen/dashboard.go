package redgen

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/otelred/otelred/otelred"
)

// The dashboard JSON, in the fields of Grafana's schema this dashboard uses
// (the example/grafana module checks it with Grafana's own schema).
type dashboardJSON struct {
	UID                  string        `json:"uid"`
	Title                string        `json:"title"`
	Description          string        `json:"description"`
	Tags                 []string      `json:"tags"`
	Timezone             string        `json:"timezone"`
	Editable             bool          `json:"editable"`
	GraphTooltip         int           `json:"graphTooltip"`
	FiscalYearStartMonth int           `json:"fiscalYearStartMonth"`
	Refresh              string        `json:"refresh"`
	SchemaVersion        int           `json:"schemaVersion"`
	Time                 timeRange     `json:"time"`
	Templating           templating    `json:"templating"`
	Annotations          annotationSet `json:"annotations"`
	Panels               []any         `json:"panels"`
}

type timeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type templating struct {
	List []variable `json:"list"`
}

type annotationSet struct {
	List []any `json:"list"`
}

type variable struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	Query       string `json:"query"`
	Definition  string `json:"definition,omitempty"`
	Datasource  *dsRef `json:"datasource,omitempty"`
	Refresh     int    `json:"refresh,omitempty"`
	Sort        int    `json:"sort,omitempty"`
	Multi       bool   `json:"multi"`
	IncludeAll  bool   `json:"includeAll"`
	AllValue    string `json:"allValue,omitempty"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

type row struct {
	Type      string  `json:"type"`
	ID        int     `json:"id"`
	Title     string  `json:"title"`
	Collapsed bool    `json:"collapsed"`
	GridPos   gridPos `json:"gridPos"`
	Panels    []any   `json:"panels"`
}

type panel struct {
	Type        string      `json:"type"`
	ID          int         `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  dsRef       `json:"datasource"`
	GridPos     gridPos     `json:"gridPos"`
	FieldConfig fieldConfig `json:"fieldConfig"`
	Options     any         `json:"options"`
	Targets     []target    `json:"targets"`
}

type fieldConfig struct {
	Defaults  fieldDefaults `json:"defaults"`
	Overrides [0]any        `json:"overrides"` // none: an array of no elements, written []
}

type fieldDefaults struct {
	Unit       string      `json:"unit"`
	Decimals   *int        `json:"decimals,omitempty"`
	Min        *float64    `json:"min,omitempty"`
	Thresholds *thresholds `json:"thresholds,omitempty"`
}

type thresholds struct {
	Mode  string      `json:"mode"`
	Steps []threshold `json:"steps"`
}

type threshold struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}

type target struct {
	RefID        string `json:"refId"`
	Datasource   dsRef  `json:"datasource"`
	Expr         string `json:"expr"`
	LegendFormat string `json:"legendFormat"`
	Instant      bool   `json:"instant,omitempty"`
	Range        bool   `json:"range"`

	signal string // what the query reads, for Queries; not in the JSON
}

type timeseriesOptions struct {
	Legend  legend  `json:"legend"`
	Tooltip tooltip `json:"tooltip"`
}

type legend struct {
	DisplayMode string   `json:"displayMode"`
	Placement   string   `json:"placement"`
	ShowLegend  bool     `json:"showLegend"`
	Calcs       []string `json:"calcs"`
}

type tooltip struct {
	Mode string `json:"mode"`
	Sort string `json:"sort"`
}

type statOptions struct {
	GraphMode              string        `json:"graphMode"`
	ColorMode              string        `json:"colorMode"`
	JustifyMode            string        `json:"justifyMode"`
	TextMode               string        `json:"textMode"`
	WideLayout             bool          `json:"wideLayout"`
	ShowPercentChange      bool          `json:"showPercentChange"`
	ReduceOptions          reduceOptions `json:"reduceOptions"`
	PercentChangeColorMode string        `json:"percentChangeColorMode"`
	Orientation            string        `json:"orientation"`
}

type reduceOptions struct {
	Values bool     `json:"values"`
	Calcs  []string `json:"calcs"`
	Fields string   `json:"fields"`
}

// The dashboard's variables, as they appear in queries.
const (
	varService      = "$service"
	varRoute        = "$route"
	varInstance     = "$instance"
	varRateInterval = "$__rate_interval"
)

var prometheusDS = dsRef{Type: "prometheus", UID: "${datasource}"}

// Dashboard returns a Grafana dashboard for c, as indented JSON: a RED row
// for the HTTP server (request rate, error ratio, and p50, p90 and p99
// durations per route); a fleet row (the busiest, most failing and slowest
// instances of each service, from the fleet's recording rules); RED rows for the HTTP client (per server address),
// the operations (per operation name) and the gRPC server (per method),
// each with rate, error ratio and p50 and p99 durations; a saturation row
// (in-flight requests, operations and gRPC calls, and the Go runtime's
// goroutines, memory and heap allocation rate); and, if c has objectives,
// an SLO row (the SLIs and the error budget left over the SLO window, and
// the burn rates), with variables for the data source, the service, the
// route (which only the HTTP server's panels use) and the instance (which
// only the fleet row uses). The output is deterministic.
func Dashboard(c Config) ([]byte, error) { return c.generate((*plan).dashboardJSON) }

// dashboardJSON is what [Dashboard] returns.
func (m *plan) dashboardJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m.dashboard()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// uid is the dashboard's uid.
func (m *plan) uid() string {
	if m.cfg.UID == "" {
		return "otelred-red"
	}
	return m.cfg.UID
}

func (m *plan) dashboard() dashboardJSON {
	title := m.cfg.Title
	if title == "" {
		title = "otelred: RED and SLOs"
	}
	svcSel := m.n.requests
	if m.cfg.Service != "" {
		svcSel = selector(m.n.requests, m.serviceMatch()...)
	}
	routeSel := selector(m.n.requests, m.svc+`=~"`+varService+`"`)
	d := dashboardJSON{
		UID:   m.uid(),
		Title: title,
		Description: "RED metrics and SLOs of services instrumented with otelred (naming " + m.cfg.Profile.String() +
			"): HTTP server, HTTP client, operations, gRPC server, and the Go runtime's saturation; " +
			"generated by redgen from the service's objectives: regenerate it rather than editing it.",
		Tags:          []string{"otelred", "red", "slo"},
		Timezone:      "browser",
		Editable:      true,
		GraphTooltip:  1,
		Refresh:       "1m",
		SchemaVersion: 39,
		Time:          timeRange{From: "now-6h", To: "now"},
		Templating: templating{List: []variable{
			{Type: "datasource", Name: "datasource", Label: "Data source", Query: "prometheus"},
			{
				Type: "query", Name: "service", Label: "Service",
				Description: "Services, by the " + m.svc + " label.",
				Query:       "label_values(" + svcSel + ", " + m.svc + ")", Definition: "label_values(" + svcSel + ", " + m.svc + ")",
				Datasource: &prometheusDS, Refresh: 2, Sort: 1, Multi: true, IncludeAll: true, AllValue: ".*",
			},
			{
				Type: "query", Name: "route", Label: "Route",
				Description: m.routesDesc(),
				Query:       "label_values(" + routeSel + ", " + m.n.route + ")", Definition: "label_values(" + routeSel + ", " + m.n.route + ")",
				Datasource: &prometheusDS, Refresh: 2, Sort: 1, Multi: true, IncludeAll: true, AllValue: ".*",
			},
			m.fleetVariable(),
		}},
		Annotations: annotationSet{List: []any{}},
	}

	l := &layout{}
	red := []string{m.svc, m.n.route}
	redMatch := append(m.dashServiceMatch(), m.n.route+`=~"`+varRoute+`"`)
	perRoute := "{{" + m.svc + "}} {{" + m.n.route + "}}"
	l.row("HTTP server: rate, errors, duration")
	l.timeseries(8, "Request rate",
		"Requests per second, per service and route. "+m.routesNote(), "reqps",
		target{Expr: m.shownRoutes(m.requestRate(red, redMatch, varRateInterval)), LegendFormat: perRoute})
	l.timeseries(8, "Error ratio",
		"Share of requests that failed, per service and route. "+m.failure()+" "+m.routesNote(), "percentunit",
		target{Expr: m.shownRoutes(m.errorRatio(red, redMatch, varRateInterval)), LegendFormat: perRoute})
	var qs []target
	for _, q := range []struct {
		q    float64
		name string
	}{{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}} {
		qs = append(qs, target{Expr: m.shownRoutes(m.quantile(q.q, red, redMatch, varRateInterval)), LegendFormat: q.name + " " + perRoute})
	}
	durationDesc := "Request duration percentiles per service and route, interpolated within the histogram's buckets: exact only at bucket boundaries, which is why SLO thresholds are made boundaries."
	if m.cfg.Native {
		durationDesc = nativeDurationDesc
	}
	durationDesc += " " + m.routesNote()
	l.timeseries(8, "Duration p50, p90, p99", durationDesc, "s", qs...)
	m.fleetRow(l)

	for _, r := range []signalRow{
		{m.client, "HTTP client: rate, errors, duration", "Client", "outbound requests", "server address",
			"Failures are the requests that got no response (error_type timeout, connection_refused, dns, tls, canceled, ...) or a status of 400 or more, by default.",
			"Counts end when the response headers arrive."},
		{m.ops, "Operations: rate, errors, duration", "Operation", "operations", "operation",
			"Failures are the operations that ended with an error (error_type is its kind).",
			""},
		{m.grpc, "gRPC server: rate, errors, duration", "gRPC", "calls", "method",
			"Failures are the calls with an error_type: by default, every status code but OK (otelredgrpc.WithErrorCodes narrows it).",
			"No data without a gRPC server instrumented with otelredgrpc."},
	} {
		r.add(l)
	}

	l.signal = signalServer
	l.row("Saturation")
	activeBy := append([]string{m.svc}, m.n.activeBy...)
	activeMatch := m.dashServiceMatch()
	desc := "Requests being served right now, per service and method (the gauge of the semconv naming has no route label, so the route variable does not apply)."
	active := sumBy(activeBy, selector(m.n.active, activeMatch...))
	if m.n.activeRte {
		activeMatch = append(activeMatch, m.n.route+`=~"`+varRoute+`"`)
		active = m.shownRoutes(sumBy(activeBy, selector(m.n.active, activeMatch...)))
		desc = "Requests being served right now, per service and route. Requests whose route is not known yet count under " + otelred.Unmatched + ". " + m.routesNote()
	}
	legendActive := "{{" + strings.Join(activeBy, "}} {{") + "}}"
	l.timeseries(8, "In-flight requests", desc, "short",
		target{Expr: active, LegendFormat: legendActive})
	for _, sn := range []signalNames{m.ops, m.grpc} {
		l.signal = sn.signal
		by := []string{sn.svc, sn.by}
		title, what := "Operations in progress", "Operations running right now, per service and operation."
		if sn.signal == SignalGRPC {
			title, what = "gRPC calls in flight", "gRPC calls being served right now, per service and method."
		}
		l.timeseries(8, title, what, "short",
			target{Expr: sumBy(by, selector(sn.active, sn.svc+`=~"`+varService+`"`)), LegendFormat: legendOf(by...)})
	}
	m.runtimePanels(l)

	l.signal = signalServer
	if len(m.avail)+len(m.latency) > 0 {
		m.sloRow(l)
	}
	d.Panels = l.panels
	return d
}

// The route the dashboard shows for the series that are not a route
// template: the overflow past otelred's cardinality limit, and (Semconv)
// the requests that matched no route, which have no route label.
const (
	overflowShown = otelred.Overflow + " (past the cardinality limit)"
	noRouteShown  = "(no route)"
)

// shownRoutes relabels, in the result of expr, the route of the series
// that are not templates, so that legends say what they are: the
// overflow series, and in Semconv the requests without a route label.
func (m *plan) shownRoutes(expr string) string {
	relabel := func(e, to, from string) string {
		return "label_replace(\n" + indent(e) + ",\n  " + quote(m.n.route) + ", " + quote(to) + ", " + quote(m.n.route) + ", " + quote(from) + "\n)"
	}
	expr = relabel(expr, overflowShown, otelred.Overflow)
	if m.n.unmatched == "" {
		expr = relabel(expr, noRouteShown, "")
	}
	return expr
}

// routesNote says, in a panel's description, what the routes that are not
// templates hold.
func (m *plan) routesNote() string {
	note := "The route " + quote(overflowShown) + " holds the requests whose attribute set did not fit under otelred's cardinality limit " +
		"(" + strconv.Itoa(otelred.DefaultCardinalityLimit) + " by default; raise it with otelred.WithCardinalityLimit, exporter Config.CardinalityLimit or OTELRED_CARDINALITY_LIMIT)."
	if m.n.unmatched == "" {
		return "The route " + quote(noRouteShown) + " holds the requests that matched no route, which have no " + m.n.route + " label. " + note
	}
	return "The route " + quote(m.n.unmatched) + " holds the requests that matched no route. " + note
}

// routesDesc describes the route variable.
func (m *plan) routesDesc() string {
	if m.n.unmatched == "" {
		return "Routes, by the " + m.n.route + " label: path templates, plus " + otelred.Overflow +
			" (past the cardinality limit). Requests that matched no route have no " + m.n.route + " label: they show under All only."
	}
	return "Routes, by the " + m.n.route + " label: path templates, plus " + m.n.unmatched + " (no route matched) and " +
		otelred.Overflow + " (past the cardinality limit)."
}

// legendOf is a legend format that shows the labels.
func legendOf(labels ...string) string { return "{{" + strings.Join(labels, "}} {{") + "}}" }

// signalRow is the RED row of a signal other than the HTTP server's: rate,
// error ratio, and p50 and p99 durations, per service and sn.by.
type signalRow struct {
	sn    signalNames
	title string
	short string // begins the panels' titles
	// what names the requests, and per what they are grouped.
	what, per string
	failure   string // says what fails
	note      string // is added to every description
}

// add adds the row to l.
func (r signalRow) add(l *layout) {
	sn, short, what, per, failure, note := r.sn, r.short, r.what, r.per, r.failure, r.note
	l.signal = sn.signal
	by := []string{sn.svc, sn.by}
	match := []string{sn.svc + `=~"` + varService + `"`}
	lg := legendOf(by...)
	if note != "" {
		note = " " + note
	}
	l.row(r.title)
	l.timeseries(8, short+" rate",
		"The "+what+" per second, per service and "+per+"."+note, "reqps",
		target{Expr: sn.requestRate(by, match, varRateInterval), LegendFormat: lg})
	l.timeseries(8, short+" error ratio",
		"Share of the "+what+" that failed, per service and "+per+". "+failure+note, "percentunit",
		target{Expr: sn.errorRatio(by, match, varRateInterval), LegendFormat: lg})
	l.timeseries(8, short+" duration p50, p99",
		"Duration percentiles of the "+what+", per service and "+per+", interpolated within the histogram's buckets."+note, "s",
		target{Expr: sn.quantile(0.5, by, match, varRateInterval), LegendFormat: "p50 " + lg},
		target{Expr: sn.quantile(0.99, by, match, varRateInterval), LegendFormat: "p99 " + lg})
}

// runtimePanels are the Go runtime's saturation panels: goroutines, memory
// in use with the GC's goal, and the heap allocation rate, per service and
// instance.
func (m *plan) runtimePanels(l *layout) {
	l.signal = signalRuntime
	by := []string{m.procSvc, "instance"}
	match := m.procSvc + `=~"` + varService + `"`
	const needs = " Needs the Go runtime metrics (exporter.Config.RuntimeMetrics)."
	l.timeseries(8, "Goroutines",
		"Live goroutines, per instance: a count that keeps growing is a leak, or requests piling up."+needs, "short",
		target{Expr: sumBy(by, selector(m.rt.goroutines, match)), LegendFormat: legendOf(by...)})
	l.timeseries(8, "Memory",
		"Memory the Go runtime uses, per instance and kind (stack, other), and the heap size the garbage collector aims to stay under (its goal)."+needs, "bytes",
		target{Expr: sumBy(append(clone(by), "go_memory_type"), selector(m.rt.memoryUsed, match)), LegendFormat: legendOf(append(clone(by), "go_memory_type")...)},
		target{Expr: sumBy(by, selector(m.rt.gcGoal, match)), LegendFormat: "GC goal " + legendOf(by...)})
	l.timeseries(8, "Heap allocation rate",
		"Bytes allocated on the heap per second, per instance: what keeps the garbage collector busy."+needs, "Bps",
		target{Expr: sumBy(by, rate(selector(m.rt.allocated, match), varRateInterval)), LegendFormat: legendOf(by...)})
}

// failure says what counts as a failed request.
func (m *plan) failure() string {
	if m.n.errLabel == "" {
		return "Failures are the requests counted in " + m.n.errors + ": status 400 or more by default, client errors included."
	}
	return "Failures are the requests with an " + m.n.errLabel + ": status 500 or more, or a panic, by default."
}

func (m *plan) sloRow(l *layout) {
	w := m.window.String()
	l.row("SLOs over " + w)

	var sli, left []target
	for _, k := range []kind{availability, latency} {
		for _, s := range m.scopesOf(k) {
			name := "{{" + m.svc + "}} " + m.scopeName(k, s)
			sli = append(sli, target{Expr: m.good(k, s, w, m.dashServiceMatch()), LegendFormat: name, Instant: true})
			bad := indent(m.sli(k, s, w, m.dashServiceMatch()))
			left = append(left, target{Expr: "1 - (\n" + bad + "\n) / " + num(s.budget()), LegendFormat: name, Instant: true})
		}
	}
	l.stat(6, "SLI over "+w,
		"Share of good requests over the SLO window, for each objective (the objective in parentheses). Prometheus keeps 15 days of data by default: a longer window needs a longer retention.",
		nil, sli...)
	red, orange, green := 0.0, 0.25, 0.5
	l.stat(6, "Error budget left over "+w,
		"Share of each objective's error budget (1 - objective) not yet spent over the SLO window: 100% is untouched, 0% spent, below 0 overspent.",
		&thresholds{Mode: "absolute", Steps: []threshold{{"red", nil}, {"orange", &red}, {"yellow", &orange}, {"green", &green}}},
		left...)
	for _, k := range []kind{availability, latency} {
		var ts []target
		for _, s := range m.scopesOf(k) {
			for _, win := range []string{"1h", "6h", "1d", "3d"} {
				ts = append(ts, target{
					Expr:         m.recorded(k, s, win, m.dashServiceMatch()) + " / " + num(s.budget()),
					LegendFormat: "{{" + m.svc + "}} " + m.scopeName(k, s) + " over " + win,
				})
			}
		}
		if len(ts) == 0 {
			continue
		}
		l.timeseries(6, "Burn rate: "+k.name,
			"How many times faster than sustainable the "+k.name+" error budget is being spent (1 spends it exactly over "+w+"). "+
				"The alerts page at 14.4 over 1h and 5m or 6 over 6h and 30m, and open a ticket at 3 over 1d and 2h or 1 over 3d and 6h. "+
				"Needs the recording rules.", "short", ts...)
	}
}

// scopeName names objective s of kind k in legends.
func (m *plan) scopeName(k kind, s scope) string {
	where := "all routes"
	if !s.global() {
		where = s.route
	}
	if k == latency {
		return k.name + ", " + where + " (" + pct(s.target) + " within " + num(s.threshold) + " s)"
	}
	return k.name + ", " + where + " (" + pct(s.target) + ")"
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// layout places panels left to right, top to bottom, and numbers them.
type layout struct {
	panels []any
	id     int
	x, y   int
	h      int
	signal string // of the targets added next
}

func (l *layout) next() int { l.id++; return l.id }

func (l *layout) row(title string) {
	if l.x > 0 {
		l.x, l.y = 0, l.y+l.h
	}
	l.panels = append(l.panels, row{Type: "row", ID: l.next(), Title: title, GridPos: gridPos{H: 1, W: 24, Y: l.y}, Panels: []any{}})
	l.y++
	l.h = 0
}

func (l *layout) place(w, h int) gridPos {
	if l.x+w > 24 {
		l.x, l.y = 0, l.y+l.h
	}
	p := gridPos{H: h, W: w, X: l.x, Y: l.y}
	l.x += w
	l.h = h
	if l.x >= 24 {
		l.x, l.y = 0, l.y+h
	}
	return p
}

func (l *layout) add(p panel, targets []target) {
	for i := range targets {
		targets[i].RefID = string(rune('A' + i))
		targets[i].Datasource = prometheusDS
		targets[i].Range = !targets[i].Instant
		targets[i].signal = l.signal
	}
	p.Targets = targets
	p.Datasource = prometheusDS
	p.ID = l.next()
	l.panels = append(l.panels, p)
}

func (l *layout) timeseries(w int, title, desc, unit string, targets ...target) {
	l.add(panel{
		Type: "timeseries", Title: title, Description: desc, GridPos: l.place(w, 8),
		FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: unit}},
		Options: timeseriesOptions{
			Legend:  legend{DisplayMode: "list", Placement: "bottom", ShowLegend: true, Calcs: []string{}},
			Tooltip: tooltip{Mode: "multi", Sort: "desc"},
		},
	}, targets)
}

func (l *layout) stat(w int, title, desc string, th *thresholds, targets ...target) {
	three := 3
	l.add(panel{
		Type: "stat", Title: title, Description: desc, GridPos: l.place(w, 8),
		FieldConfig: fieldConfig{Defaults: fieldDefaults{Unit: "percentunit", Decimals: &three, Thresholds: th}},
		Options: statOptions{
			GraphMode: "none", ColorMode: "value", JustifyMode: "auto", TextMode: "value_and_name",
			WideLayout: true, ReduceOptions: reduceOptions{Calcs: []string{"lastNotNull"}},
			PercentChangeColorMode: "standard", Orientation: "horizontal",
		},
	}, targets)
}
