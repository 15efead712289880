package otelred

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/otelred/internal/red"
)

// maxErrorTypes bounds the error types recorded for one operation name;
// the rest share error.type "_OTHER".
const maxErrorTypes = 8

// Operations records RED metrics for work that is not an HTTP request:
// jobs, database calls, queue consumers. Each operation has a name, which
// must come from the code ("orders.process"), never from input. Attribute
// sets are bounded like routes ([WithCardinalityLimit]): each name and each
// of its error types (at most 8, the rest "_OTHER") counts toward the
// limit, and past it operations share the name [Overflow].
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

	ops            *red.Cache[*op] // by name
	overflow       *op
	overflowFailed *red.Series
	// budget is how many more attribute sets may be made; names and error
	// types draw from it, and limit hears when it is spent.
	budget atomic.Int64
	limit  *red.Limit
	epoch  time.Time
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
// [WithCardinalityLimit]; the others do not apply to operations, and passing
// one is an error.
func NewOperations(opts ...Option) (*Operations, error) {
	cfg, err := newConfig("NewOperations", forOperation, opts)
	if err != nil {
		return nil, err
	}
	sig := &profiles[cfg.profile].operation
	o := &Operations{cfg: cfg, labeler: labeler{sig.names, cfg.service}, epoch: time.Now()}
	meter := cfg.meter()
	if o.Instruments, err = red.NewInstruments(meter, sig.spec(profiles[cfg.profile].boundaries)); err != nil {
		return nil, err
	}
	o.budget.Store(int64(cfg.limit))
	o.limit = cfg.limitOf("NewOperations", o.names.Duration, o.names.Operation)
	o.ops = red.NewCache(cfg.limit, o.newOp, func(string, uint64) *op { return o.overflow })
	o.ops.ReportTo(o.limit) // names past the limit, as error types past the budget
	o.overflow = &op{active: o.overflowGauge(o.names.Operation)}
	o.overflow.ok, o.overflowFailed = o.overflows(o.names.Operation)
	if o.names.ErrorType != "" {
		o.overflow.failed = red.NewCache(0, nil, func(string, uint64) *red.Series { return o.overflowFailed })
	}
	if _, err := meter.RegisterCallback(o.observe, o.Observables...); err != nil {
		return nil, fmt.Errorf("otelred: registering the collection callback: %w", err)
	}
	cfg.checkProvider("NewOperations", o.Duration)
	return o, nil
}

// An Operation is one operation in progress, from [Operations.Start] to
// [Operation.End]. Its zero value is valid, and ending it records nothing.
type Operation struct {
	o      *Operations
	op     *op
	ctx    context.Context
	start  time.Duration
	stripe uint32 // where it counts, from Start to End
}

// Start counts an operation named name in progress and starts its clock.
// ctx is kept for End: a sampled span in it becomes the duration's
// exemplar. Call End on the result exactly once. Start allocates nothing
// once name has been seen, unless name is not valid UTF-8: it is then
// recorded with U+FFFD in place of the invalid bytes. A name longer than
// [MaxValueLength] is recorded as "_OTHER".
func (o *Operations) Start(ctx context.Context, name string) Operation {
	p := o.ops.Get(red.Clean(name), 0)
	stripe := red.Stripe()
	p.active.Inc(stripe)
	return Operation{o: o, op: p, ctx: ctx, start: time.Since(o.epoch), stripe: stripe}
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
	op.op.active.Dec(op.stripe)
	s := op.op.ok
	if errType != "" && op.op.failed != nil {
		s = op.op.failed.Get(errType, 0)
	}
	o.Duration.Record(op.ctx, secs, s.Record...)
	if o.Counting() {
		s.Count(op.stripe, errType != "")
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

// take draws one attribute set from the budget, and reports whether there
// was one. The first time there is none, the limit reports it, with how
// many sets were asked for: it runs under a cache's lock, which the report
// (the user's error handler) must then not need.
func (o *Operations) take() bool {
	left := o.budget.Add(-1)
	if left < 0 {
		o.limit.Folded(o.cfg.limit - int(left))
	}
	return left >= 0
}

// newOp builds the state of a name seen for the first time, or hands out
// the overflow's when the budget is spent.
func (o *Operations) newOp(name string, _ uint64) *op {
	if !o.take() {
		return o.overflow
	}
	kv := o.withService(o.names.Operation.String(strings.Clone(name)))
	p := &op{
		active: red.NewGauge(false, kv...),
		ok:     red.NewSeries(false, kv...),
	}
	if o.names.ErrorType == "" {
		return p
	}
	with := func(errType string) *red.Series {
		return red.NewSeries(true, append(kv[:len(kv):len(kv)], o.names.ErrorType.String(errType))...)
	}
	// other is the name's "_OTHER" error type, made when first needed; the
	// cache runs build and overflow under its lock, so no more is needed.
	var other *red.Series
	getOther := func() *red.Series {
		if other == nil {
			other = o.overflowFailed
			if o.take() {
				other = with(errOther)
			}
		}
		return other
	}
	p.failed = red.NewCache(maxErrorTypes,
		func(errType string, _ uint64) *red.Series {
			if errType == errOther || !o.take() {
				return getOther()
			}
			return with(errType)
		},
		func(string, uint64) *red.Series { return getOther() })
	return p
}

func (o *Operations) observe(_ context.Context, obs metric.Observer) error {
	each := func(p *op) {
		o.ObserveGauge(obs, p.active)
		if o.Counting() {
			o.ObserveCounts(obs, p.ok)
		}
	}
	o.ops.Each(func(p *op) {
		if p != o.overflow { // names past the budget map to it: observe it once
			each(p)
		}
	})
	each(o.overflow)
	return nil
}
