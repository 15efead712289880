package otelred

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/otelred/internal/red"
)

// maxErrorTypes bounds the error types recorded for one operation name;
// the rest share error.type "_OTHER".
const maxErrorTypes = 8

// Operations records RED metrics for work that is not an HTTP request:
// jobs, database calls, queue consumers. Each operation has a name, which
// must come from the code ("orders.process"), never from input: names are
// bounded like routes ([WithCardinalityLimit]), past the limit they share
// the name [Overflow].
//
// The Semconv profile records operation.duration (seconds, with
// operation.name and, on failures, error.type) and operation.active; the
// Classic profile records operations_total, operation_errors_total,
// operation_duration_seconds and operations_active, labelled operation and
// service. The views, buckets and SLO objectives of the views package apply
// to them as to HTTP requests.
type Operations struct {
	cfg config
	labeler
	red.Instruments

	ops      *red.Cache[*op] // by name
	overflow *op
	epoch    time.Time
}

// op is the state of one operation name.
type op struct {
	active *red.Gauge
	ok     *red.Series
	// failed holds the series of each error type; nil when the profile
	// records no error type, and then failures count in ok.
	failed *red.Cache[*red.Series]
}

// NewOperations returns a recorder of operations. It takes the options
// [WithMeterProvider], [WithProfile], [WithService] and
// [WithCardinalityLimit]; the others do not apply to operations and are
// ignored.
func NewOperations(opts ...Option) (*Operations, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	sig := &profiles[cfg.profile].operation
	o := &Operations{cfg: cfg, labeler: labeler{sig.names, cfg.service}, epoch: time.Now()}
	meter := cfg.meter()
	if o.Instruments, err = red.NewInstruments(meter, sig.spec(profiles[cfg.profile].boundaries)); err != nil {
		return nil, err
	}
	o.ops = red.NewCache(cfg.limit, o.newOp, func(string, uint64) *op { return o.overflow })
	o.overflow = o.newOp(Overflow, 0)
	if _, err := meter.RegisterCallback(o.observe, o.Observables...); err != nil {
		return nil, fmt.Errorf("otelred: registering the collection callback: %w", err)
	}
	return o, nil
}

// An Operation is one operation in progress, from [Operations.Start] to
// [Operation.End]. Its zero value is valid, and ending it records nothing.
type Operation struct {
	o     *Operations
	op    *op
	ctx   context.Context
	start time.Duration
}

// Start counts an operation named name in progress and starts its clock.
// ctx is kept for End: a sampled span in it becomes the duration's
// exemplar. Call End on the result exactly once. Start allocates nothing
// once name has been seen.
func (o *Operations) Start(ctx context.Context, name string) Operation {
	p := o.ops.Get(name, 0)
	p.active.Inc()
	return Operation{o: o, op: p, ctx: ctx, start: time.Since(o.epoch)}
}

// End records the operation's duration, as a failure when err is not nil.
// error.type is "canceled" or "timeout" for the context's errors, the
// error's type otherwise ("*fs.PathError"), or "_OTHER" for the anonymous
// errors of errors.New and fmt.Errorf.
func (op Operation) End(err error) {
	if op.o == nil {
		return
	}
	if err == nil {
		op.end("")
		return
	}
	op.end(errorType(err))
}

func (op Operation) end(errType string) {
	o := op.o
	secs := (time.Since(o.epoch) - op.start).Seconds()
	op.op.active.Dec()
	s := op.op.ok
	if errType != "" && op.op.failed != nil {
		s = op.op.failed.Get(errType, 0)
	}
	o.Duration.Record(op.ctx, secs, s.Record...)
	if o.Counting() {
		s.Count(errType != "")
	}
}

// Track runs fn as an operation named name and records it, with fn's
// error. A panicking fn is recorded as a failure with error.type "panic",
// and the panic continues.
func (o *Operations) Track(ctx context.Context, name string, fn func(context.Context) error) error {
	op := o.Start(ctx, name)
	returned := false
	defer func() {
		if !returned {
			op.end(errPanic)
		}
	}()
	err := fn(ctx)
	returned = true
	op.End(err)
	return err
}

func (o *Operations) newOp(name string, _ uint64) *op {
	name = strings.Clone(name)
	nameKV := o.names.Operation.String(name)
	kv := o.withService(nameKV)
	if name == Overflow {
		kv = append(kv, red.OverflowKey.Bool(true))
	}
	p := &op{
		active: red.NewGauge(false, kv...),
		ok:     red.NewSeries(false, kv...),
	}
	if o.names.ErrorType != "" {
		other := red.NewSeries(true, append(kv[:len(kv):len(kv)], o.names.ErrorType.String(errOther))...)
		p.failed = red.NewCache(maxErrorTypes,
			func(errType string, _ uint64) *red.Series {
				if errType == errOther {
					return other
				}
				return red.NewSeries(true, append(kv[:len(kv):len(kv)], o.names.ErrorType.String(errType))...)
			},
			func(string, uint64) *red.Series { return other })
	}
	return p
}

func (o *Operations) observe(_ context.Context, obs metric.Observer) error {
	each := func(p *op) {
		o.ObserveGauge(obs, p.active)
		if o.Counting() {
			o.ObserveCounts(obs, p.ok)
		}
	}
	o.ops.Each(each)
	each(o.overflow)
	return nil
}
