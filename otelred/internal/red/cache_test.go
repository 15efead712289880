package red

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

// TestCacheKeepsEveryKeyApart adds keys in random order, from several
// goroutines, with many codes per route, and checks that each key always
// gets the value built for it, and that past the limit keys overflow.
func TestCacheKeepsEveryKeyApart(t *testing.T) {
	type val struct {
		route string
		code  uint64
	}
	const routes, codesPerRoute = 20, 40
	var builds sync.Map
	c := NewCache(routes*codesPerRoute-5,
		func(route string, code uint64) *val {
			if _, dup := builds.LoadOrStore(route+"/"+strconv.FormatUint(code, 10), true); dup {
				t.Errorf("key %s/%d built twice", route, code)
			}
			return &val{route, code}
		},
		func(string, uint64) *val { return nil })

	var keys []val
	for r := range routes {
		for i := range codesPerRoute {
			keys = append(keys, val{"/r" + strconv.Itoa(r), uint64(200+i)<<32 | uint64(i%10)<<1 | uint64(i%3)&1})
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for _, i := range rng.Perm(len(keys)) {
				k := keys[i]
				if v := c.Get(k.route, k.code); v != nil && *v != k {
					t.Errorf("get(%s, %d) = %v", k.route, k.code, *v)
				}
			}
		}()
	}
	wg.Wait()

	n, overflowed := 0, 0
	for _, k := range keys {
		switch v := c.Get(k.route, k.code); {
		case v == nil:
			overflowed++
		case *v != k:
			t.Errorf("get(%s, %d) = %v", k.route, k.code, *v)
		default:
			n++
		}
	}
	if n != c.limit || overflowed != 5 {
		t.Errorf("%d keys cached and %d overflowed, want %d and 5", n, overflowed, c.limit)
	}
	each := 0
	c.Each(func(*val) { each++ })
	if each != c.limit {
		t.Errorf("each visits %d values, want %d", each, c.limit)
	}
}
