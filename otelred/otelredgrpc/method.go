package otelredgrpc

import (
	"sync/atomic"

	"github.com/otelred/otelred/otelred/internal/red"
)

// OtherMethod is the rpc.method of calls to methods the server does not
// recognise, as the semantic conventions name them.
const OtherMethod = "_OTHER"

// method is the state of one rpc.method value.
type method struct {
	name   string
	active *red.Gauge
	// series caches the method's series of each outcome, taken from the
	// Server's cache the first time, so that a call costs one map lookup.
	series [numOutcomes]atomic.Pointer[red.Series]
}

// methods is the set of recognised methods, in a cache bounded by the
// cardinality limit, keyed by name (with code 0).
type methods struct {
	byName *red.Cache[*method]
	// fixed is set when WithMethods listed the methods: none is added.
	fixed bool

	// other holds the calls of methods not recognised (yet), overflow
	// those of methods past the limit.
	other, overflow *method
}

func newMethods(limit int, listed []string) *methods {
	ms := &methods{
		fixed:    listed != nil,
		other:    newMethod(OtherMethod, 0),
		overflow: &method{name: red.Overflow, active: red.NewGauge(false, red.OverflowAttrs(methodKey, systemGRPC)...)},
	}
	if ms.fixed {
		limit = len(listed)
	}
	ms.byName = red.NewCache(limit, newMethod, func(string, uint64) *method { return ms.overflow })
	for _, name := range listed {
		ms.byName.Get(name, 0)
	}
	return ms
}

func newMethod(name string, _ uint64) *method {
	return &method{name: name, active: red.NewGauge(false, systemGRPC, methodKey.String(name))}
}

// lookup returns the recognised method named name, or nil.
func (ms *methods) lookup(name string) *method {
	m, _ := ms.byName.Lookup(name, 0)
	return m
}

// admit recognises the method named name, unless the limit is reached:
// then it returns the overflow method.
func (ms *methods) admit(name string) *method {
	if ms.fixed {
		return ms.other
	}
	return ms.byName.Get(name, 0)
}

// each calls fn for every method, recognised or not.
func (ms *methods) each(fn func(*method)) {
	ms.byName.Each(fn)
	fn(ms.other)
	fn(ms.overflow)
}
