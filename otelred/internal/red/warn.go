package red

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// The sentinels of the warnings otelred's instrumentations report through
// otel.Handle, once each, when they cannot do what they were set up to.
// The otelred package exports each under the same name. Each report names
// the fix and a section of docs/middleware.md (see "Warnings" there).
var (
	ErrNoMeterProvider  = errors.New("otelred: no MeterProvider: the global one is still OpenTelemetry's default, which records nothing")
	ErrNoRoute          = errors.New("otelred: successful requests are recorded with no route")
	ErrCountedTwice     = errors.New("otelred: each request may be counted twice")
	ErrCardinalityLimit = errors.New("otelred: the cardinality limit folds attribute sets into the overflow series")
)

// The doc sections the warnings name.
const (
	DocNoMeterProvider  = "docs/middleware.md#no-meterprovider"
	DocNoRoute          = "docs/middleware.md#requests-with-no-route"
	DocCountedTwice     = "docs/middleware.md#counted-twice"
	DocCardinalityLimit = "docs/middleware.md#the-cardinality-limit"
)

// globalPkg and globalType name the MeterProvider that OpenTelemetry's
// global starts as: a delegating provider of an internal package, which
// records nothing until otel.SetMeterProvider gives it a delegate.
const (
	globalPkg  = "go.opentelemetry.io/otel/internal/global"
	globalType = "meterProvider"
)

// DefaultGlobal reports whether mp is OpenTelemetry's global
// MeterProvider as it starts, delegating nowhere yet, judged by its type
// (otelred does not import the internal package that defines it) and by
// probe, an instrument mp created: the delegating provider's instruments
// are disabled until it has a delegate. Any other provider, a no-op one
// set on purpose included, is not the default.
func DefaultGlobal(mp metric.MeterProvider, probe interface{ Enabled(context.Context) bool }) bool {
	t := reflect.TypeOf(mp)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().PkgPath() != globalPkg || t.Elem().Name() != globalType {
		return false
	}
	return !probe.Enabled(context.Background())
}

// WarnNoMeterProvider reports, through otel.Handle, that ctor was given
// no MeterProvider (opt names the option that gives one) while the global
// one is still the default.
func WarnNoMeterProvider(ctor, opt string) {
	otel.Handle(fmt.Errorf("%w: %s was given no %s, and records nothing until otel.SetMeterProvider is called "+
		"(from then on it records into the provider set). Pass %s(provider), the Provider of exporter.Setup say, "+
		"or call otel.SetMeterProvider before serving (see %s)", ErrNoMeterProvider, ctor, opt, opt, DocNoMeterProvider))
}

// SameProvider reports whether a and b are the same MeterProvider.
// Providers of a type that cannot be compared are taken as different.
func SameProvider(a, b metric.MeterProvider) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// A Limit is the cardinality limit of one instrument of an
// instrumentation. Its caches and tables report to it when they fold an
// attribute set into the overflow series, and it reports the first fold,
// once, through otel.Handle.
type Limit struct {
	n int
	// ctor is the constructor, instrument the instrument, key the
	// attribute whose value Overflow marks, and raise the options that
	// raise the limit, as the report names them.
	ctor, instrument, key, raise string
	reported                     atomic.Bool
}

// NewLimit returns the limit of n attribute sets of instrument, built by
// ctor, whose overflow series has key = Overflow; raise names the options
// that raise it.
func NewLimit(n int, ctor, instrument, key, raise string) *Limit {
	return &Limit{n: n, ctor: ctor, instrument: instrument, key: key, raise: raise}
}

// Folded reports, the first time only, that asked attribute sets were
// asked for, past the limit. A nil Limit reports nothing.
func (l *Limit) Folded(asked int) {
	if l == nil || l.reported.Load() || l.reported.Swap(true) {
		return
	}
	otel.Handle(fmt.Errorf("%w: %s of %s has reached its limit of %d attribute sets, with %d asked for so far: "+
		"the new ones are recorded in the overflow series (%s=%q, %s=true), so nothing is lost, but they are not told apart. "+
		"Raise the limit with %s, or bound the values (see %s)",
		ErrCardinalityLimit, l.instrument, l.ctor, l.n, asked, l.key, Overflow, OverflowKey, l.raise, DocCardinalityLimit))
}
