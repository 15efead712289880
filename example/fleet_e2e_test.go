package main

// End to end with a fleet: three replicas of one service, each with its own
// known load, push OTLP to Prometheus 3's receiver, and the same replicas
// are scraped by a second Prometheus 3. Every replica must be its own
// series on both paths, and the shipped rules and dashboard must work on
// the pushed series unchanged.

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/redgen"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// fleetService is the service.name of every replica, and so the job label
// of its series on both paths.
const fleetService = "fleet"

// otlpPath is where Prometheus 3's receiver (--web.enable-otlp-receiver)
// takes OTLP over HTTP, in protobuf.
const otlpPath = "/api/v1/otlp/v1/metrics"

// fleetTraffic is the load of each replica, per wave: the first light and
// never failing, the second the only one with slow requests, the third the
// busiest and failing most. So the fleet row's worst instances are known:
// the third by rate and by errors, the second by p99.
var fleetTraffic = [][]sent{
	{
		{"/hello/ann", 10, 200, "/hello/{name}", ""},
		postOrders(1),
	},
	{
		{"/hello/bea", 20, 200, "/hello/{name}", ""},
		{"/slow?ms=" + strconv.Itoa(slowMS), 2, 200, "/slow", ""},
		{"/fail", 2, 500, "/fail", ""},
		{"/nope", 1, 404, otelred.Unmatched, ""},
		postOrders(2),
	},
	{
		{"/hello/cid", 30, 200, "/hello/{name}", ""},
		{"/fail", 12, 500, "/fail", ""},
		{"/slow?ms=x", 1, 400, "/slow", ""},
		postOrders(3),
	},
}

// fleetMode is one way of running the fleet: a profile, and the histogram
// aggregation of its durations.
type fleetMode struct {
	naming string
	native bool
}

// TestE2EFleet runs three replicas of one service, in the Semconv, Classic
// and native modes, pushing OTLP over HTTP (protobuf) every second to one
// Prometheus 3 and scraped every second by another. It checks, on the
// pushed series: the fleet's total is exactly what was sent; the three
// replicas are three series, told apart by instance, which is each
// replica's service.instance.id; Prometheus answered every push with 200,
// and otel.Handle saw no error; target_info has three series; and every
// rule and dashboard query redgen generates has data. On the scraped
// series, each replica's total is the same as on the pushed ones.
//
// Semconv and native replicas keep the random service.instance.id
// exporter.Setup draws; in Classic, one sets its own in
// Config.ResourceAttributes and one in OTEL_RESOURCE_ATTRIBUTES.
//
// The replicas are in-process demos (newDemo), each with its own
// exporter.Setup, as three processes would have: the same wiring main
// runs, without building and starting binaries, and with their resources
// and errors at hand. Prometheus 2.42 has no OTLP receiver, so this test
// runs against Prometheus 3 only. Prometheus takes OTLP over HTTP only,
// not gRPC, so there is no gRPC push to test against it.
func TestE2EFleet(t *testing.T) {
	bin := testsupport.Prometheus3().Tool(t, "prometheus")
	for _, mode := range []fleetMode{{naming: "semconv"}, {naming: "classic"}, {naming: "semconv", native: true}} {
		name := mode.naming
		if mode.native {
			name += " native"
		}
		t.Run(name, func(t *testing.T) { testFleet(t, bin, mode) })
	}
}

// replica is one demo of the fleet, with what it is sent and the instance
// label each path gives its series.
type replica struct {
	d       *demo
	traffic []sent
	id      string // service.instance.id: the instance label of its pushed series
	addr    string // host:port: the instance label of its scraped series
	sent    float64
}

