package red

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Cache maps a bounded set of keys to values built once per key, such as
// prebuilt attribute sets. A key is a string (a route, a host, an operation name)
// and a code that packs the rest of it (method, status, ...).
//
// Reads take no lock and allocate nothing: the map and the slices are
// replaced, never changed, when a key is added. Past limit keys, get
// returns overflow(route, code) and adds nothing, so memory stays bounded whatever
// the traffic.
//
// It is two levels deep, a map by route and then a sorted slice by code,
// because Go's maps have a fast path for string keys but hash a struct key
// field by field: a route lookup and a binary search over the few codes a
// route sees cost about a third less than one lookup with a struct key, on
// every request, for about the same memory. Adding a key copies only its
// route's codes, not every key.
type Cache[V any] struct {
	routes   atomic.Pointer[map[string]*Route[V]]
	mu       sync.Mutex // serialises adds
	n        int        // values in the cache, under mu
	limit    int
	build    func(route string, code uint64) V
	overflow func(route string, code uint64) V
	// folds is told when the cache first hands out the overflow value
	// for a key it has no room for; nil: no one is.
	folds *Limit
}

// Route holds the values of one route, sorted by code. A route's Route is
// the same for the life of its cache, so a caller that has found it once
// may keep it and look up further codes of the route with GetIn, without
// the map.
type Route[V any] struct {
	s atomic.Pointer[[]coded[V]]
}

type coded[V any] struct {
	code uint64
	v    V
}

// find returns the index of code in s, or where it would be inserted.
func find[V any](s []coded[V], code uint64) (int, bool) {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m].code < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s) && s[lo].code == code
}

// NewCache returns an empty cache of at most limit values. build makes the
// value of a new key; overflow gives the value of a key that does not fit,
// which the cache does not keep.
func NewCache[V any](limit int, build func(route string, code uint64) V, overflow func(route string, code uint64) V) *Cache[V] {
	c := &Cache[V]{limit: limit, build: build, overflow: overflow}
	m := make(map[string]*Route[V])
	c.routes.Store(&m)
	return c
}

// ReportTo makes the cache tell l the first time a key does not fit, when
// the cardinality limit it keeps is l's. Call it before the cache is used.
func (c *Cache[V]) ReportTo(l *Limit) { c.folds = l }

// Get returns the value of the key (route, code), building it the first
// time, or the overflow value when the cache is full.
func (c *Cache[V]) Get(route string, code uint64) V {
	if v, ok := c.Lookup(route, code); ok {
		return v
	}
	return c.add(route, code)
}

// Lookup returns the value of the key (route, code) and true when the
// cache holds it; it builds nothing.
func (c *Cache[V]) Lookup(route string, code uint64) (V, bool) {
	if byCode := (*c.routes.Load())[route]; byCode != nil {
		s := *byCode.s.Load()
		if i, ok := find(s, code); ok {
			return s[i].v, true
		}
	}
	var zero V
	return zero, false
}

// Route returns where the cache holds route's values, or nil while it
// holds none.
func (c *Cache[V]) Route(route string) *Route[V] {
	return (*c.routes.Load())[route]
}

// GetIn is Get for a route whose Route was found before: rt must be
// c.Route(route).
func (c *Cache[V]) GetIn(rt *Route[V], route string, code uint64) V {
	s := *rt.s.Load()
	if i, ok := find(s, code); ok {
		return s[i].v
	}
	return c.add(route, code)
}

// add adds the key (route, code), or returns the overflow value. A key
// that does not fit is reported to folds, outside the lock: the report
// runs the user's error handler.
func (c *Cache[V]) add(route string, code uint64) V {
	c.mu.Lock()
	v, folded := c.addLocked(route, code)
	asked := c.n + 1
	c.mu.Unlock()
	if folded {
		c.folds.Folded(asked)
	}
	return v
}

func (c *Cache[V]) addLocked(route string, code uint64) (_ V, folded bool) {
	routes := *c.routes.Load()
	byCode := routes[route]
	var old []coded[V]
	if byCode != nil {
		old = *byCode.s.Load()
		if i, ok := find(old, code); ok {
			return old[i].v, false
		}
	}
	if c.n >= c.limit {
		return c.overflow(route, code), true
	}
	if byCode == nil {
		route = strings.Clone(route) // the cache must not keep request memory alive
		byCode = new(Route[V])
		// A fresh slice, not &old: taking old's address would move it to
		// the heap on every call, the overflow's included.
		none := []coded[V]{}
		byCode.s.Store(&none)
		m := make(map[string]*Route[V], len(routes)+1)
		maps.Copy(m, routes)
		m[route] = byCode
		c.routes.Store(&m)
	}
	v := c.build(route, code)
	// Clipped, old has no room to grow in place, so Insert copies it and
	// readers still holding old see it unchanged.
	i, _ := find(old, code)
	s := slices.Insert(slices.Clip(old), i, coded[V]{code, v})
	byCode.s.Store(&s)
	c.n++
	return v, false
}

// Each calls fn for every value in the cache, without blocking adds.
func (c *Cache[V]) Each(fn func(V)) {
	for _, byCode := range *c.routes.Load() {
		for _, e := range *byCode.s.Load() {
			fn(e.v)
		}
	}
}
