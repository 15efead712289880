package exporter

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// maxExportBytes is the budget of one OTLP request. An export whose
// encoding is estimated at more goes out in several requests, each
// estimated at most this. It is half of the 4 MiB a gRPC server takes in
// one message unless configured otherwise (grpc-go's default, which the
// OpenTelemetry Collector keeps unless max_recv_msg_size_mib is set), so
// that a part stays far from that limit whatever a proxy or the
// collector adds, while the worst case at the default cardinality limit
// still takes only four or five requests (docs/reliability.md, "Hostile
// values").
const maxExportBytes = 2 << 20

// splittingExporter is an OTLP exporter (the SDK's) with a size budget.
// An Export that fits in budget bytes, by [requestSize]'s estimate, is
// passed on as it is, with no copy. A larger one is partitioned by [split]
// into several, each estimated at most budget bytes, exported in turn: a
// part that fails does not stop the others, and their errors come back
// joined, each naming its part. Once the export's context ends, the parts
// left are not sent; one error says how many. The parts share that
// context, and so the reader's timeout.
//
// Splitting is correct for cumulative and delta temporality alike. Each
// data point is the whole state of one stream (one attribute set of one
// metric) for the export, with its own start time, and goes in exactly
// one part, so a collector receives each stream once, as from one
// request. If a part fails, only its points are missing from that
// export, instead of all of them: with cumulative temporality the next
// export carries their totals; with delta they are lost, as a failed
// export's are.
type splittingExporter struct {
	sdkmetric.Exporter
	budget int
}

func (e splittingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	if requestSize(rm) <= e.budget {
		return e.Exporter.Export(ctx, rm)
	}
	parts := split(rm, e.budget)
	var errs []error
	for i, part := range parts {
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("exporter: OTLP export parts %d to %d of %d not sent: %w", i+1, len(parts), len(parts), err))
			break
		}
		if err := e.Exporter.Export(ctx, part); err != nil {
			errs = append(errs, fmt.Errorf("exporter: OTLP export part %d of %d: %w", i+1, len(parts), err))
		}
	}
	return errors.Join(errs...)
}

// split partitions rm's data points into parts, in their order: each a
// ResourceMetrics with rm's Resource, and the scopes and metrics (name,
// description, unit, temporality, monotonicity) of the points it holds,
// whose estimated size ([requestSize]) is at most budget. The points of
// one metric may span several parts. Every part holds at least one point
// (or one metric without points), so one point too large for budget goes
// alone. The points are not copied: each part's are a subslice of rm's.
//
// A part's estimate counts maxPrefix for the tag and length of each of its
// messages, so it is not below requestSize of the part, as long as the
// part is under 256 MiB.
func split(rm *metricdata.ResourceMetrics, budget int) []*metricdata.ResourceMetrics {
	s := &splitter{rm: rm, budget: budget, base: maxPrefix + resourceMetricsHead(rm)}
	s.next()
	for i := range rm.ScopeMetrics {
		sm := &rm.ScopeMetrics[i]
		s.from, s.fromSize = sm, maxPrefix+scopeHead(sm)
		if len(sm.Metrics) == 0 {
			s.whole(nil)
		}
		for j := range sm.Metrics {
			s.metric(&sm.Metrics[j])
		}
	}
	return s.parts
}

// splitter is the state of split. Sizes are estimates, counting
// maxPrefix for the tag and length of each message whose length is not
// known yet, which is more than they take.
type splitter struct {
	rm     *metricdata.ResourceMetrics
	budget int
	base   int // the size of a part with no scope

	parts []*metricdata.ResourceMetrics
	size  int                      // the last part's
	items int                      // the points, and whole metrics, the last part holds
	scope *metricdata.ScopeMetrics // rm's scope the last part's last scope holds metrics of; nil for none

	from     *metricdata.ScopeMetrics // rm's scope being split
	fromSize int                      // the size of its head
}

// next starts a new part.
func (s *splitter) next() {
	s.parts = append(s.parts, &metricdata.ResourceMetrics{Resource: s.rm.Resource})
	s.size, s.items, s.scope = s.base, 0, nil
}

// scopeCost returns what the scope being split adds to the last part
// before its first point there.
func (s *splitter) scopeCost() int {
	if s.scope == s.from {
		return 0
	}
	return s.fromSize
}

