package red

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// OverflowKey marks the series that holds what did not fit under the
// cardinality limit, as the OpenTelemetry SDK marks its own.
const OverflowKey = attribute.Key("otel.metric.overflow")

// Overflow is the value, in the attribute that names a series (a route, a
// host, an operation, an RPC method), of the series of what did not fit
// under the cardinality limit. otelred.Overflow is the same value.
const Overflow = "overflow"

// OverflowAttrs returns kv with the attributes that mark the series of
// what did not fit: key, the attribute that names a series, is
// [Overflow], and [OverflowKey] is true.
func OverflowAttrs(key attribute.Key, kv ...attribute.KeyValue) []attribute.KeyValue {
	return append(kv[:len(kv):len(kv)], key.String(Overflow), OverflowKey.Bool(true))
}

// Series is one attribute set with its prebuilt options, so recording
// allocates nothing, and the counts behind the counter instruments, which
// are read at collection time instead of costing an SDK call per request.
type Series struct {
	Record  []metric.RecordOption
	Observe []metric.ObserveOption
	// Failed is set when every request of the series is a failure.
	Failed bool
	// Overflow is set on the series of what did not fit in the cache,
	// whose requests may or may not be failures.
	Overflow bool
	// NoRoute is set on the series of server requests that matched no
	// route.
	NoRoute bool

	// counts are the requests and errors, striped: a request counts in
	// the stripe of the Stripe its call picked, so requests on different
	// CPUs do not write the same cache line. They are made by the first
	// Count: a series of a profile without counters has none.
	counts atomic.Pointer[stripes]
}

// NewSeries builds the series of the attribute set kv.
func NewSeries(failed bool, kv ...attribute.KeyValue) *Series {
	set := attribute.NewSet(kv...)
	return &Series{
		Record:  []metric.RecordOption{metric.WithAttributeSet(set)},
		Observe: []metric.ObserveOption{metric.WithAttributeSet(set)},
		Failed:  failed,
	}
}

// Count counts one request of the series, and one error if it failed, in
// the stripe of stripe (see [Stripe]). A Failed series counts requests
// only: its errors are its requests.
func (s *Series) Count(stripe uint32, failed bool) {
	st := s.counts.Load()
	if st == nil {
		st = s.makeCounts()
	}
	c := st.at(stripe)
	c.n.Add(1)
	if failed && !s.Failed {
		c.errs.Add(1)
	}
}

// makeCounts makes the series' counts, once, and returns them.
func (s *Series) makeCounts() *stripes {
	st := newStripes()
	if s.counts.CompareAndSwap(nil, &st) {
		return &st
	}
	return s.counts.Load()
}

// Counts returns the requests and errors counted so far. Those of a
// Failed series are the same number, read once, so that no collection
// shows a failing series with fewer errors than requests.
func (s *Series) Counts() (requests, errors int64) {
	st := s.counts.Load()
	if st == nil {
		return 0, 0
	}
	n, errs := st.sum()
	if s.Failed {
		return n, n
	}
	return n, errs
}

// Gauge is an in-flight count with its prebuilt options. It is striped,
// as a Series's counts are: a call increments and decrements the same
// stripe, so no stripe, and no sum of them, is ever negative.
type Gauge struct {
	n       stripes
	used    atomic.Bool
	Observe []metric.ObserveOption
	// Series is where the series of the gauge's route are kept, once
	// found, for a gauge of one route: the request that counted in it can
	// then find its series without a map lookup.
	Series atomic.Pointer[Route[*Series]]
}

// NewGauge builds the gauge of the attribute set kv. It is observed from
// its first Inc on, or at once if used.
func NewGauge(used bool, kv ...attribute.KeyValue) *Gauge {
	g := &Gauge{n: newStripes(), Observe: []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(kv...))}}
	g.used.Store(used)
	return g
}

// Inc counts one more in flight, in the stripe of stripe (see [Stripe]).
func (g *Gauge) Inc(stripe uint32) {
	g.n.at(stripe).n.Add(1)
	if !g.used.Load() {
		g.used.Store(true)
	}
}

// Dec counts one fewer in flight. stripe must be the one its Inc was given.
func (g *Gauge) Dec(stripe uint32) { g.n.at(stripe).n.Add(-1) }

// Value is the count in flight.
func (g *Gauge) Value() int64 {
	n, _ := g.n.sum()
	return n
}

// Used reports whether the gauge has ever counted, and so is observed.
func (g *Gauge) Used() bool { return g.used.Load() }