func testFleet(t *testing.T, bin string, mode fleetMode) {
	start := time.Now()
	t.Cleanup(func() { t.Logf("fleet end-to-end test took %v", time.Since(start).Round(time.Millisecond)) })
	noOTELEnv(t)
	errs := testsupport.CaptureErrors(t)

	o, err := objectives()
	if err != nil {
		t.Fatal(err)
	}
	profile, err := otelred.ParseProfile(mode.naming)
	if err != nil {
		t.Fatal(err)
	}
	genCfg := redgen.Config{Objectives: o, Profile: profile, Native: mode.native}
	rules := fleetRules(t, genCfg)

	// The receiving Prometheus: no out-of-order window, so that a push
	// that went back in time on a series shared by two replicas is
	// refused and seen.
	global := "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
	pushed := startPrometheus(t, bin, global+fmt.Sprintf("rule_files:\n  - %q\n", rules), "--web.enable-otlp-receiver")

	// The replicas, each with both exporters: pushed and scraped at once.
	replicas := make([]*replica, len(fleetTraffic))
	for i, traffic := range fleetTraffic {
		cfg := exporter.Config{
			Exporters:   []string{"prometheus", "otlp"},
			ServiceName: fleetService,
			OTLP: exporter.OTLP{
				Protocol: "http/protobuf",
				Endpoint: pushed.url + otlpPath,
				Interval: time.Second,
			},
		}
		r := &replica{traffic: traffic}
		if mode.naming == "classic" {
			switch i {
			case 1:
				r.id = "fleet-replica-1"
				cfg.ResourceAttributes = map[string]string{"service.instance.id": r.id}
			case 2:
				r.id = "fleet-replica-2"
				t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id="+r.id)
			}
		}
		histogram := "explicit"
		if mode.native {
			histogram = "native"
		}
		r.d = startDemo(t, options{naming: mode.naming, histogram: histogram, config: cfg})
		t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
		if r.id != "" && r.d.instanceID() != r.id {
			t.Fatalf("replica %d: service.instance.id %q, want the one it set, %q", i, r.d.instanceID(), r.id)
		}
		r.id, r.addr = r.d.instanceID(), r.d.ln.Addr().String()
		replicas[i] = r
	}

	// The scraping Prometheus, with native histograms in native mode.
	var scrapeCfg strings.Builder
	scrapeCfg.WriteString(global)
	if mode.native {
		scrapeCfg.WriteString(nativeSetting)
	}
	fmt.Fprintf(&scrapeCfg, "scrape_configs:\n  - job_name: %s\n    static_configs:\n      - targets:\n", fleetService)
	for _, r := range replicas {
		fmt.Fprintf(&scrapeCfg, "          - %q\n", r.addr)
	}
	scraped := startPrometheus(t, bin, scrapeCfg.String())

	// The traffic, in waves; after each, every replica pushes at once (a
	// push Prometheus refuses is ForceFlush's error) and is scraped.
	c := newClient(t)
	for range waves {
		var wg sync.WaitGroup
		for _, r := range replicas {
			wg.Go(func() { drive(t, c, r.d.url(), r.traffic, &traceIDs{}) })
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		after := time.Now()
		for i, r := range replicas {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := r.d.provider.ForceFlush(ctx)
			cancel()
			if err != nil {
				t.Fatalf("replica %d: pushing to Prometheus: %v", i, err)
			}
		}
		scraped.waitScrapedAfter(t, after, len(replicas))
	}
	for _, r := range replicas {
		for _, sn := range r.traffic {
			for _, s := range sn.recorded() {
				r.sent += float64(waves * s.n)
			}
		}
	}

	pq := e2eProfiles[0]
	if mode.naming == "classic" {
		pq = e2eProfiles[1]
	}
	job := `job="` + fleetService + `"`
	// perInstance sums the requests by instance, on either path.
	perInstance := func(t *testing.T, prom *promServer) map[string]float64 {
		q := fmt.Sprintf("sum by (instance) (%s{%s})", pq.count, job)
		if mode.native && pq.errors == "" { // the count of the native histogram
			q = fmt.Sprintf("sum by (instance) (histogram_count(%s{%s}))", pq.histogramName(), job)
		}
		got := map[string]float64{}
		for _, s := range prom.query(t, q) {
			got[s.Metric["instance"]] = s.Value
		}
		return got
	}
	wantPushed, wantScraped := map[string]float64{}, map[string]float64{}
	var total float64
	for _, r := range replicas {
		wantPushed[r.id] = r.sent
		wantScraped[r.addr] = r.sent
		total += r.sent
	}

	t.Run("pushed", func(t *testing.T) {
		// Each replica is its own series, exact, and the fleet's total is
		// their sum.
		got := perInstance(t, pushed)
		if !maps.Equal(got, wantPushed) {
			t.Errorf("requests by instance (service.instance.id):\n got %v\nwant %v", got, wantPushed)
		}
		var sum float64
		for _, v := range got {
			sum += v
		}
		if sum != total {
			t.Errorf("the fleet's total is %v, want %v", sum, total)
		}

		// Every push was taken.
		if n := errs.Count(); n != 0 {
			t.Errorf("otel.Handle got %d errors, the first: %s", n, errs.First())
		}
		codes := otlpResponses(t, pushed)
		if len(codes) != 1 || codes["200"] < float64(waves*len(replicas)) {
			t.Errorf("Prometheus answered the OTLP pushes %v, want only 200s, at least %d", codes, waves*len(replicas))
		}

		// target_info: one per replica, with the replica's resource.
		info := map[string]string{}
		for _, s := range pushed.query(t, "target_info{"+job+"}") {
			info[s.Metric["instance"]] = s.Metric["telemetry_sdk_language"]
		}
		if want := map[string]string{replicas[0].id: "go", replicas[1].id: "go", replicas[2].id: "go"}; !maps.Equal(info, want) {
			t.Errorf("target_info by instance (telemetry_sdk_language): %v, want %v", info, want)
		}
	})

	t.Run("scraped", func(t *testing.T) {
		// The same totals, each replica under its address.
		if got := perInstance(t, scraped); !maps.Equal(got, wantScraped) {
			t.Errorf("requests by instance (host:port):\n got %v\nwant %v", got, wantScraped)
		}
		// target_info carries the service.instance.id of each address:
		// the join between the two paths' instance labels.
		ids := map[string]string{}
		for _, s := range scraped.query(t, "target_info{"+job+"}") {
			ids[s.Metric["instance"]] = s.Metric["service_instance_id"]
		}
		want := map[string]string{}
		for _, r := range replicas {
			want[r.addr] = r.id
		}
		if !maps.Equal(ids, want) {
			t.Errorf("target_info's service_instance_id by instance: %v, want %v", ids, want)
		}
	})

	// The two paths store the same series for each replica, the name and
	// labels of every one of them (but job and instance) alike: nothing is
	// lost or added by pushing. Prometheus's own (up, scrape_*), the
	// rules' and target_info (see above) are left out. The le values of
	// integer boundaries differ: a scrape stores "1.0" (Prometheus 3
	// normalises them), a push "1", as the OTLP translator formats the
	// boundary; redgen's le matchers take both.
	t.Run("same series on both paths", func(t *testing.T) {
		own := func(s map[string]string) bool {
			name := s["__name__"]
			return name == "up" || name == "target_info" || strings.HasPrefix(name, "scrape_") || strings.Contains(name, ":")
		}
		// seriesOf returns the series of instance, with le values
		// written as a float is, and the le values as stored.
		seriesOf := func(prom *promServer, instance string) (series []string, les map[string]bool) {
			les = map[string]bool{}
			for _, s := range prom.series(t, fmt.Sprintf(`{%s, instance=%q}`, job, instance)) {
				if own(s) {
					continue
				}
				delete(s, "job")
				delete(s, "instance")
				if le, ok := s["le"]; ok {
					les[le] = true
					if f, err := strconv.ParseFloat(le, 64); err == nil {
						s["le"] = strconv.FormatFloat(f, 'g', -1, 64)
					}
				}
				series = append(series, fmt.Sprint(s))
			}
			slices.Sort(series)
			return series, les
		}
		for i, r := range replicas {
			p, pLE := seriesOf(pushed, r.id)
			s, sLE := seriesOf(scraped, r.addr)
			if !slices.Equal(p, s) {
				t.Errorf("replica %d: %d series pushed, %d scraped; only pushed: %q; only scraped: %q", i, len(p), len(s), difference(p, s), difference(s, p))
			}
			if !mode.native && (!pLE["1"] || pLE["1.0"] || !sLE["1.0"] || sLE["1"]) {
				t.Errorf("replica %d: le of the boundary 1: pushed %v, scraped %v; want \"1\" pushed and \"1.0\" scraped", i, pLE, sLE)
			}
			server := 0
			for _, name := range p {
				if strings.Contains(name, "__name__:"+pq.histogramName()) {
					server++
				}
			}
			t.Logf("replica %d: %d series on each path, %d of them the HTTP server's duration histogram", i, len(p), server)
		}
	})

	t.Run("rules", func(t *testing.T) { pushed.waitRulesHealthy(t, rules) })

	// The fleet row: its variable lists the three replicas, and each panel
	// ranks them as their loads say.
	t.Run("fleet row", func(t *testing.T) {
		svc := job
		if mode.naming == "classic" {
			svc = `service="` + fleetService + `"`
		}
		worst := func(record string) (string, error) {
			var top string
			err := pushed.poll(30*time.Second, func() (bool, string) {
				res, err := pushed.instant(record + "{" + svc + "}")
				if err != nil || len(res) != len(replicas) {
					return false, fmt.Sprintf("%v %v", res, err)
				}
				slices.SortFunc(res, func(a, b sample) int { return cmp.Compare(b.Value, a.Value) })
				top = res[0].Metric["instance"]
				return res[0].Value > res[1].Value, fmt.Sprint(res)
			})
			return top, err
		}
		for _, tc := range []struct {
			record string
			want   *replica
		}{
			{"otelred_instance:http_requests:rate5m", replicas[2]},
			{"otelred_instance:http_errors:ratio_rate5m", replicas[2]},
			{"otelred_instance:http_request_duration_seconds:p99_rate5m", replicas[1]},
		} {
			got, err := worst(tc.record)
			if err != nil || got != tc.want.id {
				t.Errorf("%s: the worst instance is %q (%v), want %q", tc.record, got, err, tc.want.id)
			}
		}
		// What the rules record: per instance, three series whatever the
		// routes; the rest per service and route, objective or window,
		// whatever the instances.
		perInstance := pushed.scalar(t, `count({__name__=~"otelred_instance:.+"})`)
		if perInstance != float64(3*len(replicas)) {
			t.Errorf("the fleet rules record %v series, want 3 per instance, %d", perInstance, 3*len(replicas))
		}
		t.Logf("the rules record %v series: %v per instance, %v others",
			pushed.scalar(t, `count({__name__=~".+:.+"})`), perInstance, pushed.scalar(t, `count({__name__=~".+:.+", instance=""})`))
	})

	// Every rule and panel query has data on the pushed series, for the
	// fleet as a whole and for one of its instances.
	t.Run("dashboard and rule queries", func(t *testing.T) {
		checkQueries(t, pushed, genCfg, redgen.Vars{Service: fleetService}, redgen.Vars{Service: fleetService, Instance: replicas[1].id}, redgen.Vars{})
	})
}

// fleetRules returns the path of the rules for c: the committed files for
// Semconv (rules.yml, rules-native.yml), and what redgen generates for
// Classic, which has no committed rules file.
func fleetRules(t *testing.T, c redgen.Config) string {
	t.Helper()
	if c.Profile == otelred.Semconv {
		name := "rules.yml"
		if c.Native {
			name = "rules-native.yml"
		}
		path, err := filepath.Abs(filepath.Join("prometheus", name))
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	b, err := redgen.Rules(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// otlpResponses reads Prometheus's own metrics and returns how many OTLP
// pushes it answered with each status code.
func otlpResponses(t *testing.T, p *promServer) map[string]float64 {
	t.Helper()
	resp, err := p.client.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	codes := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "prometheus_http_requests_total{") || !strings.Contains(line, `handler="`+otlpPath+`"`) {
			continue
		}
		_, after, _ := strings.Cut(line, `code="`)
		code, _, _ := strings.Cut(after, `"`)
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if v > 0 {
			codes[code] += v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return codes
}

// difference returns the elements of a, sorted, that b lacks.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			out = append(out, s)
		}
	}
	return out
}
