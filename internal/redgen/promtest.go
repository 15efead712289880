package redgen

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/otelred/otelred/exporter"
)

// The promtool test file.
type testFile struct {
	RuleFiles          []string    `yaml:"rule_files"`
	EvaluationInterval string      `yaml:"evaluation_interval"`
	GroupEvalOrder     []string    `yaml:"group_eval_order"`
	Tests              []testGroup `yaml:"tests"`
}

type testGroup struct {
	Name           string      `yaml:"name"`
	Interval       string      `yaml:"interval"`
	InputSeries    []series    `yaml:"input_series"`
	AlertRuleTest  []alertTest `yaml:"alert_rule_test,omitempty"`
	PromqlExprTest []exprTest  `yaml:"promql_expr_test,omitempty"`
}

// The test scenarios run for 3 days of one sample a minute, long enough to
// fill every window, and are checked at the end.
const (
	testMinutes  = 3 * 24 * 60
	testEvalTime = "3d"
	// testEvalInterval is how often promtool evaluates the rules. The
	// alerts have no "for" duration, so only the evaluation at testEvalTime
	// matters; evaluating every minute of 3 days would take minutes.
	testEvalInterval = "6h"
	testService      = "example"
	// testRate is the number of requests per minute.
	testRate = 1000.0
)

// Tests returns a promtool unit-test file for the rules [Rules] generates
// from c, which it loads from rulesFile (a path relative to the test file).
// For every objective and every window pair of the alerts it has two
// scenarios: bad requests at 1.05 times the pair's burn rate over the
// pair's long window, on a history of good requests, which must fire the
// alert with exactly the expected labels and annotations and nothing else,
// and at 0.95 times, which must fire nothing. Further scenarios check that
// requests that matched no route count toward no objective, that a route
// with its own latency objective is judged by its own threshold, and that
// the recording rules of the HTTP client, the operations and the gRPC
// server give the exact rate, error ratio and p99 of known series.
func Tests(c Config, rulesFile string) ([]byte, error) {
	m, err := c.plan()
	if err != nil {
		return nil, err
	}
	f := testFile{RuleFiles: []string{rulesFile}, EvaluationInterval: testEvalInterval}
	// Without an order, promtool evaluates the groups in random order, and
	// the alerts could read the SLIs recorded one interval earlier.
	for _, g := range m.rules().Groups {
		f.GroupEvalOrder = append(f.GroupEvalOrder, g.Name)
	}
	for _, k := range []kind{availability, latency} {
		for _, s := range m.scopesOf(k) {
			for _, b := range burns {
				for _, factor := range []float64{1.05, 0.95} {
					// A burn rate above 1/budget would need more bad
					// requests than requests: see Warnings.
					if factor*b.factor*s.budget() < 1 {
						f.Tests = append(f.Tests, m.burnTest(k, s, b, factor))
					}
				}
			}
		}
	}
	if c.Native {
		// The scenarios below read histograms, which promtool 2.42
		// cannot write in input series (see nativeSLIs).
		return encodeYAML(m.header("promtool unit tests"), f)
	}
	for _, s := range m.latency {
		if g := m.ownThresholdTest(s); g != nil {
			f.Tests = append(f.Tests, *g)
		}
	}
	if len(m.avail)+len(m.latency) > 0 {
		f.Tests = append(f.Tests, m.unmatchedTest())
	}
	f.Tests = append(f.Tests, m.fleetTest())
	f.Tests = append(f.Tests, m.guardTests()...)
	for _, sn := range []signalNames{m.client, m.ops, m.grpc} {
		f.Tests = append(f.Tests, m.signalTest(sn))
	}
	return encodeYAML(m.header("promtool unit tests"), f)
}

// The scenario of the recording rules of a signal: over 6 hours, 45
// requests a minute succeed and 15 fail, all of them within 0.5 s.
const (
	signalTestEval = "6h"
	signalMinutes  = 6 * 60
)

// signalTestValues are the values of the by label of each signal's
// scenario.
var signalTestValues = map[string]string{
	signalClient:    "api.example",
	signalOperation: "orders.process",
	SignalGRPC:      "shop.Orders/Create",
}

// exprTest checks the value of an expression at EvalTime.
type exprTest struct {
	Expr       string      `yaml:"expr"`
	EvalTime   string      `yaml:"eval_time"`
	ExpSamples []expSample `yaml:"exp_samples"`
}

