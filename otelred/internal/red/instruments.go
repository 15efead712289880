package red

import (
	"fmt"

	"go.opentelemetry.io/otel/metric"
)

// Spec names the instruments of one kind of call (an HTTP server request,
// an HTTP client request, an operation, an RPC). An empty name means the
// signal does not have that instrument.
type Spec struct {
	Duration     string
	DurationDesc string
	Boundaries   []float64 // the duration histogram's bucket advice

	Active     string
	ActiveDesc string
	ActiveUnit string

	Requests     string
	RequestsDesc string
	Errors       string
	ErrorsDesc   string

	// RequestSize and ResponseSize are the body-size histograms, in
	// bytes; empty when they are not recorded.
	RequestSize      string
	RequestSizeDesc  string
	ResponseSize     string
	ResponseSizeDesc string
}

// Instruments are the instruments of one Spec. Active, Requests and Errors
// are asynchronous, read from otelred's own atomics in a callback.
type Instruments struct {
	Duration metric.Float64Histogram
	Active   metric.Int64ObservableUpDownCounter
	Requests metric.Int64ObservableCounter
	Errors   metric.Int64ObservableCounter

	// RequestSize and ResponseSize are nil when the Spec has none.
	RequestSize  metric.Int64Histogram
	ResponseSize metric.Int64Histogram

	// Observables lists the asynchronous instruments, for
	// Meter.RegisterCallback.
	Observables []metric.Observable
}

// NewInstruments creates the instruments of s with m.
func NewInstruments(m metric.Meter, s Spec) (Instruments, error) {
	var in Instruments
	var err error
	in.Duration, err = m.Float64Histogram(s.Duration,
		metric.WithUnit("s"),
		metric.WithDescription(s.DurationDesc),
		metric.WithExplicitBucketBoundaries(s.Boundaries...))
	if err != nil {
		return in, fmt.Errorf("otelred: creating %s: %w", s.Duration, err)
	}
	if s.RequestSize != "" {
		if in.RequestSize, err = m.Int64Histogram(s.RequestSize,
			metric.WithUnit("By"),
			metric.WithDescription(s.RequestSizeDesc)); err != nil {
			return in, fmt.Errorf("otelred: creating %s: %w", s.RequestSize, err)
		}
	}
	if s.ResponseSize != "" {
		if in.ResponseSize, err = m.Int64Histogram(s.ResponseSize,
			metric.WithUnit("By"),
			metric.WithDescription(s.ResponseSizeDesc)); err != nil {
			return in, fmt.Errorf("otelred: creating %s: %w", s.ResponseSize, err)
		}
	}
	if s.Active != "" {
		in.Active, err = m.Int64ObservableUpDownCounter(s.Active,
			metric.WithUnit(s.ActiveUnit),
			metric.WithDescription(s.ActiveDesc))
		if err != nil {
			return in, fmt.Errorf("otelred: creating %s: %w", s.Active, err)
		}
		in.Observables = append(in.Observables, in.Active)
	}
	if s.Requests != "" {
		in.Requests, err = m.Int64ObservableCounter(s.Requests,
			metric.WithUnit("{request}"),
			metric.WithDescription(s.RequestsDesc))
		if err != nil {
			return in, fmt.Errorf("otelred: creating %s: %w", s.Requests, err)
		}
		in.Errors, err = m.Int64ObservableCounter(s.Errors,
			metric.WithUnit("{request}"),
			metric.WithDescription(s.ErrorsDesc))
		if err != nil {
			return in, fmt.Errorf("otelred: creating %s: %w", s.Errors, err)
		}
		in.Observables = append(in.Observables, in.Requests, in.Errors)
	}
	return in, nil
}

// Counting reports whether requests and errors have counters of their own.
func (in *Instruments) Counting() bool { return in.Requests != nil }

// ObserveCounts reports the counters of s. Series that have seen nothing
// yet are left out, as are errors of a series without any.
func (in *Instruments) ObserveCounts(o metric.Observer, s *Series) {
	n, errs := s.Counts()
	if n > 0 {
		o.ObserveInt64(in.Requests, n, s.Observe...)
	}
	if errs > 0 {
		o.ObserveInt64(in.Errors, errs, s.Observe...)
	}
}

// ObserveGauge reports g once it has counted.
func (in *Instruments) ObserveGauge(o metric.Observer, g *Gauge) {
	if g.Used() {
		o.ObserveInt64(in.Active, g.Value(), g.Observe...)
	}
}
