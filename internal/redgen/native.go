package redgen

import (
	"fmt"
	"strconv"
	"strings"
)

// Native histograms ([Config.Native]) are one series per attribute set,
// named after the instrument with no _bucket, _count or _sum suffix, whose
// samples are whole histograms. The rules and the dashboard read them with
// PromQL's histogram functions, which Prometheus 2.40 and later have:
//
//   - a rate of requests is histogram_count(rate(h[5m])), the same number
//     the explicit histogram's _count gives;
//   - a quantile is histogram_quantile(q, sum by (...) (rate(h[5m]))),
//     with no le label to keep;
//   - the latency SLI is histogram_fraction(0, threshold, ...), the share
//     of requests at or below the threshold, interpolated inside the one
//     bucket that holds the threshold. Its error is at most that bucket's
//     share of the requests, whose width is a fixed fraction of its bound
//     (about 9% at scale 3, 2.7‰ at scale 8): so the threshold need not be
//     a bucket boundary, and views.SLOBoundaries is not needed.
//
// Every rule records a float, never a histogram, so the rules need no
// native-histogram support in recording rules.
//
// promtool 2.42, the version Debian ships, cannot write a native histogram
// in a unit test's input series (the {{schema:...}} notation came later).
// So [Tests] feeds the alerts the SLIs the recording rules would record
// (see nativeSLIs), and the recording rules themselves are linted with
// promtool check rules and run against a real Prometheus.

// nativeDurationDesc describes the duration panel of native histograms.
const nativeDurationDesc = "Request duration percentiles per service and route, from native histograms: interpolated within one bucket, whose width is a fixed fraction of its bound (about 9% at scale 3, 2.7‰ at scale 8), wherever the durations lie."

// nativeSLIs are the SLIs of objective s of kind k as the recording rules
// record them in native mode, for the alerts' unit tests: a share bad of
// the requests failed (or were slow) over the last longHours of the
// test's 3 days, and none before, so an SLI over a window of w hours is
// bad × min(1, longHours / w). They are sampled every minute, as the
// explicit scenarios are, and the alerts read them as they would read
// recorded ones.
func (m *plan) nativeSLIs(k kind, s scope, bad, longHours float64) []series {
	labels := []string{m.svc + "=" + quote(m.testService())}
	if !s.global() {
		labels = append(labels, m.n.route+"="+quote(s.route))
	}
	var ss []series
	for _, w := range sliWindows {
		v := bad * min(1, longHours/windowHours(w))
		ss = append(ss, series{k.record + w + "{" + strings.Join(labels, ", ") + "}", fmt.Sprintf("%s+0x%d", fnum(v), testMinutes)})
	}
	return ss
}

// windowHours is the length of an SLI window ("5m", "6h", "1d") in hours.
func windowHours(w string) float64 {
	n, _ := strconv.ParseFloat(w[:len(w)-1], 64)
	switch w[len(w)-1] {
	case 'm':
		return n / 60
	case 'd':
		return n * 24
	}
	return n
}

// useNative names the native histograms of every signal.
func (m *plan) useNative() {
	m.n.redNames = m.n.toNative()
	m.client.redNames = m.client.toNative()
	m.ops.redNames = m.ops.toNative()
	m.grpc.redNames = m.grpc.toNative()
}

// toNative returns r for a native duration histogram: bucket and count
// name the histogram itself, and so do requests and errors where they
// counted its observations (a profile with counters of its own keeps them).
func (r redNames) toNative() redNames {
	h := strings.TrimSuffix(r.bucket, "_bucket")
	if r.requests == r.count {
		r.requests = h
	}
	if r.errors == r.count {
		r.errors = h
	}
	r.bucket, r.count, r.native = h, h, true
	return r
}

// countRate is the per-second rate of the counter name, or of the
// observations of the native histogram name.
func (r redNames) countRate(name string, matchers []string, window string) string {
	e := rate(selector(name, matchers...), window)
	if r.native && name == r.count {
		return "histogram_count(" + e + ")"
	}
	return e
}

// nativeQuantile is the q-quantile of the native histogram h.
func nativeQuantile(q float64, h string, by, matchers []string, window string) string {
	return "histogram_quantile(" + num(q) + ", " + sumBy(by, rate(selector(h, matchers...), window)) + ")"
}

// nativeFraction is the share of the observations of the native histogram
// h at or below threshold.
func nativeFraction(threshold float64, h string, by, matchers []string, window string) string {
	return "histogram_fraction(0, " + num(threshold) + ", " + sumBy(by, rate(selector(h, matchers...), window)) + ")"
}
