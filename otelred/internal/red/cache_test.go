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

// TestCacheRoute checks that a route's Route is found once the route has
// a value, stays the same as codes are added, and that GetIn gives what
// Get gives: the kept value, a new one built, or the overflow value.
func TestCacheRoute(t *testing.T) {
	builds := 0
	c := NewCache(3,
		func(route string, code uint64) string { builds++; return route + "/" + strconv.FormatUint(code, 10) },
		func(string, uint64) string { return "overflow" })
	if rt := c.Route("/a"); rt != nil {
		t.Fatalf("Route of an empty cache = %v, want nil", rt)
	}
	c.Get("/a", 1)
	rt := c.Route("/a")
	if rt == nil {
		t.Fatal("Route(/a) = nil after a Get")
	}
	for _, tc := range []struct {
		code   uint64
		want   string
		builds int
	}{
		{1, "/a/1", 1},     // kept
		{2, "/a/2", 2},     // built
		{0, "/a/0", 3},     // built, before the others in order
		{2, "/a/2", 3},     // kept
		{3, "overflow", 3}, // past the limit
		{0, "/a/0", 3},     // still kept
	} {
		if got := c.GetIn(rt, "/a", tc.code); got != tc.want || builds != tc.builds {
			t.Errorf("GetIn(/a, %d) = %q after %d builds, want %q after %d", tc.code, got, builds, tc.want, tc.builds)
		}
		if c.Route("/a") != rt {
			t.Fatalf("Route(/a) changed after GetIn(/a, %d)", tc.code)
		}
	}
	if got := c.Get("/b", 1); got != "overflow" || c.Route("/b") != nil {
		t.Errorf("Get(/b, 1) on a full cache = %q with Route %v, want overflow and nil", got, c.Route("/b"))
	}
}

// TestCacheLookupBuildsNothing checks that Lookup finds what Get built,
// and neither builds a missing key nor takes the overflow value for it.
func TestCacheLookupBuildsNothing(t *testing.T) {
	builds := 0
	c := NewCache(1,
		func(route string, code uint64) string { builds++; return route },
		func(string, uint64) string { return "overflow" })
	if v, ok := c.Lookup("/a", 0); ok || v != "" || builds != 0 {
		t.Fatalf("Lookup(/a) on an empty cache = %q, %v after %d builds; want nothing built", v, ok, builds)
	}
	c.Get("/a", 0)
	if v, ok := c.Lookup("/a", 0); !ok || v != "/a" || builds != 1 {
		t.Errorf("Lookup(/a) = %q, %v after %d builds; want /a after 1", v, ok, builds)
	}
	if v, ok := c.Lookup("/a", 1); ok || v != "" {
		t.Errorf("Lookup(/a, 1) = %q, %v; want nothing", v, ok)
	}
	if v, ok := c.Lookup("/b", 0); ok || v != "" || builds != 1 {
		t.Errorf("Lookup(/b) on a full cache = %q, %v after %d builds; want nothing, not the overflow", v, ok, builds)
	}
}
