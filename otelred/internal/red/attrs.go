package red

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
)

// MaxAttributes is how many per-request attribute keys one instrumentation
// may declare.
const MaxAttributes = 4

// AttrBits is how many bits of a series code the id of a request's
// attribute values takes; ids run from 1 to MaxAttrIDs, 0 meaning none.
const (
	AttrBits   = 19
	MaxAttrIDs = 1<<AttrBits - 1
)

// Other is the value recorded for a value an allow-list leaves out, and
// for one longer than MaxValueLength (see Clean).
const Other = "_OTHER"

// Values are the values one request set for the declared keys, in the
// order the keys were declared; "" means the key was not set.
type Values [MaxAttributes]string

// Attributes holds the per-request attribute keys an instrumentation
// declared, the values allowed for each, and a bounded table that gives
// each distinct Values a small id, to be packed into a series code. Reads
// take no lock and allocate nothing: the table is replaced, never
// changed, when an entry is added.
type Attributes struct {
	keys    []attribute.Key
	allowed []map[string]bool // by key; nil lets any value in
	limit   int

	ids  atomic.Pointer[map[Values]uint32]
	mu   sync.Mutex // serialises adds
	sets []Values   // by id-1, under mu
	// folds is told when the table is first full for new values.
	folds *Limit
}

// ReportTo makes the table tell l the first time new values do not fit,
// when the cardinality limit of l's instrument bounds them. Call it before
// the table is used.
func (a *Attributes) ReportTo(l *Limit) {
	if a != nil {
		a.folds = l
	}
}

// NewAttributes returns the table of keys, whose values are allowed[i]
// for keys[i] (none means any), and which gives ids to at most limit
// distinct Values (and never more than MaxAttrIDs). It returns nil when
// there are no keys.
func NewAttributes(keys []string, allowed [][]string, limit int) *Attributes {
	if len(keys) == 0 {
		return nil
	}
	a := &Attributes{limit: min(limit, MaxAttrIDs)}
	for i, k := range keys {
		a.keys = append(a.keys, attribute.Key(k))
		var set map[string]bool
		if len(allowed[i]) > 0 {
			set = make(map[string]bool, len(allowed[i]))
			for _, v := range allowed[i] {
				set[v] = true
			}
		}
		a.allowed = append(a.allowed, set)
	}
	ids := map[Values]uint32{}
	a.ids.Store(&ids)
	return a
}

// Index returns the index of key among the declared keys, or -1.
func (a *Attributes) Index(key string) int {
	for i, k := range a.keys {
		if string(k) == key {
			return i
		}
	}
	return -1
}

// Admit returns the value recorded for value of the key at index i:
// value as Clean makes it, or Other when the key's allow-list leaves it
// out. It allocates only when it replaces invalid bytes.
func (a *Attributes) Admit(i int, value string) string {
	value = Clean(value)
	if value != "" && a.allowed[i] != nil && !a.allowed[i][value] {
		return Other
	}
	return value
}

// ID returns the id of v, giving it the next one the first time it is
// seen, and false when the table is full and v is not in it. Values with
// no key set have id 0.
func (a *Attributes) ID(v *Values) (uint32, bool) {
	if *v == (Values{}) {
		return 0, true
	}
	if id, ok := (*a.ids.Load())[*v]; ok {
		return id, true
	}
	a.mu.Lock()
	id, ok := a.add(v)
	asked := len(a.sets) + 1
	a.mu.Unlock()
	if !ok {
		a.folds.Folded(asked) // outside the lock: it runs the user's error handler
	}
	return id, ok
}

// add is ID's slow path, under mu.
func (a *Attributes) add(v *Values) (uint32, bool) {
	ids := *a.ids.Load()
	if id, ok := ids[*v]; ok {
		return id, true
	}
	if len(a.sets) >= a.limit {
		return 0, false
	}
	var kept Values
	for i, s := range v {
		kept[i] = strings.Clone(s) // the table must not keep request memory alive
	}
	a.sets = append(a.sets, kept)
	id := uint32(len(a.sets))
	next := make(map[Values]uint32, len(ids)+1)
	maps.Copy(next, ids)
	next[kept] = id
	a.ids.Store(&next)
	return id, true
}

// Append appends to kv the attributes of the values whose id is id: one
// per key that was set. Id 0 appends nothing.
func (a *Attributes) Append(kv []attribute.KeyValue, id uint32) []attribute.KeyValue {
	if a == nil || id == 0 {
		return kv
	}
	a.mu.Lock()
	v := a.sets[id-1]
	a.mu.Unlock()
	for i, s := range v {
		if s != "" {
			kv = append(kv, a.keys[i].String(s))
		}
	}
	return kv
}
