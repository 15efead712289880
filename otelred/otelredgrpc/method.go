package otelredgrpc

import (
	"maps"
	"strings"
	"sync"
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

// methods is the set of recognised methods. Reads take no lock and
// allocate nothing: the map is replaced, never changed, when a method is
// added.
type methods struct {
	byName atomic.Pointer[map[string]*method]
	mu     sync.Mutex // serialises adds
	limit  int
	// fixed is set when WithMethods listed the methods: none is added.
	fixed bool

	// other holds the calls of methods not recognised (yet), overflow
	// those of methods past the limit.
	other, overflow *method
}

func newMethods(limit int, listed []string) *methods {
	ms := &methods{
		limit:    limit,
		fixed:    listed != nil,
		other:    newMethod(OtherMethod),
		overflow: &method{name: red.Overflow, active: red.NewGauge(false, red.OverflowAttrs(methodKey, systemGRPC)...)},
	}
	m := make(map[string]*method, len(listed))
	for _, name := range listed {
		m[name] = newMethod(name)
	}
	ms.byName.Store(&m)
	return ms
}

func newMethod(name string) *method {
	return &method{name: name, active: red.NewGauge(false, systemGRPC, methodKey.String(name))}
}

// lookup returns the recognised method named name, or nil.
func (ms *methods) lookup(name string) *method { return (*ms.byName.Load())[name] }

// admit recognises the method named name, unless the limit is reached:
// then it returns the overflow method.
func (ms *methods) admit(name string) *method {
	if ms.fixed {
		return ms.other
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	old := *ms.byName.Load()
	if m := old[name]; m != nil {
		return m
	}
	if len(old) >= ms.limit {
		return ms.overflow
	}
	m := newMethod(strings.Clone(name)) // the map must not keep request memory alive
	byName := make(map[string]*method, len(old)+1)
	maps.Copy(byName, old)
	byName[m.name] = m
	ms.byName.Store(&byName)
	return m
}

// each calls fn for every method, recognised or not.
func (ms *methods) each(fn func(*method)) {
	for _, m := range *ms.byName.Load() {
		fn(m)
	}
	fn(ms.other)
	fn(ms.overflow)
}
