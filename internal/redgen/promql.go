package redgen

import (
	"strconv"
	"strings"
)

// selector writes metric{matchers}, leaving out empty matchers.
func selector(metric string, matchers ...string) string {
	var ms []string
	for _, m := range matchers {
		if m != "" {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// serviceMatch selects Config.Service, if set.
func (m *plan) serviceMatch() []string {
	if m.cfg.Service == "" {
		return nil
	}
	return []string{m.svc + "=" + quote(m.cfg.Service)}
}

// dashServiceMatch selects the services of the dashboard's variable.
func (m *plan) dashServiceMatch() []string {
	return []string{m.svc + `=~"` + varService + `"`}
}

// matched selects the requests that matched a route: in Semconv those with
// a route label, as a request that matched none has none; in Classic those
// whose route is not otelred.Unmatched. Every rule and query that leaves
// such requests out uses it.
func (n names) matched() string { return n.route + "!=" + quote(n.unmatched) }

// scopeMatch selects the requests that count toward s, in the services
// svc selects: one route, or every route that matched but those with
// their own objective.
func (m *plan) scopeMatch(s scope, svc []string) []string {
	ms := clone(svc)
	if !s.global() {
		return append(ms, m.n.route+"="+quote(s.route))
	}
	ms = append(ms, m.n.matched())
	for _, r := range s.exclude {
		ms = append(ms, m.n.route+"!="+quote(r))
	}
	return ms
}

// sliBy lists the labels an SLI is grouped by: the service label only. A
// route's SLI gets its route label from its recording rule.
func (m *plan) sliBy() []string { return []string{m.svc} }

func sumBy(by []string, expr string) string {
	return "sum by (" + strings.Join(by, ", ") + ") (" + expr + ")"
}

func rate(sel, window string) string { return "rate(" + sel + "[" + window + "])" }

// requestRate is the per-second rate of requests.
func (m *plan) requestRate(by, matchers []string, window string) string {
	return m.n.rateOf(by, matchers, window)
}

// errorRatio is the ratio of failed requests to all requests.
func (m *plan) errorRatio(by, matchers []string, window string) string {
	return m.n.errorRatioOf(by, matchers, window)
}

// rateOf is the per-second rate of the requests.
func (r redNames) rateOf(by, matchers []string, window string) string {
	return sumBy(by, r.countRate(r.requests, matchers, window))
}

// errorRatioOf is the ratio of failed requests (errors, with errMatch) to
// all requests. A group without failures has no failure series: it reads
// 0, not nothing.
func (r redNames) errorRatioOf(by, matchers []string, window string) string {
	errs := sumBy(by, r.countRate(r.errors, append(clone(matchers), r.errMatch), window))
	all := r.rateOf(by, matchers, window)
	return "(\n  " + errs + "\n  or\n  0 * " + all + "\n)\n/\n" + all
}

// quantileOf is the q-quantile of the duration histogram.
func (r redNames) quantileOf(q float64, by, matchers []string, window string) string {
	if r.native {
		return nativeQuantile(q, r.bucket, by, matchers, window)
	}
	return "histogram_quantile(" + num(q) + ", " +
		sumBy(append(clone(by), "le"), rate(selector(r.bucket, matchers...), window)) + ")"
}

// The RED of a signal other than the HTTP server's.
func (sn signalNames) requestRate(by, matchers []string, window string) string {
	return sn.rateOf(by, matchers, window)
}

func (sn signalNames) errorRatio(by, matchers []string, window string) string {
	return sn.errorRatioOf(by, matchers, window)
}

func (sn signalNames) quantile(q float64, by, matchers []string, window string) string {
	return sn.quantileOf(q, by, matchers, window)
}

// serviceMatch selects Config.Service on the series of sn, if set.
func (m *plan) signalServiceMatch(sn signalNames) []string {
	if m.cfg.Service == "" {
		return nil
	}
	return []string{sn.svc + "=" + quote(m.cfg.Service)}
}

// slowRatio is the ratio of requests slower than threshold to all requests.
func (m *plan) slowRatio(by, matchers []string, threshold float64, window string) string {
	return "1 - (\n" + indent(m.fastRatio(by, matchers, threshold, window)) + "\n)"
}

// fastRatio is the ratio of requests that took at most threshold to all
// requests, read off the bucket whose upper bound is the threshold.
func (m *plan) fastRatio(by, matchers []string, threshold float64, window string) string {
	if m.n.native {
		return nativeFraction(threshold, m.n.bucket, by, matchers, window)
	}
	op, v := le(threshold)
	fast := sumBy(by, rate(selector(m.n.bucket, append(clone(matchers), "le"+op+quote(v))...), window))
	all := sumBy(by, rate(selector(m.n.count, matchers...), window))
	return fast + "\n/\n" + all
}

// quantile is the q-quantile of the request duration.
func (m *plan) quantile(q float64, by, matchers []string, window string) string {
	return m.n.quantileOf(q, by, matchers, window)
}

// sli is the bad-request ratio of objective s of kind k over window in the
// services svc selects, computed from the raw series.
func (m *plan) sli(k kind, s scope, window string, svc []string) string {
	if k == latency {
		return m.slowRatio(m.sliBy(), m.scopeMatch(s, svc), s.threshold, window)
	}
	return m.errorRatio(m.sliBy(), m.scopeMatch(s, svc), window)
}

// good is the good-request ratio of objective s of kind k over window in
// the services svc selects, computed from the raw series: the SLI.
func (m *plan) good(k kind, s scope, window string, svc []string) string {
	if k == latency {
		return m.fastRatio(m.sliBy(), m.scopeMatch(s, svc), s.threshold, window)
	}
	return "1 - (\n" + indent(m.errorRatio(m.sliBy(), m.scopeMatch(s, svc), window)) + "\n)"
}

// recorded selects the recorded SLI series of objective s in the services
// svc selects.
func (m *plan) recorded(k kind, s scope, window string, svc []string) string {
	return selector(k.record+window, append(clone(svc), m.n.route+"="+quote(s.route))...)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func clone(s []string) []string { return append([]string(nil), s...) }