// fits reports whether the last part takes cost more bytes: if it holds
// nothing yet, whatever cost is.
func (s *splitter) fits(cost int) bool { return s.items == 0 || s.size+cost <= s.budget }

// put adds cost to the last part, for one point or whole metric of the
// scope being split, and opens that scope in the part if it is not open.
func (s *splitter) put(cost int) {
	s.size += cost
	s.items++
	if s.scope != s.from {
		p := s.parts[len(s.parts)-1]
		p.ScopeMetrics = append(p.ScopeMetrics, metricdata.ScopeMetrics{Scope: s.from.Scope})
		s.scope = s.from
	}
}

// add appends m, with data, to the last part's last scope.
func (s *splitter) add(m *metricdata.Metrics, data metricdata.Aggregation) {
	p := s.parts[len(s.parts)-1]
	sm := &p.ScopeMetrics[len(p.ScopeMetrics)-1]
	sm.Metrics = append(sm.Metrics, metricdata.Metrics{Name: m.Name, Description: m.Description, Unit: m.Unit, Data: data})
}

// whole adds m as it is, or the scope being split alone when m is nil.
func (s *splitter) whole(m *metricdata.Metrics) {
	n := 0
	if m != nil {
		n = field(metricSize(m))
	}
	if !s.fits(s.scopeCost() + n) {
		s.next()
	}
	s.put(s.scopeCost() + n)
	if m != nil {
		s.add(m, m.Data)
	}
}

func (s *splitter) metric(m *metricdata.Metrics) {
	switch a := m.Data.(type) {
	case metricdata.Gauge[int64]:
		splitMetric(s, m, a.DataPoints, numberSize, func(p []metricdata.DataPoint[int64]) metricdata.Aggregation { a.DataPoints = p; return a })
	case metricdata.Gauge[float64]:
		splitMetric(s, m, a.DataPoints, numberSize, func(p []metricdata.DataPoint[float64]) metricdata.Aggregation { a.DataPoints = p; return a })
	case metricdata.Sum[int64]:
		splitMetric(s, m, a.DataPoints, numberSize, func(p []metricdata.DataPoint[int64]) metricdata.Aggregation { a.DataPoints = p; return a })
	case metricdata.Sum[float64]:
		splitMetric(s, m, a.DataPoints, numberSize, func(p []metricdata.DataPoint[float64]) metricdata.Aggregation { a.DataPoints = p; return a })
	case metricdata.Histogram[int64]:
		splitMetric(s, m, a.DataPoints, histogramSize, func(p []metricdata.HistogramDataPoint[int64]) metricdata.Aggregation { a.DataPoints = p; return a })
	case metricdata.Histogram[float64]:
		splitMetric(s, m, a.DataPoints, histogramSize, func(p []metricdata.HistogramDataPoint[float64]) metricdata.Aggregation { a.DataPoints = p; return a })
	case metricdata.ExponentialHistogram[int64]:
		splitMetric(s, m, a.DataPoints, exponentialSize, func(p []metricdata.ExponentialHistogramDataPoint[int64]) metricdata.Aggregation {
			a.DataPoints = p
			return a
		})
	case metricdata.ExponentialHistogram[float64]:
		splitMetric(s, m, a.DataPoints, exponentialSize, func(p []metricdata.ExponentialHistogramDataPoint[float64]) metricdata.Aggregation {
			a.DataPoints = p
			return a
		})
	case metricdata.Summary:
		splitMetric(s, m, a.DataPoints, summarySize, func(p []metricdata.SummaryDataPoint) metricdata.Aggregation { a.DataPoints = p; return a })
	default: // no data, or a kind the SDK's exporters refuse
		s.whole(m)
	}
}

// splitMetric adds m's points to the parts, m with each run of them that
// one part holds: with returns m's data holding only those.
func splitMetric[P any](s *splitter, m *metricdata.Metrics, points []P, size func(*P) int, with func([]P) metricdata.Aggregation) {
	if len(points) == 0 {
		s.whole(m)
		return
	}
	head := maxPrefix + metricHead(m)
	start := -1 // m's first point in the last part, if it holds any
	for i := range points {
		n := field(size(&points[i]))
		if start >= 0 && !s.fits(n) {
			s.add(m, with(points[start:i:i]))
			start = -1
			s.next()
		}
		if start < 0 {
			if !s.fits(s.scopeCost() + head + n) {
				s.next()
			}
			n += s.scopeCost() + head
			start = i
		}
		s.put(n)
	}
	s.add(m, with(points[start:len(points):len(points)]))
}

