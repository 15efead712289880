package redpage

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// errDelta is the error of a reader that collects deltas.
var errDelta = errors.New("redpage: the reader collects deltas, which the page would take from the push exporter; give it a cumulative reader (a ManualReader, or the Prometheus exporter)")

// signal is one section of the page: the instruments of one kind of call,
// and the attribute whose value names a row.
type signal struct {
	title string
	scope string
	names otelred.Names
	key   attribute.Key // the row: route, peer, operation or method
	port  attribute.Key // with key, for client peers: host:port
	// unmatched notes the row of the requests that matched no route (the
	// HTTP server's row named names.Unmatched); "" for other signals.
	unmatched string
}

// overflowKey marks the series of what did not fit under otelred's
// cardinality limit, as the OpenTelemetry SDK marks its own.
const overflowKey = attribute.Key("otel.metric.overflow")

// The notes the feed gives the rows that are not one route, peer,
// operation or method.
const (
	unmatchedNote = "the requests that matched no route"
	overflowNote  = "the overflow past otelred's cardinality limit: the attribute sets that did not fit, folded into one series; " +
		"raise the limit with otelred.WithCardinalityLimit, or exporter Config.CardinalityLimit (OTELRED_CARDINALITY_LIMIT)"
)

// signals returns the sections of a profile, in the order the page shows
// them: HTTP server by route, HTTP client by peer, operations by name, and
// gRPC server calls by method.
func signals(p otelred.Profile) []signal {
	server, client, ops := p.Names(), p.ClientNames(), p.OperationNames()
	return []signal{
		{title: "HTTP server", scope: otelred.ScopeName, names: server, key: server.Route, unmatched: unmatchedNote},
		{title: "HTTP client", scope: otelred.ScopeName, names: client, key: client.ServerAddress, port: client.ServerPort},
		{title: "Operations", scope: otelred.ScopeName, names: ops, key: ops.Operation},
		{title: "gRPC server", scope: otelredgrpc.ScopeName, key: semconv.RPCMethodKey, names: otelred.Names{
			Duration:  otelredgrpc.DurationName,
			Active:    otelredgrpc.ActiveName,
			ErrorType: semconv.ErrorTypeKey,
		}},
	}
}

// series is what the instruments hold for one row, summed over its
// attribute sets: cumulative counts and buckets, and the requests in
// flight now.
type series struct {
	requests uint64
	errors   uint64
	hist     hist

	inFlight    int64
	hasInFlight bool

	// overflow marks the row of the overflow series.
	overflow bool
}

// add adds o into s.
func (s *series) add(o *series) {
	s.requests += o.requests
	s.errors += o.errors
	s.hist.add(o.hist)
	if o.hasInFlight {
		s.inFlight += o.inFlight
		s.hasInFlight = true
	}
}

// section is one signal's rows at one collection.
type section struct {
	rows  map[string]*series
	total series // every row; its in-flight count includes points with no row
}

func (sec *section) row(name string) *series {
	s, ok := sec.rows[name]
	if !ok {
		s = &series{}
		sec.rows[name] = s
	}
	return s
}

// point returns the row of a data point with attributes set, marked as
// the overflow's when set says so.
func (sec *section) point(sig signal, set *attribute.Set) *series {
	s := sec.row(sig.rowName(set))
	if v, ok := set.Value(overflowKey); ok && v.AsBool() {
		s.overflow = true
	}
	return s
}

// note is what the feed says of the row name, of series s: what it holds
// when it is not one route, peer, operation or method; "" otherwise.
func (sig signal) note(name string, s *series) string {
	switch {
	case s.overflow:
		return overflowNote
	case sig.unmatched != "" && name == sig.names.Unmatched:
		return sig.unmatched
	}
	return ""
}

// snapshot is one collection of the instruments, by section.
type snapshot struct {
	at       time.Time
	service  string
	sections []section // as signals
}

