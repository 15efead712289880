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

// TestInstructions checks the instructions table: added counts over bare's
// and the ratios, for the success and the error path side by side.
func TestInstructions(t *testing.T) {
	const counts = `BenchmarkServer/bare 18000 3000 instr/op
BenchmarkServer/otelred 18000 6000 instr/op
BenchmarkServer/otelhttp 18000 53000 instr/op
BenchmarkServer/promhttp 18000 13000 instr/op
BenchmarkServer/slok 18000 9000 instr/op
BenchmarkServer/otelfloor 18000 5500 instr/op
BenchmarkServerError/bare 18000 3000 instr/op
BenchmarkServerError/otelred 18000 6500 instr/op
BenchmarkServerError/otelhttp 18000 53500 instr/op
BenchmarkServerError/promhttp 18000 13000 instr/op
BenchmarkServerError/slok 18000 10000 instr/op
BenchmarkServerError/otelfloor 18000 6000 instr/op
BenchmarkExample/bare 5000 47000 instr/op
BenchmarkExample/instrumented 5000 50290 instr/op
`
	r := report{instr: samples{}}
	r.instr.read(strings.NewReader(counts))
	var out bytes.Buffer
	r.w = &out
	r.instructions()
	// Success: otelred adds 3000, slok 6000 (the fastest peer), otelhttp
	// 50000, the floor 2500. Error: 3500, 7000, 50500, 3000.
	for _, want := range []string{
		"| bare | 3000 | – | – | – | – | 3000 | – | – | – | – |",
		"| otelred | 6000 | 3000 | 0.50 | 0.06 | 1.20 | 6500 | 3500 | 0.50 | 0.07 | 1.17 |",
		"| slok | 9000 | 6000 | 1.00 | 0.12 | 2.40 | 10000 | 7000 | 1.00 | 0.14 | 2.33 |",
		"| example (otelred, Prometheus exporter) | 50290 | 1.07 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "otelred-classic") {
		t.Errorf("a row for an implementation with no count:\n%s", out.String())
	}

	var onlyExample bytes.Buffer
	r = report{instr: samples{}, w: &onlyExample}
	r.instr.read(strings.NewReader("BenchmarkExample/bare 5000 47000 instr/op\nBenchmarkExample/instrumented 5000 48410 instr/op\n"))
	r.instructions()
	if got := onlyExample.String(); strings.Contains(got, "| impl |") || !strings.Contains(got, "| 48410 | 1.03 |") {
		t.Errorf("with the example's counts alone:\n%s", got)
	}

	var none bytes.Buffer
	(&report{instr: samples{}, w: &none}).instructions()
	if none.Len() != 0 {
		t.Errorf("no counts printed %q, want nothing", none.String())
	}
}
