package views

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// ErrInvalidExponential is wrapped by every error [Exponential] returns for
// a bad maximum size or scale. The message names the parameter and the
// value.
var ErrInvalidExponential = errors.New("views: invalid exponential histogram")

// The defaults of [Exponential]'s parameters: the OpenTelemetry
// specification's defaults for the base-2 exponential histogram
// aggregation, which the OTLP exporters also use for
// OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION.
const (
	// DefaultMaxSize is the default number of buckets of each series.
	DefaultMaxSize = 160
	// DefaultMaxScale is the default, and highest, starting scale.
	DefaultMaxScale = 20
)

// The range of the maximum scale [Exponential] accepts. The SDK accepts
// scales down to -10, but the Prometheus exporter drops a series whose
// scale is below -4, the lowest schema of a Prometheus native histogram.
const (
	minScale = -4
	maxScale = 20
)

// Exponential returns the views of [RED], with a base-2 exponential
// aggregation instead of explicit buckets: otelred's HTTP server, HTTP
// client and operation duration histograms of profile p, matched in
// otelred's scope, and otelredgrpc's gRPC server histogram, matched in its
// own.
//
// An exponential histogram needs no boundaries. Each series starts at
// maxScale, where bucket i covers (2^(i·2^-scale), 2^((i+1)·2^-scale)], and
// halves its resolution (scale-1) whenever the durations it has seen need
// more than maxSize buckets; so its buckets' relative width is fixed
// (about 4.4% at scale 4, 9% at scale 3), wherever the durations lie. The
// Prometheus exporter serves such a histogram as a Prometheus native
// histogram when the scrape negotiates the protobuf format (Prometheus 3
// with scrape_native_histograms: true, Prometheus 2 with
// --enable-feature=native-histograms), at a scale of at most 8, the
// highest a native histogram has; OTLP pushes it as an
// ExponentialHistogram. The text formats carry only its _count and _sum
// (and a +Inf bucket), so a Prometheus without native histograms cannot
// compute quantiles from it.
//
// Since every series has its own buckets, [SLOBoundaries] and the exact
// SLO boundaries do not apply: histogram_fraction and histogram_quantile
// interpolate inside one bucket, which bounds their error by the bucket's
// relative width.
//
// Like RED, Exponential also drops otelhttp's server and client duration
// histograms ([Otelhttp] keeps them, with explicit buckets). Register the
// views as those of RED: before any [Drop] or [Keep] view, and instead of
// RED, not beside it (the first registered view of an instrument wins).
//
// maxSize must be at least 1, and maxScale within -4 to 20; [DefaultMaxSize]
// and [DefaultMaxScale] are the usual values. An error wraps
// [ErrInvalidExponential]; an unknown profile returns an error wrapping
// [otelred.ErrInvalidOption].
func Exponential(p otelred.Profile, maxSize, maxScale int32) ([]metric.View, error) {
	name := p.Names().Duration
	if name == "" {
		return nil, fmt.Errorf("%w: views.Exponential: unknown profile %v", otelred.ErrInvalidOption, p)
	}
	agg, err := exponential(maxSize, maxScale)
	if err != nil {
		return nil, err
	}
	server := metric.NewView(
		metric.Instrument{Name: name, Scope: instrumentation.Scope{Name: otelred.ScopeName}},
		metric.Stream{Aggregation: agg},
	)
	return append([]metric.View{server}, durationViews(p, agg)...), nil
}

// exponential validates the parameters and returns the aggregation.
func exponential(maxSize, scale int32) (metric.AggregationBase2ExponentialHistogram, error) {
	if maxSize < 1 {
		return metric.AggregationBase2ExponentialHistogram{}, fmt.Errorf("%w: maxSize %d: must be at least 1", ErrInvalidExponential, maxSize)
	}
	if scale < minScale || scale > maxScale {
		return metric.AggregationBase2ExponentialHistogram{}, fmt.Errorf("%w: maxScale %d: must be within %d to %d", ErrInvalidExponential, scale, minScale, maxScale)
	}
	return metric.AggregationBase2ExponentialHistogram{MaxSize: maxSize, MaxScale: scale}, nil
}
