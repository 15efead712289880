package otelred

import (
	"maps"
	"sync"
	"sync/atomic"
)

// cache maps a bounded set of keys to values built once per key, such as
// prebuilt attribute sets. Reads take no lock and allocate nothing: the map
// is replaced, never changed, when a key is added. Past limit keys, get
// returns overflow(key) and adds nothing, so memory stays bounded whatever
// the traffic.
type cache[K comparable, V any] struct {
	m        atomic.Pointer[map[K]V]
	mu       sync.Mutex // serialises adds
	limit    int
	build    func(K) (K, V) // may return a copy of the key that owns its memory
	overflow func(K) V
}

func newCache[K comparable, V any](limit int, build func(K) (K, V), overflow func(K) V) *cache[K, V] {
	c := &cache[K, V]{limit: limit, build: build, overflow: overflow}
	m := make(map[K]V)
	c.m.Store(&m)
	return c
}

func (c *cache[K, V]) get(k K) V {
	if v, ok := (*c.m.Load())[k]; ok {
		return v
	}
	return c.add(k)
}

func (c *cache[K, V]) add(k K) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if v, ok := old[k]; ok {
		return v
	}
	if len(old) >= c.limit {
		return c.overflow(k)
	}
	k, v := c.build(k)
	m := make(map[K]V, len(old)+1)
	maps.Copy(m, old)
	m[k] = v
	c.m.Store(&m)
	return v
}

// each calls fn for every value in the cache, without blocking adds.
func (c *cache[K, V]) each(fn func(V)) {
	for _, v := range *c.m.Load() {
		fn(v)
	}
}
