package redgen

import (
	"fmt"
	"strings"
)

// The guard alerts. A latency SLI reads the bucket whose upper bound is the
// objective's threshold (fastRatio). A service whose histogram lacks that
// bucket, because it was given the default boundaries and not the
// objectives, records no latency SLI, so its latency alerts can never
// fire, and nothing says so. For each latency threshold, the guard alert
// OtelredLatencyBucketMissing fires for every instance that serves
// requests but has no series of that bucket.
//
// It has no "for": a histogram's boundaries are fixed for the life of the
// process, and its count and bucket series come and go stale together, in
// one scrape or push, so the condition does not flap. It is a ticket:
// nothing is down, but the latency objective is not watched.
//
// Native histograms have no le buckets, and their latency SLI is read with
// histogram_fraction at any threshold: there is no guard alert for them.

// guardAlert is the name of the guard alerts.
const guardAlert = "OtelredLatencyBucketMissing"

// guardBy are the labels a guard alert is grouped by: the service label
// and the instance, so that one instance built with other buckets (a
// rollout half done) is caught though the others are right.
func (m *plan) guardBy() []string {
	if m.svc == "instance" {
		return []string{m.svc}
	}
	return []string{m.svc, "instance"}
}

// guardAlerts are the guard alerts of every latency threshold, none for
// native histograms.
func (m *plan) guardAlerts() []rule {
	if m.cfg.Native {
		return nil
	}
	var rs []rule
	for _, t := range m.cfg.Objectives.Thresholds() {
		rs = append(rs, m.guard(t))
	}
	return rs
}

// guard is the guard alert of threshold t: requests in the last 5 minutes,
// unless a bucket series with le equal to t exists (le written as the
// other rules match it, on Prometheus 2 and 3).
func (m *plan) guard(t float64) rule {
	by := m.guardBy()
	sm := m.serviceMatch()
	op, v := le(t)
	traffic := sumBy(by, rate(selector(m.n.count, sm...), "5m")) + " > 0"
	bucket := "count by (" + strings.Join(by, ", ") + ") (" + selector(m.n.bucket, append(clone(sm), "le"+op+quote(v))...) + ")"
	return rule{
		Alert:       guardAlert,
		Expr:        traffic + "\nunless on (" + strings.Join(by, ", ") + ")\n" + bucket,
		Labels:      map[string]string{"severity": "ticket", "slo": latency.name, "threshold": num(t)},
		Annotations: m.guardAnnotations(t, "{{ $labels."+m.svc+" }}", "{{ $labels.instance }}", tmplEscape),
	}
}

// guardAnnotations are the summary, description and runbook of the guard
// alert of threshold t, with service and instance standing for theirs and
// esc applied to configured text (routes).
func (m *plan) guardAnnotations(t float64, service, instance string, esc func(string) string) map[string]string {
	th := num(t)
	var of []string
	for _, s := range m.latency {
		if s.threshold != t {
			continue
		}
		if s.global() {
			of = append(of, "the global latency objective")
		} else {
			of = append(of, "the latency objective of "+esc(s.route))
		}
	}
	summary := fmt.Sprintf("Service %s has no bucket at its latency threshold of %s s, so its latency SLO is not measured: give exporter.Config the objectives file (ObjectivesFile), or add %s to its Boundaries",
		service, th, th)
	desc := fmt.Sprintf("Instance %s of service %s serves requests, but its duration histogram %s has no bucket with le=%s, the threshold of %s. "+
		"Its requests within %s s cannot be counted, so %s records nothing for it and %s can never fire, however slow it is.",
		instance, service, strings.TrimSuffix(m.n.bucket, "_bucket"), th, strings.Join(of, " and "), th, latency.record+"*", latency.alert)
	runbook := "1. Give the service the objectives file these rules were generated from, in exporter.Config.ObjectivesFile or OTELRED_OBJECTIVES: " +
		"exporter.Setup then adds every latency threshold to the buckets, exactly.\n" +
		"2. Or add " + th + " to exporter.Config.Boundaries (or to the boundaries given to views.RED on the service's own MeterProvider); redgen prints the boundaries these rules expect.\n" +
		"3. If the service records native histograms, generate the rules with -native; if it records with the other naming profile, with that -naming."
	return map[string]string{"summary": summary, "description": desc, "runbook": runbook}
}

