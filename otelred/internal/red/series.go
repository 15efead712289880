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

	Requests atomic.Int64
	Errors   atomic.Int64
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

// Count counts one request of the series, and one error if it failed.
func (s *Series) Count(failed bool) {
	s.Requests.Add(1)
	if failed {
		s.Errors.Add(1)
	}
}

// Gauge is an in-flight count with its prebuilt options.
type Gauge struct {
	N       atomic.Int64
	used    atomic.Bool
	Observe []metric.ObserveOption
	// Series is where the series of the gauge's route are kept, once
	// found, for a gauge of one route: the request that counted in it can
	// then find its series without a map lookup.
	Series atomic.Pointer[Route[*Series]]
	_      [32]byte // keep hot counters of different gauges apart
}

// NewGauge builds the gauge of the attribute set kv. It is observed from
// its first Inc on, or at once if used.
func NewGauge(used bool, kv ...attribute.KeyValue) *Gauge {
	g := &Gauge{Observe: []metric.ObserveOption{metric.WithAttributeSet(attribute.NewSet(kv...))}}
	g.used.Store(used)
	return g
}

// Inc counts one more in flight.
func (g *Gauge) Inc() {
	g.N.Add(1)
	if !g.used.Load() {
		g.used.Store(true)
	}
}

// Dec counts one fewer in flight.
func (g *Gauge) Dec() { g.N.Add(-1) }

// Used reports whether the gauge has ever counted, and so is observed.
func (g *Gauge) Used() bool { return g.used.Load() }