// read extracts the sections of sigs from one collection. Latency comes
// from the duration histogram (explicit or exponential). Requests and
// failures come from the counters where the profile has them (Classic),
// which are read together, so a route that always fails shows 100%;
// else from the histogram's count and its error type attribute; requests in flight
// from the active up-down counter. It fails with errDelta on delta
// temporality.
func read(rm *metricdata.ResourceMetrics, sigs []signal, at time.Time) (snapshot, error) {
	snap := snapshot{at: at, sections: make([]section, len(sigs))}
	if rm.Resource != nil {
		if v, ok := rm.Resource.Set().Value(semconv.ServiceNameKey); ok {
			snap.service = v.String()
		}
	}
	for i := range snap.sections {
		snap.sections[i].rows = map[string]*series{}
	}
	for _, sm := range rm.ScopeMetrics {
		for i, sig := range sigs {
			if sm.Scope.Name != sig.scope {
				continue
			}
			for _, m := range sm.Metrics {
				if err := sig.readMetric(&snap.sections[i], m); err != nil {
					return snapshot{}, err
				}
			}
		}
	}
	for i := range snap.sections {
		sec := &snap.sections[i]
		inFlight, has := sec.total.inFlight, sec.total.hasInFlight
		sec.total = series{}
		for _, s := range sec.rows {
			sec.total.add(s)
		}
		sec.total.inFlight, sec.total.hasInFlight = inFlight, has
	}
	return snap, nil
}

// readMetric adds one metric of the signal's scope to sec.
func (sig signal) readMetric(sec *section, m metricdata.Metrics) error {
	n := sig.names
	countErrors := n.Errors == "" && n.ErrorType != ""
	countRequests := n.Requests == ""
	switch {
	case m.Name == "":
	case m.Name == n.Duration:
		switch d := m.Data.(type) {
		case metricdata.Histogram[float64]:
			if d.Temporality == metricdata.DeltaTemporality {
				return errDelta
			}
			for _, dp := range d.DataPoints {
				s := sec.point(sig, &dp.Attributes)
				if countRequests {
					s.requests += dp.Count
				}
				if countErrors && dp.Attributes.HasValue(n.ErrorType) {
					s.errors += dp.Count
				}
				s.hist.add(explicitHist(dp.Bounds, dp.BucketCounts))
			}
		case metricdata.ExponentialHistogram[float64]:
			if d.Temporality == metricdata.DeltaTemporality {
				return errDelta
			}
			for _, dp := range d.DataPoints {
				s := sec.point(sig, &dp.Attributes)
				if countRequests {
					s.requests += dp.Count
				}
				if countErrors && dp.Attributes.HasValue(n.ErrorType) {
					s.errors += dp.Count
				}
				s.hist.add(exponentialHist(dp.Scale, dp.ZeroCount, dp.PositiveBucket.Offset, dp.PositiveBucket.Counts))
			}
		}
	case m.Name == n.Requests || m.Name == n.Errors:
		d, ok := m.Data.(metricdata.Sum[int64])
		if !ok {
			return nil
		}
		if d.Temporality == metricdata.DeltaTemporality {
			return errDelta
		}
		for _, dp := range d.DataPoints {
			s := sec.point(sig, &dp.Attributes)
			if m.Name == n.Requests {
				s.requests += uint64(max(dp.Value, 0))
			} else {
				s.errors += uint64(max(dp.Value, 0))
			}
		}
	case m.Name == n.Active:
		d, ok := m.Data.(metricdata.Sum[int64])
		if !ok {
			return nil
		}
		// Up-down counters are cumulative whatever the reader prefers.
		for _, dp := range d.DataPoints {
			sec.total.inFlight += dp.Value
			sec.total.hasInFlight = true
			if _, ok := dp.Attributes.Value(sig.key); ok {
				s := sec.point(sig, &dp.Attributes)
				s.inFlight += dp.Value
				s.hasInFlight = true
			}
		}
	}
	return nil
}

// rowName is the value of the signal's key in set ("" when it has none),
// with the port for client peers.
func (sig signal) rowName(set *attribute.Set) string {
	v, _ := set.Value(sig.key)
	name := v.String()
	if sig.port != "" {
		if p, ok := set.Value(sig.port); ok {
			name = fmt.Sprintf("%s:%s", name, p.String())
		}
	}
	return name
}

// delta is what happened to one row between two collections.
type delta struct {
	requests, errors uint64
	hist             hist
}

// since returns what cur holds beyond prev. A count that went down (the
// series restarted) counts from zero.
func (cur *series) since(prev *series) delta {
	d := delta{requests: cur.requests, errors: cur.errors, hist: cur.hist.clone()}
	if prev == nil {
		return d
	}
	if prev.requests <= d.requests {
		d.requests -= prev.requests
	}
	if prev.errors <= d.errors {
		d.errors -= prev.errors
	}
	d.hist = cur.hist.sub(prev.hist)
	return d
}