// guardTests are the promtool scenarios of the guard alerts: for each
// threshold, a histogram with traffic and every threshold's bucket but its
// own fires that threshold's alert alone; with every threshold's bucket
// (an integer one written as Prometheus 3 stores it) nothing fires; and
// with no traffic nothing fires, whatever the buckets.
func (m *plan) guardTests() []testGroup {
	ts := m.cfg.Objectives.Thresholds()
	if m.cfg.Native || len(ts) == 0 {
		return nil
	}
	var gs []testGroup
	for _, t := range ts {
		gs = append(gs, testGroup{
			Name:          fmt.Sprintf("guard: requests in a histogram without the bucket of the threshold %s s fire %s for it alone", num(t), guardAlert),
			Interval:      "1m",
			InputSeries:   m.guardSeries(testRate, func(b float64) bool { return b != t }),
			AlertRuleTest: []alertTest{{EvalTime: testEvalTime, Alertname: guardAlert, ExpAlerts: []expAlert{m.expectedGuard(t)}}},
		})
	}
	return append(gs,
		testGroup{
			Name:          "guard: requests in a histogram with the bucket of every threshold fire nothing",
			Interval:      "1m",
			InputSeries:   m.guardSeries(testRate, func(float64) bool { return true }),
			AlertRuleTest: []alertTest{{EvalTime: testEvalTime, Alertname: guardAlert}},
		},
		testGroup{
			Name:          "guard: a histogram without the threshold buckets but with no requests in the last 5 minutes fires nothing",
			Interval:      "1m",
			InputSeries:   m.guardSeries(0, func(float64) bool { return false }),
			AlertRuleTest: []alertTest{{EvalTime: testEvalTime, Alertname: guardAlert}},
		},
	)
}

// guardSeries are the duration histogram of perMinute requests a minute,
// after a first 1000, with a bucket for each threshold that has(t), each
// integer one labelled as Prometheus 3 stores it ("1.0"), a bucket that is
// no threshold, and +Inf.
func (m *plan) guardSeries(perMinute float64, has func(t float64) bool) []series {
	v := fmt.Sprintf("%s+%sx%d", fnum(testRate), fnum(perMinute), testMinutes)
	var ss []series
	ts := m.cfg.Objectives.Thresholds()
	for _, t := range ts {
		if !has(t) {
			continue
		}
		_, le := le(t)
		if strings.HasSuffix(le, `(\.0)?`) {
			le = strings.TrimSuffix(le, `(\.0)?`) + ".0"
		}
		ss = append(ss, series{m.n.bucket + m.seriesLabels("/any", `le="`+le+`"`), v})
	}
	other := ts[len(ts)-1] * 2 // above every threshold, so no threshold
	return append(ss,
		series{m.n.bucket + m.seriesLabels("/any", `le="`+num(other)+`"`), v},
		series{m.n.bucket + m.seriesLabels("/any", `le="+Inf"`), v},
		series{m.n.count + m.seriesLabels("/any"), v},
	)
}

// expectedGuard is the guard alert of threshold t on the test's instance.
func (m *plan) expectedGuard(t float64) expAlert {
	labels := map[string]string{"severity": "ticket", "slo": latency.name, "threshold": num(t), m.svc: m.testService()}
	instance := labels["instance"] // the service's own, when it is the service label
	if m.svc != "instance" {
		instance = testService + ":8080"
		labels["instance"] = instance
	}
	return expAlert{
		ExpLabels:      labels,
		ExpAnnotations: m.guardAnnotations(t, m.testService(), instance, func(s string) string { return s }),
	}
}