// expSample is one sample an exprTest expects.
type expSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// signalTest checks the recording rules of sn on one series of 45 good
// and 15 failed requests a minute, all in the bucket (0, 0.5]: the rate is
// exactly 1 per second, the error ratio 0.25, and the p99 0.5 × 0.99.
func (m *plan) signalTest(sn signalNames) testGroup {
	value := signalTestValues[sn.signal]
	labels := func(extra ...string) string {
		ls := append(m.scrapeLabels(sn.svc), sn.by+"="+quote(value))
		return labelSet(append(ls, extra...))
	}
	per := func(n float64) string { return fmt.Sprintf("0+%sx%d", fnum(n), signalMinutes) }
	var in []series
	if sn.errLabel != "" {
		in = []series{
			{sn.requests + labels(), per(45)},
			{sn.requests + labels(sn.errLabel+`="500"`), per(15)},
		}
	} else {
		in = []series{
			{sn.requests + labels(`status_code="200"`), per(45)},
			{sn.requests + labels(`status_code="500"`), per(15)},
			{sn.errors + labels(`status_code="500"`), per(15)},
		}
	}
	for _, le := range []string{"0.5", "1", "+Inf"} {
		in = append(in, series{sn.bucket + labels(`le="`+le+`"`), per(60)})
	}
	out := "{" + sn.svc + "=" + quote(m.testService()) + ", " + sn.by + "=" + quote(value) + "}"
	expect := func(record string, v float64) exprTest {
		return exprTest{Expr: record, EvalTime: signalTestEval, ExpSamples: []expSample{{Labels: record + out, Value: v}}}
	}
	return testGroup{
		Name:        fmt.Sprintf("recording rules of %s: 45 good and 15 failed requests a minute, all within 0.5 s, are 1 per second, an error ratio of 0.25 and a p99 of 0.495 s", sn.group),
		Interval:    "1m",
		InputSeries: in,
		PromqlExprTest: []exprTest{
			expect("otelred:"+sn.record+":rate5m", 1),
			expect("otelred:"+sn.errRecord+":ratio_rate5m", 0.25),
			expect("otelred:"+sn.durationRecord+":p99_rate5m", 0.495),
		},
	}
}

// testRoute is the route of the scenarios of a global objective: one
// without an objective of its own.
func (m *plan) testRoute(s scope) string {
	if !s.global() {
		return s.route
	}
	r := "/any/{id}"
	for slices.ContainsFunc(m.cfg.Objectives.Routes, func(o exporter.RouteObjective) bool { return o.Route == r }) {
		r += "/x"
	}
	return r
}

// burnTest is the scenario of objective s burning at factor times the burn
// rate of b over b's long window.
func (m *plan) burnTest(k kind, s scope, b burn, factor float64) testGroup {
	route := m.testRoute(s)
	bad := factor * b.factor * s.budget()
	minutes := int(b.longHours * 60)
	where := "the global objective"
	if !s.global() {
		where = "the objective of " + s.route
	}
	verdict := "fires a " + b.severity
	if factor < 1 {
		verdict = "fires nothing"
	}
	g := testGroup{
		Name:     fmt.Sprintf("%s, %s: bad requests at %s × %s over the last %s %s", k.name, where, num(factor), num(b.factor), b.long, verdict),
		Interval: "1m",
	}
	switch {
	case m.cfg.Native:
		g.InputSeries = m.nativeSLIs(k, s, bad, b.longHours)
	case k == latency:
		// The slow requests take just over the threshold: they are in the
		// buckets of every larger threshold.
		g.InputSeries = m.histogramSeries(route, bad, minutes, func(t float64) bool { return t > s.threshold })
	default:
		g.InputSeries = m.availabilitySeries(route, bad, minutes)
	}
	var want []expAlert
	if factor > 1 {
		want = []expAlert{m.expected(k, s, b.severity)}
	}
	g.AlertRuleTest = m.alertTests(k, want)
	return g
}

// ownThresholdTest checks that the requests of a route with its own latency
// objective, slower than the global threshold but within their own, fire
// nothing. It returns nil if the route's threshold is not the larger one.
func (m *plan) ownThresholdTest(s scope) *testGroup {
	if s.global() || len(m.latency) == 0 || !m.latency[0].global() || s.threshold <= m.latency[0].threshold {
		return nil
	}
	g := testGroup{
		Name: fmt.Sprintf("latency: every request of %s takes %s s, over the global threshold of %s s but within its own: nothing fires",
			s.route, num(s.threshold), num(m.latency[0].threshold)),
		Interval:    "1m",
		InputSeries: m.histogramSeries(s.route, 1, testMinutes, func(t float64) bool { return t >= s.threshold }),
	}
	g.AlertRuleTest = m.alertTests(latency, nil)
	g.AlertRuleTest = append(g.AlertRuleTest, m.alertTests(availability, nil)...)
	return &g
}

// unmatchedTest checks that requests that matched no route, all of them
// failed and slow, fire nothing.
func (m *plan) unmatchedTest() testGroup {
	g := testGroup{
		Name:     "requests that matched no route, all failed and slow, count toward no objective: nothing fires",
		Interval: "1m",
	}
	g.InputSeries = append(m.availabilitySeries(m.n.unmatched, 1, testMinutes),
		m.histogramSeries(m.n.unmatched, 1, testMinutes, func(float64) bool { return false })...)
	for _, k := range []kind{availability, latency} {
		g.AlertRuleTest = append(g.AlertRuleTest, m.alertTests(k, nil)...)
	}
	return g
}

