// Command benchtable turns the output of the bench module's benchmarks into
// the Markdown tables of otelred's README, with the median of every figure
// over all the runs it is given, and checks the performance targets.
//
//	go test -run '^$' -bench . -count 6 . > out.txt
//	go run ./cmd/benchtable out.txt
//
// With -instr, it also prints instructions per request from a file of the
// same format with the unit instr/op, as bench/run measures them under
// callgrind.
//
// "Added" is an implementation's median ns/op minus bare's from the same
// input. Ratios compare added costs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Implementation names, as the benchmarks spell them.
const (
	bare      = "bare"
	otelred   = "otelred"
	classic   = "otelred-classic"
	classicIn = "otelred-classic-route"
	otelhttp  = "otelhttp"
	floor     = "otelfloor"
	upstream  = "upstream"
	native    = "native"
	scrapeOwn = "otelred"
)

// peers are the other middlewares otelred is measured against.
var peers = []string{otelhttp, "promhttp", "slok"}

// order is the row order of the request tables.
var order = []string{bare, otelred, classic, classicIn, otelhttp, "promhttp", "slok", floor}

// otherTables are the request tables of the other paths, after the
// server's: the HTTP client, operations and gRPC. A benchmark that did not
// run has no table.
var otherTables = []struct{ title, bench string }{
	{"HTTP client (BenchmarkClient)", "Client"},
	{"HTTP client, error path (BenchmarkClientError, status 503)", "ClientError"},
	{"Operations (BenchmarkOperation, Start to End)", "Operation"},
	{"Operations, error path (BenchmarkOperationError)", "OperationError"},
	{"gRPC unary calls (BenchmarkGRPCUnary)", "GRPCUnary"},
	{"gRPC unary calls, error path (BenchmarkGRPCUnaryError)", "GRPCUnaryError"},
}

// key names one benchmark: BenchmarkServer/otelred-2 is {Server, otelred, 2}.
type key struct {
	bench, sub string
	cpu        int
}

// samples holds every value of every unit, per benchmark.
type samples map[key]map[string][]float64

func main() {
	wrkFile := flag.String("wrk", "", "`file` of wrk results, one \"bare|instrumented requests/s\" per line")
	wrkTitle := flag.String("wrk-title", "wrk", "how wrk ran, for the table's title")
	instrFile := flag.String("instr", "", "`file` of instructions per request, in go test -bench format with the unit instr/op")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchtable [-wrk file] [-instr file] [file...]")
		flag.PrintDefaults()
	}
	flag.Parse()

	s := samples{}
	if flag.NArg() == 0 {
		s.read(os.Stdin)
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		s.read(f)
		f.Close()
	}
	if len(s) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results in the input")
		os.Exit(1)
	}
	r := report{s: s, w: os.Stdout}
	if *wrkFile != "" {
		if err := r.readWrk(*wrkFile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if *instrFile != "" {
		f, err := os.Open(*instrFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r.instr = samples{}
		r.instr.read(f)
		f.Close()
	}
	r.requests("Success path (BenchmarkServer)", "Server")
	r.requests("Error path (BenchmarkServerError, status 500)", "ServerError")
	r.instructions()
	r.parallel()
	for _, t := range otherTables {
		r.requests(t.title, t.bench)
	}
	r.scrape()
	r.heap()
	r.wrk(*wrkTitle)
	r.targets()
}

// read adds the results of one run of go test -bench.
func (s samples) read(in io.Reader) {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		k := parseName(f[0])
		if s[k] == nil {
			s[k] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			s[k][f[i+1]] = append(s[k][f[i+1]], v)
		}
	}
}

// parseName splits "BenchmarkServer/otelred-classic-2" into its benchmark,
// sub-benchmark and GOMAXPROCS (1 when there is no suffix, as go test
// writes it).
func parseName(name string) key {
	name = strings.TrimPrefix(name, "Benchmark")
	k := key{cpu: 1}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil {
			k.cpu, name = n, name[:i]
		}
	}
	k.bench, k.sub, _ = strings.Cut(name, "/")
	return k
}

// median of the unit's values for the benchmark, NaN if there are none.
func (s samples) median(k key, unit string) float64 {
	v := slices.Clone(s[k][unit])
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}

// cpus returns the GOMAXPROCS values the benchmark ran with, lowest first.
func (s samples) cpus(bench string) []int {
	var cpus []int
	for k := range s {
		if k.bench == bench && !slices.Contains(cpus, k.cpu) {
			cpus = append(cpus, k.cpu)
		}
	}
	slices.Sort(cpus)
	return cpus
}

type report struct {
	s samples
	w io.Writer
	// results of the request tables, for the targets
	added  map[string]map[string]float64 // bench → impl → added ns
	allocs map[string]map[string]float64 // bench → impl → added allocs
	// requests/s of each wrk run of the example, by service
	wrkBare, wrkInst []float64
	// instructions per request (unit instr/op), if measured
	instr samples
}