// varintSize returns the size of x as a varint.
func varintSize(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// field returns the size of a length-delimited field of n bytes: the tag,
// the length and the content.
func field(n int) int { return 1 + varintSize(uint64(n)) + n }

// packed returns the size of a packed repeated field of n bytes, which is
// left out when empty.
func packed(n int) int {
	if n == 0 {
		return 0
	}
	return field(n)
}

// zigzag32 returns the size of n as a sint32 field's value.
func zigzag32(n int32) int { return varintSize(uint64(uint32(n<<1) ^ uint32(n>>31))) }

const (
	fixedField = 1 + 8 // a fixed64, sfixed64 or double with its tag
	smallEnum  = 1 + 1 // a bool, or an enum under 128, with its tag
	// maxPrefix is the most the tag and length of a message under 2^28
	// bytes take: what the estimate of a part reserves for each
	// enclosing message whose length is not known yet.
	maxPrefix = 1 + 4
)

// requestSize returns an upper bound of the size of the
// ExportMetricsServiceRequest that the SDK's OTLP exporters encode for rm
// (the gRPC message, or the HTTP body before compression). It counts each
// field as protobuf encodes it (a one-byte tag, since every field number
// is under 16, and a varint length before each string, bytes and
// message), and counts as present the scalar fields that protobuf leaves
// out when zero. It allocates nothing, except to read an attribute value
// that is a slice or bytes.
func requestSize(rm *metricdata.ResourceMetrics) int {
	n := resourceMetricsHead(rm)
	for i := range rm.ScopeMetrics {
		n += field(scopeMetricsSize(&rm.ScopeMetrics[i]))
	}
	return field(n)
}

// resourceMetricsHead returns the size of rm's fields but its scopes.
func resourceMetricsHead(rm *metricdata.ResourceMetrics) int {
	iter := rm.Resource.Iter()
	return field(iterSize(&iter)) + field(len(rm.Resource.SchemaURL()))
}

func scopeMetricsSize(sm *metricdata.ScopeMetrics) int {
	n := scopeHead(sm)
	for i := range sm.Metrics {
		n += field(metricSize(&sm.Metrics[i]))
	}
	return n
}

// scopeHead returns the size of sm's fields but its metrics.
func scopeHead(sm *metricdata.ScopeMetrics) int {
	iter := sm.Scope.Attributes.Iter()
	scope := field(len(sm.Scope.Name)) + field(len(sm.Scope.Version)) + iterSize(&iter)
	return field(scope) + field(len(sm.Scope.SchemaURL))
}

func metricSize(m *metricdata.Metrics) int {
	n := 0
	switch a := m.Data.(type) {
	case metricdata.Gauge[int64]:
		n = pointsSize(a.DataPoints, numberSize)
	case metricdata.Gauge[float64]:
		n = pointsSize(a.DataPoints, numberSize)
	case metricdata.Sum[int64]:
		n = pointsSize(a.DataPoints, numberSize)
	case metricdata.Sum[float64]:
		n = pointsSize(a.DataPoints, numberSize)
	case metricdata.Histogram[int64]:
		n = pointsSize(a.DataPoints, histogramSize)
	case metricdata.Histogram[float64]:
		n = pointsSize(a.DataPoints, histogramSize)
	case metricdata.ExponentialHistogram[int64]:
		n = pointsSize(a.DataPoints, exponentialSize)
	case metricdata.ExponentialHistogram[float64]:
		n = pointsSize(a.DataPoints, exponentialSize)
	case metricdata.Summary:
		n = pointsSize(a.DataPoints, summarySize)
	}
	return metricHead(m) + n
}

// metricHead returns the size of m's fields, and of its data's, but its
// points, with the data message's length prefix at most maxPrefix.
func metricHead(m *metricdata.Metrics) int {
	// The temporality, and a sum's monotonicity, counted for every kind.
	return field(len(m.Name)) + field(len(m.Description)) + field(len(m.Unit)) + maxPrefix + 2*smallEnum
}

// pointsSize returns the size of points as repeated fields.
func pointsSize[P any](points []P, size func(*P) int) int {
	n := 0
	for i := range points {
		n += field(size(&points[i]))
	}
	return n
}

func numberSize[N int64 | float64](p *metricdata.DataPoint[N]) int {
	iter := p.Attributes.Iter()
	// The start and end times, and the value.
	return iterSize(&iter) + 3*fixedField + exemplarsSize(p.Exemplars)
}

func histogramSize[N int64 | float64](p *metricdata.HistogramDataPoint[N]) int {
	iter := p.Attributes.Iter()
	// The start and end times, count, sum, min and max.
	return iterSize(&iter) + 6*fixedField + packed(8*len(p.BucketCounts)) + packed(8*len(p.Bounds)) + exemplarsSize(p.Exemplars)
}

func exponentialSize[N int64 | float64](p *metricdata.ExponentialHistogramDataPoint[N]) int {
	iter := p.Attributes.Iter()
	// The start and end times, count, sum, zero count, zero threshold,
	// min and max.
	return iterSize(&iter) + 8*fixedField + 1 + zigzag32(p.Scale) +
		field(bucketsSize(&p.PositiveBucket)) + field(bucketsSize(&p.NegativeBucket)) + exemplarsSize(p.Exemplars)
}

func bucketsSize(b *metricdata.ExponentialBucket) int {
	counts := 0
	for _, c := range b.Counts {
		counts += varintSize(c)
	}
	return 1 + zigzag32(b.Offset) + packed(counts)
}

func summarySize(p *metricdata.SummaryDataPoint) int {
	iter := p.Attributes.Iter()
	// The start and end times, count and sum; each quantile and value.
	return iterSize(&iter) + 4*fixedField + len(p.QuantileValues)*field(2*fixedField)
}

func exemplarsSize[N int64 | float64](exemplars []metricdata.Exemplar[N]) int {
	n := 0
	for i := range exemplars {
		e := &exemplars[i]
		// The time and the value.
		m := 2*fixedField + field(len(e.SpanID)) + field(len(e.TraceID))
		for _, kv := range e.FilteredAttributes {
			m += field(keyValueSize(kv))
		}
		n += field(m)
	}
	return n
}

// iterSize returns the size of the attributes iter yields, as repeated
// KeyValue fields.
func iterSize(iter *attribute.Iterator) int {
	n := 0
	for iter.Next() {
		n += field(keyValueSize(iter.Attribute()))
	}
	return n
}

func keyValueSize(kv attribute.KeyValue) int {
	return field(len(kv.Key)) + field(anyValueSize(kv.Value))
}

// anyValueSize returns the size of v as an AnyValue message, as the SDK
// converts it.
func anyValueSize(v attribute.Value) int {
	switch v.Type() {
	case attribute.EMPTY:
		return 0
	case attribute.BOOL:
		return smallEnum
	case attribute.INT64:
		return 1 + varintSize(uint64(v.AsInt64()))
	case attribute.FLOAT64:
		return fixedField
	case attribute.STRING:
		return field(len(v.AsString()))
	case attribute.BYTESLICE:
		return field(len(v.AsByteSlice()))
	case attribute.BOOLSLICE:
		// Each an AnyValue holding a bool.
		return field(len(v.AsBoolSlice()) * field(smallEnum))
	case attribute.INT64SLICE:
		n := 0
		for _, x := range v.AsInt64Slice() {
			n += field(1 + varintSize(uint64(x)))
		}
		return field(n)
	case attribute.FLOAT64SLICE:
		return field(len(v.AsFloat64Slice()) * field(fixedField))
	case attribute.STRINGSLICE:
		n := 0
		for _, s := range v.AsStringSlice() {
			n += field(field(len(s)))
		}
		return field(n)
	case attribute.SLICE:
		n := 0
		for _, x := range v.AsSlice() {
			n += field(anyValueSize(x))
		}
		return field(n)
	case attribute.MAP:
		n := 0
		for _, kv := range v.AsMap() {
			n += field(keyValueSize(kv))
		}
		return field(n)
	}
	return field(len("INVALID")) // what the SDK sends for a type it does not know
}