// alertTest checks which alerts fire at EvalTime.
type alertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []expAlert `yaml:"exp_alerts"`
}

// alertTests checks the alerts of kind k (want) and that the other kind
// fires nothing.
func (m *plan) alertTests(k kind, want []expAlert) []alertTest {
	tests := []alertTest{{EvalTime: testEvalTime, Alertname: k.alert, ExpAlerts: want}}
	other := latency
	if k == latency {
		other = availability
	}
	if len(m.scopesOf(other)) > 0 {
		tests = append(tests, alertTest{EvalTime: testEvalTime, Alertname: other.alert})
	}
	return tests
}

// expAlert is one alert an alertTest expects.
type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// expected is the alert objective s of kind k fires at severity.
func (m *plan) expected(k kind, s scope, severity string) expAlert {
	labels := map[string]string{"severity": severity, "slo": k.name, m.svc: m.testService()}
	if !s.global() {
		labels[m.n.route] = s.route
	}
	return expAlert{
		ExpLabels:      labels,
		ExpAnnotations: m.annotations(k, s, severity, m.testService(), func(s string) string { return s }),
	}
}

func (m *plan) testService() string {
	if m.cfg.Service != "" {
		return m.cfg.Service
	}
	return testService
}

// seriesLabels writes the labels of a test series of route, with extra
// ones: those Prometheus adds to a scrape, the service label and the
// method and route (none for a route of "": a Semconv request that matched
// no route).
func (m *plan) seriesLabels(route string, extra ...string) string {
	ls := append(m.scrapeLabels(m.svc), m.n.method+`="GET"`)
	if route != "" {
		ls = append(ls, m.n.route+"="+quote(route))
	}
	return labelSet(append(ls, extra...))
}

// scrapeLabels are the labels of a test series that Prometheus adds to a
// scrape, job and instance, and the service label svc, which may be one of
// them, in that order.
func (m *plan) scrapeLabels(svc string) []string {
	base := map[string]string{"job": testService, "instance": testService + ":8080"}
	base[svc] = m.testService()
	var ls []string
	for _, k := range []string{"job", "instance", svc} {
		if v, ok := base[k]; ok {
			ls = append(ls, k+"="+quote(v))
			delete(base, k)
		}
	}
	return ls
}

// labelSet writes the label matchers ls as a series' label set.
func labelSet(ls []string) string { return "{" + strings.Join(ls, ", ") + "}" }

// series is one input series, in promtool's expanding notation.
type series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// availabilitySeries are the counters of testRate requests a minute for
// testMinutes, a share bad of which fail in the last badMinutes.
func (m *plan) availabilitySeries(route string, bad float64, badMinutes int) []series {
	good := counter(testRate, testRate*(1-bad), badMinutes)
	failed := counter(0, testRate*bad, badMinutes)
	st := m.n.status
	if m.n.errLabel == "" {
		return []series{
			{m.n.requests + m.seriesLabels(route, st+`="200"`), good},
			{m.n.requests + m.seriesLabels(route, st+`="500"`), failed},
			{m.n.errors + m.seriesLabels(route, st+`="500"`), failed},
		}
	}
	return []series{
		{m.n.count + m.seriesLabels(route, st+`="200"`), good},
		{m.n.count + m.seriesLabels(route, st+`="500"`, m.n.errLabel+`="500"`), failed},
	}
}

// histogramSeries are the duration histogram of testRate requests a
// minute for testMinutes, a share slow of which, in the last slowMinutes,
// fall in the bucket of threshold t only if in(t). The other requests fall
// in every bucket.
func (m *plan) histogramSeries(route string, slow float64, slowMinutes int, in func(t float64) bool) []series {
	all := counter(testRate, testRate, 0)
	var ss []series
	for _, t := range m.cfg.Objectives.Thresholds() {
		v := all
		if !in(t) {
			v = counter(testRate, testRate*(1-slow), slowMinutes)
		}
		_, le := le(t)
		ss = append(ss, series{m.n.bucket + m.seriesLabels(route, `le="`+strings.TrimSuffix(le, `(\.0)?`)+`"`), v})
	}
	ss = append(ss,
		series{m.n.bucket + m.seriesLabels(route, `le="+Inf"`), all},
		series{m.n.count + m.seriesLabels(route), all},
	)
	return ss
}

// counter writes the values of a counter sampled once a minute for
// testMinutes that grows by before a minute, then by during a minute in the
// last lastMinutes.
func counter(before, during float64, lastMinutes int) string {
	first := testMinutes - lastMinutes
	head := fmt.Sprintf("0+%sx%d", fnum(before), first)
	if before == 0 {
		head = fmt.Sprintf("0x%d", first)
	}
	if lastMinutes == 0 {
		return head
	}
	start := before*float64(first) + during
	return fmt.Sprintf("%s %s+%sx%d", head, fnum(start), fnum(during), lastMinutes-1)
}

// fnum formats a sample value, rounded to hide binary noise.
func fnum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.10g", f)
}