// readWrk reads the wrk results bench/run writes: lines of "bare N" or
// "instrumented N", N in requests/s.
func (r *report) readWrk(name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return fmt.Errorf("%s: %q: %w", name, line, err)
		}
		switch f[0] {
		case "bare":
			r.wrkBare = append(r.wrkBare, v)
		case "instrumented":
			r.wrkInst = append(r.wrkInst, v)
		}
	}
	return nil
}

// medianOf returns the median of v, NaN if it is empty.
func medianOf(v []float64) float64 {
	return samples{{}: {"": v}}.median(key{}, "")
}

func (r *report) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

// requests prints the table of one request benchmark, at the lowest
// GOMAXPROCS it ran with.
func (r *report) requests(title, bench string) {
	cpus := r.s.cpus(bench)
	if len(cpus) == 0 {
		return
	}
	cpu := cpus[len(cpus)-1]
	at := func(sub, unit string) float64 { return r.s.median(key{bench, sub, cpu}, unit) }
	baseNs, baseAllocs := at(bare, "ns/op"), at(bare, "allocs/op")
	added := map[string]float64{}
	addedAllocs := map[string]float64{}
	for _, im := range order {
		added[im] = at(im, "ns/op") - baseNs
		addedAllocs[im] = at(im, "allocs/op") - baseAllocs
	}
	fastest := ""
	for _, p := range peers {
		if !math.IsNaN(added[p]) && (fastest == "" || added[p] < added[fastest]) {
			fastest = p
		}
	}
	if r.added == nil {
		r.added, r.allocs = map[string]map[string]float64{}, map[string]map[string]float64{}
	}
	r.added[bench], r.allocs[bench] = added, addedAllocs
	added["fastest"] = added[fastest]

	peer := "× fastest peer"
	if fastest != "" {
		peer += " (" + fastest + ")"
	}
	r.printf("### %s\n\n", title)
	r.printf("| impl | ns/op | added ns | allocs/op | added allocs | %s | × otelhttp | × otelfloor |\n", peer)
	r.printf("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, im := range order {
		if math.IsNaN(at(im, "ns/op")) {
			continue
		}
		if im == bare {
			r.printf("| %s | %.0f | – | %.0f | – | – | – | – |\n", im, baseNs, baseAllocs)
			continue
		}
		r.printf("| %s | %.0f | %.0f | %.0f | %+.0f | %s | %s | %s |\n", im, at(im, "ns/op"), added[im],
			at(im, "allocs/op"), addedAllocs[im],
			ratio(added[im], added["fastest"]), ratio(added[im], added[otelhttp]), ratio(added[im], added[floor]))
	}
	r.printf("\n")
}

// instructionsUnit is the unit of the instruction counts.
const instructionsUnit = "instr/op"

// instructions prints the instructions per request of the server
// benchmarks, success and error path side by side, with the same ratios as
// the time tables, and of the example service with and without otelred.
func (r *report) instructions() {
	at := func(bench, sub string) float64 {
		cpus := r.instr.cpus(bench)
		if len(cpus) == 0 {
			return math.NaN()
		}
		return r.instr.median(key{bench, sub, cpus[len(cpus)-1]}, instructionsUnit)
	}
	bareEx, inst := at("Example", "bare"), at("Example", "instrumented")
	server, example := !math.IsNaN(at("Server", bare)), !math.IsNaN(bareEx) && !math.IsNaN(inst)
	if !server && !example {
		return
	}
	r.printf("### Instructions per request (callgrind)\n\n")
	if server {
		benches := []string{"Server", "ServerError"}
		added := map[string]map[string]float64{}
		for _, b := range benches {
			added[b] = map[string]float64{}
			for _, im := range order {
				added[b][im] = at(b, im) - at(b, bare)
			}
			fastest := math.NaN()
			for _, p := range peers {
				if a := added[b][p]; !math.IsNaN(a) && !(a >= fastest) {
					fastest = a
				}
			}
			added[b]["fastest"] = fastest
		}
		r.printf("| impl | success: instructions | added | × fastest peer | × otelhttp | × otelfloor | error: instructions | added | × fastest peer | × otelhttp | × otelfloor |\n")
		r.printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, im := range order {
			if math.IsNaN(at("Server", im)) {
				continue
			}
			r.printf("| %s |", im)
			for _, b := range benches {
				a := added[b]
				if im == bare {
					r.printf(" %.0f | – | – | – | – |", at(b, im))
					continue
				}
				r.printf(" %.0f | %.0f | %s | %s | %s |", at(b, im), a[im], ratio(a[im], a["fastest"]), ratio(a[im], a[otelhttp]), ratio(a[im], a[floor]))
			}
			r.printf("\n")
		}
		r.printf("\n")
	}
	if example {
		r.printf("The example service, served by hey (user-space instructions per request; the kernel's share is not counted):\n\n")
		r.printf("| service | instructions per request | × uninstrumented |\n|---|--:|--:|\n")
		r.printf("| example -bare | %.0f | 1.00 |\n", bareEx)
		r.printf("| example (otelred, Prometheus exporter) | %.0f | %s |\n\n", inst, ratio(inst, bareEx))
	}
}

