package redgen

import (
	"fmt"
)

// A fleet is the replicas of one service. Their series are told apart by
// the instance label: the scrape target's host:port when Prometheus
// scrapes them, and the resource's service.instance.id when they push OTLP
// to Prometheus 3's receiver. The fleet rules record, per service and
// instance, the HTTP server's request rate, error ratio and p99, with the
// routes, methods and statuses summed away: one series each per replica,
// whatever the number of routes, so that the dashboard's fleet row reads
// three series per replica instead of computing them from every raw
// series at each refresh.

// The fleet's recording rules, per service and instance. Their level,
// "otelred_instance", names the labels they keep.
const (
	fleetRate  = "otelred_instance:http_requests:rate5m"
	fleetError = "otelred_instance:http_errors:ratio_rate5m"
	fleetP99   = "otelred_instance:http_request_duration_seconds:p99_rate5m"
)

// fleetGroup is the group of the fleet's recording rules.
const fleetGroup = "otelred_fleet"

// instanceLabel is the label that tells replicas apart.
const instanceLabel = "instance"

// fleetWorst is how many instances each panel of the fleet row shows.
const fleetWorst = 5

// fleetRules records the fleet's signals per service and instance.
func (m *plan) fleetRules() ruleGroup {
	by := []string{m.svc, instanceLabel}
	sm := m.serviceMatch()
	return ruleGroup{Name: fleetGroup, Rules: []rule{
		{Record: fleetRate, Expr: m.requestRate(by, sm, "5m")},
		{Record: fleetError, Expr: m.errorRatio(by, sm, "5m")},
		{Record: fleetP99, Expr: m.quantile(0.99, by, sm, "5m")},
	}}
}

// fleetRow is the dashboard's fleet row: for each of the request rate, the
// error ratio and the p99, the worst instances of each service, read from
// the fleet's recording rules, for the services and instances of the
// dashboard's variables.
func (m *plan) fleetRow(l *layout) {
	match := []string{m.svc + `=~"` + varService + `"`, instanceLabel + `=~"` + varInstance + `"`}
	worst := func(record string) target {
		return target{
			Expr:         fmt.Sprintf("topk by (%s) (%d, %s)", m.svc, fleetWorst, selector(record, match...)),
			LegendFormat: legendOf(m.svc, instanceLabel),
		}
	}
	const how = " At each point in time, the worst instances of each service, from the recording rules of group " + fleetGroup +
		" (over 5m); pick instances with the Instance variable. An instance is a replica: a scrape target (host:port), or the service.instance.id of a replica that pushes OTLP."
	l.row("Fleet: the worst instances")
	l.timeseries(8, "Busiest instances",
		fmt.Sprintf("Requests per second of the %d busiest instances.", fleetWorst)+how, "reqps", worst(fleetRate))
	l.timeseries(8, "Instances with the most errors",
		fmt.Sprintf("Share of requests that failed, for the %d instances that fail most. ", fleetWorst)+m.failure()+how, "percentunit", worst(fleetError))
	l.timeseries(8, "Slowest instances (p99)",
		fmt.Sprintf("The 99th percentile of request duration of the %d slowest instances, interpolated within the histogram's buckets.", fleetWorst)+how, "s", worst(fleetP99))
}

// fleetVariable is the dashboard's instance variable: the instances of
// the selected services that the fleet rules record.
func (m *plan) fleetVariable() variable {
	q := "label_values(" + selector(fleetRate, m.svc+`=~"`+varService+`"`) + ", " + instanceLabel + ")"
	return variable{
		Type: "query", Name: "instance", Label: "Instance",
		Description: "Instances (replicas) of the selected services, by the instance label, for the Fleet row. Needs the recording rules of group " + fleetGroup + ".",
		Query:       q, Definition: q,
		Datasource: &prometheusDS, Refresh: 2, Sort: 1, Multi: true, IncludeAll: true, AllValue: ".*",
	}
}

// The fleet scenario of the unit tests: two instances of one service.
// Instance a serves 45 good and 15 failed requests a minute on one route,
// all within 0.5 s; instance b 60 good ones a minute, half of them on
// another route and between 0.5 s and 1 s. Per instance, summed over the
// routes, a's rate is 1 per second, its error ratio 0.25 and its p99
// 0.495 s; b's rate 1 per second, error ratio 0 and p99 0.99 s.
const (
	fleetTestA = "10.0.0.1:8080"
	fleetTestB = "10.0.0.2:8080"
)

// fleetTest checks the fleet's recording rules on the scenario above.
func (m *plan) fleetTest() testGroup {
	labels := func(instance, route string, extra ...string) string {
		// As a scrape labels them, with the service label of the rules.
		job := testService
		if m.svc == "job" {
			job = m.testService()
		}
		ls := []string{"job=" + quote(job), instanceLabel + "=" + quote(instance)}
		if m.svc != "job" {
			ls = append(ls, m.svc+"="+quote(m.testService()))
		}
		ls = append(ls, m.n.method+`="GET"`, m.n.route+"="+quote(route))
		return labelSet(append(ls, extra...))
	}
	per := func(n float64) string { return fmt.Sprintf("0+%sx%d", fnum(n), signalMinutes) }
	st := m.n.status
	var in []series
	// The requests and failures.
	type count struct {
		instance, route, status string
		n                       float64
	}
	for _, c := range []count{
		{fleetTestA, "/a", "200", 45}, {fleetTestA, "/a", "500", 15},
		{fleetTestB, "/a", "200", 30}, {fleetTestB, "/b", "200", 30},
	} {
		ls := labels(c.instance, c.route, st+"="+quote(c.status))
		if c.status == "500" && m.n.errLabel != "" {
			ls = labels(c.instance, c.route, st+"="+quote(c.status), m.n.errLabel+`="500"`)
		}
		if m.n.errLabel == "" { // counters of their own, and the histogram's count
			in = append(in, series{m.n.requests + ls, per(c.n)})
			if c.status == "500" {
				in = append(in, series{m.n.errors + ls, per(c.n)})
			}
		} else {
			in = append(in, series{m.n.count + ls, per(c.n)})
		}
	}
	// The durations: a's and b's /a within 0.5 s, b's /b within 1 s.
	for _, b := range []struct {
		instance, route string
		le05, n         float64
	}{{fleetTestA, "/a", 60, 60}, {fleetTestB, "/a", 30, 30}, {fleetTestB, "/b", 0, 30}} {
		for _, le := range []struct {
			v string
			n float64
		}{{"0.5", b.le05}, {"1", b.n}, {"+Inf", b.n}} {
			in = append(in, series{m.n.bucket + labels(b.instance, b.route, `le="`+le.v+`"`), per(le.n)})
		}
	}
	svc := m.testService()
	expect := func(record string, a, b float64) exprTest {
		out := func(instance string) string {
			return record + "{" + instanceLabel + "=" + quote(instance) + ", " + m.svc + "=" + quote(svc) + "}"
		}
		return exprTest{Expr: record, EvalTime: signalTestEval, ExpSamples: []expSample{
			{Labels: out(fleetTestA), Value: a},
			{Labels: out(fleetTestB), Value: b},
		}}
	}
	return testGroup{
		Name: fmt.Sprintf("recording rules of %s: per instance, over every route, two instances of 60 requests a minute are 1 per second each, "+
			"error ratios of 0.25 and 0, and p99s of 0.495 s and 0.99 s", fleetGroup),
		Interval:    "1m",
		InputSeries: in,
		PromqlExprTest: []exprTest{
			expect(fleetRate, 1, 1),
			expect(fleetError, 0.25, 0),
			expect(fleetP99, 0.495, 0.99),
		},
	}
}
