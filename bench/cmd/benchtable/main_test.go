package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want key
	}{
		{"BenchmarkServer/otelred-2", key{"Server", "otelred", 2}},
		{"BenchmarkServer/otelred-classic-2", key{"Server", "otelred-classic", 2}},
		{"BenchmarkServerParallel/otelred-classic", key{"ServerParallel", "otelred-classic", 1}},
		{"BenchmarkSeriesHeap/otelred+sdk-8", key{"SeriesHeap", "otelred+sdk", 8}},
	} {
		if got := parseName(tc.in); got != tc.want {
			t.Errorf("parseName(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestTableFromRuns reads two runs and checks medians, added costs and
// ratios in the success table and the targets.
func TestTableFromRuns(t *testing.T) {
	const runs = `goos: linux
BenchmarkServer/bare-2        	 1000	       100.0 ns/op	     224 B/op	       5 allocs/op
BenchmarkServer/otelred-2     	 1000	       300.0 ns/op	     224 B/op	       5 allocs/op
BenchmarkServer/otelhttp-2    	 1000	      3100.0 ns/op	    2808 B/op	      35 allocs/op
BenchmarkServer/slok-2        	 1000	       500.0 ns/op	     288 B/op	       8 allocs/op
BenchmarkServer/otelfloor-2   	 1000	       260.0 ns/op	     224 B/op	       5 allocs/op
PASS
BenchmarkServer/bare-2        	 1000	       120.0 ns/op	     224 B/op	       5 allocs/op
BenchmarkServer/otelred-2     	 1000	       340.0 ns/op	     224 B/op	       5 allocs/op
BenchmarkServer/otelhttp-2    	 1000	      3300.0 ns/op	    2808 B/op	      35 allocs/op
BenchmarkServer/slok-2        	 1000	       540.0 ns/op	     288 B/op	       8 allocs/op
BenchmarkServer/otelfloor-2   	 1000	       300.0 ns/op	     224 B/op	       5 allocs/op
`
	s := samples{}
	s.read(strings.NewReader(runs))
	var out bytes.Buffer
	r := report{s: s, w: &out}
	r.requests("Success", "Server")
	r.targets()
	// Medians: bare 110, otelred 320 (added 210), otelhttp 3200 (3090),
	// slok 520 (410), otelfloor 280 (170).
	for _, want := range []string{
		"| otelred | 320 | 210 | 5 | +0 | 0.51 | 0.07 | 1.24 |",
		"| slok | 520 | 410 | 8 | +3 | 1.00 | 0.13 | 2.41 |",
		"| otelred added ≤ 0.6× fastest peer's | 0.51× | met |",
		"| otelred added ≤ 1.3× otelfloor's | 1.24× | met |",
		"| otelred added allocs = 0 (Server) | +0 | met |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestOtherPaths reads client and operation runs: their tables have the
// same columns, "× fastest peer" is n/a without peers, and the targets
// check their added allocations and their cost against otelfloor's.
func TestOtherPaths(t *testing.T) {
	const runs = `BenchmarkClient/bare-2         	1000	       4.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkClient/otelred-2      	1000	     264.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkClient/otelhttp-2     	1000	    3604.0 ns/op	    2912 B/op	      16 allocs/op
BenchmarkClient/otelfloor-2    	1000	     244.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkOperation/bare-2      	1000	       2.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkOperation/otelred-2   	1000	     402.0 ns/op	       8 B/op	       1 allocs/op
BenchmarkOperation/otelfloor-2 	1000	     252.0 ns/op	       0 B/op	       0 allocs/op
`
	s := samples{}
	s.read(strings.NewReader(runs))
	var out bytes.Buffer
	r := report{s: s, w: &out}
	for _, tb := range otherTables {
		r.requests(tb.title, tb.bench)
	}
	r.targets()
	for _, want := range []string{
		"### HTTP client (BenchmarkClient)",
		"| impl | ns/op | added ns | allocs/op | added allocs | × fastest peer (otelhttp) | × otelhttp | × otelfloor |",
		"| otelred | 264 | 260 | 0 | +0 | 0.07 | 0.07 | 1.08 |",
		"### Operations (BenchmarkOperation, Start to End)",
		"| impl | ns/op | added ns | allocs/op | added allocs | × fastest peer | × otelhttp | × otelfloor |",
		"| otelred | 402 | 400 | 1 | +1 | n/a | n/a | 1.60 |",
		"| otelred added ≤ 1.3× otelfloor's (Client) | 1.08× | met |",
		"| otelred added ≤ 0.1× otelhttp's (Client) | 0.07× | met |",
		"| otelred added ≤ 1.3× otelfloor's (Operation) | 1.60× | **missed** |",
		"| otelred added allocs = 0 (Client) | +0 | met |",
		"| otelred added allocs = 0 (Operation) | +1 | **missed** |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "ClientError") || strings.Contains(out.String(), "gRPC") {
		t.Errorf("a table for a benchmark that did not run:\n%s", out.String())
	}
}