// ratio formats a/b, or "n/a" when b is not a positive number.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// parallel prints ns/op of BenchmarkServerParallel per GOMAXPROCS.
func (r *report) parallel() {
	cpus := r.s.cpus("ServerParallel")
	if len(cpus) == 0 {
		return
	}
	r.printf("### Parallel (BenchmarkServerParallel)\n\n| impl |")
	for _, c := range cpus {
		r.printf(" ns/op, -cpu %d |", c)
	}
	if len(cpus) > 1 {
		r.printf(" cpu %d / cpu %d | added, cpu %d / cpu %d |", cpus[len(cpus)-1], cpus[0], cpus[len(cpus)-1], cpus[0])
	}
	r.printf("\n|---|%s\n", strings.Repeat("--:|", len(cpus)+2*min(len(cpus)-1, 1)))
	for _, im := range order {
		first := r.s.median(key{"ServerParallel", im, cpus[0]}, "ns/op")
		if math.IsNaN(first) {
			continue
		}
		r.printf("| %s |", im)
		for _, c := range cpus {
			r.printf(" %.0f |", r.s.median(key{"ServerParallel", im, c}, "ns/op"))
		}
		if len(cpus) > 1 {
			c := cpus[len(cpus)-1]
			last := r.s.median(key{"ServerParallel", im, c}, "ns/op")
			r.printf(" %.2f |", last/first)
			if im == bare {
				r.printf(" – |")
			} else {
				added := func(cpu int) float64 {
					return r.s.median(key{"ServerParallel", im, cpu}, "ns/op") - r.s.median(key{"ServerParallel", bare, cpu}, "ns/op")
				}
				r.printf(" %s |", ratio(added(c), added(cpus[0])))
			}
		}
		r.printf("\n")
	}
	r.printf("\n")
}

// scrape prints BenchmarkScrape: one /metrics request over the same data.
func (r *report) scrape() {
	cpus := r.s.cpus("Scrape")
	if len(cpus) == 0 {
		return
	}
	cpu := cpus[len(cpus)-1]
	ref := r.s.median(key{"Scrape", upstream, cpu}, "ns/op")
	r.printf("### Scrape (BenchmarkScrape, 1000 histogram series)\n\n")
	r.printf("| handler | µs/op | KiB/op | allocs/op | × upstream |\n|---|--:|--:|--:|--:|\n")
	for _, h := range []string{scrapeOwn, upstream, native} {
		k := key{"Scrape", h, cpu}
		ns := r.s.median(k, "ns/op")
		if math.IsNaN(ns) {
			continue
		}
		r.printf("| %s | %.0f | %.0f | %.0f | %s |\n", h, ns/1e3, r.s.median(k, "B/op")/1024, r.s.median(k, "allocs/op"), ratio(ns, ref))
	}
	r.printf("\n")
}

// heap prints BenchmarkSeriesHeap: heap bytes per distinct series.
func (r *report) heap() {
	cpus := r.s.cpus("SeriesHeap")
	if len(cpus) == 0 {
		return
	}
	cpu := cpus[len(cpus)-1]
	var subs []string
	for k := range r.s {
		if k.bench == "SeriesHeap" && k.cpu == cpu {
			subs = append(subs, k.sub)
		}
	}
	slices.Sort(subs)
	r.printf("### Memory (BenchmarkSeriesHeap)\n\n| what | heap bytes per series |\n|---|--:|\n")
	for _, sub := range subs {
		r.printf("| %s | %.0f |\n", sub, r.s.median(key{"SeriesHeap", sub, cpu}, "B/series"))
	}
	r.printf("\n")
}

func (r *report) wrk(title string) {
	if len(r.wrkBare) == 0 || len(r.wrkInst) == 0 {
		return
	}
	bare, inst := medianOf(r.wrkBare), medianOf(r.wrkInst)
	r.printf("### End to end (the example under %s, loopback)\n\n", title)
	r.printf("| service | requests/s, median | runs (requests/s) | × uninstrumented |\n|---|--:|--:|--:|\n")
	r.printf("| example -bare | %.0f | %s | 1.00 |\n", bare, list(r.wrkBare))
	r.printf("| example (otelred, Prometheus exporter) | %.0f | %s | %.2f |\n\n", inst, list(r.wrkInst), inst/bare)
}

func list(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, ", ")
}

// targets checks the performance targets against the medians.
func (r *report) targets() {
	r.printf("### Targets\n\n| target | measured | |\n|---|---|---|\n")
	check := func(name, measured string, ok bool) {
		mark := "met"
		if !ok {
			mark = "**missed**"
		}
		r.printf("| %s | %s | %s |\n", name, measured, mark)
	}
	if a := r.added["Server"]; a != nil {
		fastest := math.Inf(1)
		for _, p := range peers {
			if !math.IsNaN(a[p]) {
				fastest = min(fastest, a[p])
			}
		}
		for _, im := range []string{otelred, classic, classicIn} {
			if math.IsNaN(a[im]) {
				continue
			}
			for _, t := range []struct {
				name string
				ref  float64
				max  float64
			}{
				{"fastest peer's", fastest, 0.6},
				{"otelhttp's", a[otelhttp], 0.1},
				{"otelfloor's", a[floor], 1.3},
			} {
				ok := t.ref > 0 && a[im] <= t.max*t.ref
				check(fmt.Sprintf("%s added ≤ %.1f× %s", im, t.max, t.name), ratio(a[im], t.ref)+"×", ok)
			}
		}
	}
	// The other paths: against the floor, and otelhttp's Transport.
	for _, t := range otherTables {
		a := r.added[t.bench]
		if a == nil {
			continue
		}
		for _, im := range []string{otelred, classic, classicIn} {
			if math.IsNaN(a[im]) {
				continue
			}
			check(fmt.Sprintf("%s added ≤ 1.3× otelfloor's (%s)", im, t.bench), ratio(a[im], a[floor])+"×", a[floor] > 0 && a[im] <= 1.3*a[floor])
			if !math.IsNaN(a[otelhttp]) {
				check(fmt.Sprintf("%s added ≤ 0.1× otelhttp's (%s)", im, t.bench), ratio(a[im], a[otelhttp])+"×", a[otelhttp] > 0 && a[im] <= 0.1*a[otelhttp])
			}
		}
	}
	benches := []string{"Server", "ServerError"}
	for _, t := range otherTables {
		benches = append(benches, t.bench)
	}
	for _, bench := range benches {
		for _, im := range []string{otelred, classic, classicIn} {
			if a, ok := r.allocs[bench][im]; ok && !math.IsNaN(a) {
				check(fmt.Sprintf("%s added allocs = 0 (%s)", im, bench), fmt.Sprintf("%+.0f", a), a <= 0)
			}
		}
	}
	if cpus := r.s.cpus("ServerParallel"); len(cpus) > 1 {
		for _, im := range []string{otelred, classic, classicIn} {
			one := r.s.median(key{"ServerParallel", im, cpus[0]}, "ns/op")
			two := r.s.median(key{"ServerParallel", im, cpus[len(cpus)-1]}, "ns/op")
			if math.IsNaN(one) || math.IsNaN(two) {
				continue
			}
			check(fmt.Sprintf("%s parallel: ns/op at -cpu %d ≤ at -cpu %d", im, cpus[len(cpus)-1], cpus[0]),
				fmt.Sprintf("%.2f×", two/one), two <= one)
		}
		// Nothing shared on the request path but the SDK's own writes:
		// with every CPU serving, otelred adds no more than 1.2 times what
		// the SDK floor adds.
		c := cpus[len(cpus)-1]
		added := func(im string) float64 {
			return r.s.median(key{"ServerParallel", im, c}, "ns/op") - r.s.median(key{"ServerParallel", bare, c}, "ns/op")
		}
		for _, im := range []string{otelred, classic, classicIn} {
			if a, f := added(im), added(floor); !math.IsNaN(a) && !math.IsNaN(f) {
				check(fmt.Sprintf("%s parallel at -cpu %d: added ≤ 1.2× otelfloor's", im, c), ratio(a, f)+"×", f > 0 && a <= 1.2*f)
			}
		}
	}
	if cpus := r.s.cpus("Scrape"); len(cpus) > 0 {
		c := cpus[len(cpus)-1]
		own, up := r.s.median(key{"Scrape", scrapeOwn, c}, "ns/op"), r.s.median(key{"Scrape", upstream, c}, "ns/op")
		if !math.IsNaN(own) && !math.IsNaN(up) {
			check("scrape: otelred's handler ≤ 1.1× upstream exporter + promhttp", fmt.Sprintf("%.2f×", own/up), own <= 1.1*up)
		}
	}
	if len(r.wrkBare) > 0 && len(r.wrkInst) > 0 {
		bare, inst := medianOf(r.wrkBare), medianOf(r.wrkInst)
		check("wrk: instrumented ≥ 0.95× uninstrumented (medians)", fmt.Sprintf("%.2f×", inst/bare), inst >= 0.95*bare)
	}
	r.printf("\n")
}
