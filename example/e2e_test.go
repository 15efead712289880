package main

// End-to-end tests against a real Prometheus (Debian's prometheus package):
// the demo's numbers, scraped and queried, are exactly what was sent.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/redgen"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// TestPrometheusConfigFiles checks the committed Prometheus
// configurations: each loads the rules next to it and passes promtool
// check config (which checks the rules too) of the Prometheus versions it
// is for, and the two that scrape scrape the demo where it listens by
// default, under a job named after the service.
//
//   - prometheus.yml (explicit histograms) loads on Prometheus 2 and 3.
//   - prometheus-native.yml sets scrape_native_histograms, which Prometheus
//     3 needs to scrape native histograms and Prometheus 2 rejects; with
//     that line deleted, as its header says, Prometheus 2 loads it.
//   - prometheus-otlp.yml is for Prometheus 3's OTLP receiver, which
//     Prometheus 2.42 does not have: it scrapes nothing.
func TestPrometheusConfigFiles(t *testing.T) {
	type scrapeConfig struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	}
	type config struct {
		Global struct {
			ScrapeNativeHistograms *bool `yaml:"scrape_native_histograms"`
		} `yaml:"global"`
		RuleFiles     []string       `yaml:"rule_files"`
		ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
		Storage       struct {
			TSDB struct {
				OutOfOrderTimeWindow string `yaml:"out_of_order_time_window"`
			} `yaml:"tsdb"`
		} `yaml:"storage"`
		OTLP struct {
			TranslationStrategy string `yaml:"translation_strategy"`
		} `yaml:"otlp"`
	}
	const nativeLine = "  scrape_native_histograms: true\n"
	for _, tc := range []struct {
		file   string
		rules  string
		scrape bool // scrapes the demo
		native bool // sets scrape_native_histograms
		otlp   bool // for the OTLP receiver
	}{
		{file: "prometheus.yml", rules: "rules.yml", scrape: true},
		{file: "prometheus-native.yml", rules: "rules-native.yml", scrape: true, native: true},
		{file: "prometheus-otlp.yml", rules: "rules.yml", otlp: true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("prometheus", tc.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var cfg config
			if err := yaml.Unmarshal(b, &cfg); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !slices.Equal(cfg.RuleFiles, []string{tc.rules}) {
				t.Errorf("rule_files %q, want [%s]", cfg.RuleFiles, tc.rules)
			}
			if tc.scrape {
				if len(cfg.ScrapeConfigs) != 1 || len(cfg.ScrapeConfigs[0].StaticConfigs) != 1 ||
					!slices.Equal(cfg.ScrapeConfigs[0].StaticConfigs[0].Targets, []string{"127.0.0.1:8080"}) {
					t.Fatalf("scrape_configs %+v, want one job scraping 127.0.0.1:8080", cfg.ScrapeConfigs)
				}
				if sc := cfg.ScrapeConfigs[0]; sc.JobName != defaultServiceName || (sc.MetricsPath != "" && sc.MetricsPath != "/metrics") {
					t.Errorf("job %q at %q, want job %q at /metrics", sc.JobName, sc.MetricsPath, defaultServiceName)
				}
			} else if len(cfg.ScrapeConfigs) != 0 {
				t.Errorf("scrape_configs %+v, want none", cfg.ScrapeConfigs)
			}
			if got := cfg.Global.ScrapeNativeHistograms != nil && *cfg.Global.ScrapeNativeHistograms; got != tc.native ||
				tc.native && !strings.Contains(string(b), "\n"+nativeLine) {
				t.Errorf("global.scrape_native_histograms %v, want %v, on a line of its own", got, tc.native)
			}
			if tc.otlp && (cfg.Storage.TSDB.OutOfOrderTimeWindow == "" || cfg.OTLP.TranslationStrategy != "UnderscoreEscapingWithSuffixes") {
				t.Errorf("storage.tsdb.out_of_order_time_window %q and otlp.translation_strategy %q: want a window, and the exporter's names",
					cfg.Storage.TSDB.OutOfOrderTimeWindow, cfg.OTLP.TranslationStrategy)
			}

			check := func(t *testing.T, promtool, path string) ([]byte, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				return exec.CommandContext(ctx, promtool, "check", "config", path).CombinedOutput()
			}
			for _, v := range testsupport.Prometheuses() {
				t.Run(v.Name, func(t *testing.T) {
					if v.Major == 2 && tc.otlp {
						t.Skip("Prometheus 2.42 has no OTLP receiver")
					}
					promtool, path := v.Tool(t, "promtool"), path
					if v.Major == 2 && tc.native {
						out, err := check(t, promtool, path)
						if err == nil || !strings.Contains(string(out), "scrape_native_histograms") {
							t.Errorf("promtool check config %s: %v, want the error that names scrape_native_histograms\n%s", path, err, out)
						}
						// What the header tells Prometheus 2's users to do.
						path = filepath.Join(t.TempDir(), tc.file)
						edited := strings.Replace(string(b), nativeLine, "", 1)
						for _, f := range []string{tc.file, tc.rules} {
							data, err := os.ReadFile(filepath.Join("prometheus", f))
							if err != nil {
								t.Fatal(err)
							}
							if f == tc.file {
								data = []byte(edited)
							}
							if err := os.WriteFile(filepath.Join(filepath.Dir(path), f), data, 0o644); err != nil {
								t.Fatal(err)
							}
						}
					}
					if out, err := check(t, promtool, path); err != nil {
						t.Errorf("promtool check config %s: %v\n%s", path, err, out)
					}
				})
			}
		})
	}
}

// sent is one kind of request the e2e test sends, n times per wave.
type sent struct {
	path   string
	n      int
	status int
	route  string // the route it must be recorded under
	method string // "" is GET
}

// postOrders is a POST /orders: an outbound call to the instance's own
// /hello/orders, recorded by the client's instruments and as one more
// /hello/{name} request, and one orders.process operation.
func postOrders(n int) sent { return sent{"/orders", n, 201, "/orders", http.MethodPost} }

// recorded lists the server requests s makes the instance record: s itself
// and, for POST /orders, the call it makes to the instance.
func (s sent) recorded() []sent {
	if s.method == http.MethodPost && s.path == "/orders" {
		return []sent{s, {"/hello/orders", s.n, 200, "/hello/{name}", ""}}
	}
	return []sent{s}
}

// outbound is how many outbound calls and operations s makes.
func (s sent) outbound() int {
	if s.method == http.MethodPost && s.path == "/orders" {
		return s.n
	}
	return 0
}

// The traffic of one wave, for each of the two instances of a profile.
// Every raw path and query holds a word (alice, extra, nope, user, ms=)
// that must never show up in a label.
var (
	trafficA = []sent{
		{"/hello/alice", 6, 200, "/hello/{name}", ""},
		{"/hello/bob", 4, 200, "/hello/{name}", ""},
		{"/fail", 3, 500, "/fail", ""},
		{"/slow?ms=" + strconv.Itoa(slowMS), 2, 200, "/slow", ""},
		{"/slow?ms=abc", 1, 400, "/slow", ""},
		{"/hello/alice/extra", 1, 404, otelred.Unmatched, ""},
		postOrders(3),
	}
	trafficB = []sent{
		{"/hello/carol", 5, 200, "/hello/{name}", ""},
		{"/fail", 1, 500, "/fail", ""},
		{"/slow?ms=" + strconv.Itoa(slowMS), 1, 200, "/slow", ""},
		{"/slow?ms=-5", 2, 400, "/slow", ""},
		{"/nope?user=carol", 1, 404, otelred.Unmatched, ""},
		postOrders(2),
	}
	rawFragments = []string{"alice", "bob", "carol", "extra", "nope", "user", "ms=", "?", "abc"}
)

// waves is how many times each traffic is sent, with a scrape in between,
// so that the series exist before they grow and the rates of the README's
// queries are not zero.
const waves = 2

// slowMS is the known latency of the /slow requests.
const slowMS = 300

// e2eService is the service.name of every instance.
const e2eService = "otelred-e2e"

// profileQueries names, for one profile, what the e2e test queries.
type profileQueries struct {
	naming string
	count  string // the series whose sum is the number of requests
	bucket string // the duration histogram's buckets
	route  string // the route label
	// unmatched is the route label's value for requests that matched no
	// route: none ("") in Semconv, otelred.Unmatched in Classic.
	unmatched string
	status    string // the status label
	active    string // the in-flight gauge
	failed    string // a selector suffix for failed requests on count, or ""
	errors    string // a counter of failed requests, or ""
	isError   func(status int) bool
	// clientCount and opCount count the outbound calls and the
	// operations; clientHost and clientPort are the client's labels of the
	// called host and port ("" if it has none).
	clientCount, opCount, clientHost, clientPort string
	// opActive is the gauge of operations in progress.
	opActive string
	// names is every metric name a scrape has, besides Prometheus's own
	// and the runtime's (runtimeNames).
	names []string
	// labels is the exact label names of each metric (job and instance
	// excepted).
	labels map[string][]string
	// readme are the queries README-example.md gives, by kind ("rate",
	// "error ratio", "p99"); keep them the same.
	readme map[string]string
}

// routeOf is the route label's value of requests sent with route r:
// r, or for otelred.Unmatched the profile's value for no route.
func (pq profileQueries) routeOf(r string) string {
	if r == otelred.Unmatched {
		return pq.unmatched
	}
	return r
}

var e2eProfiles = []profileQueries{
	{
		naming:    "semconv",
		count:     "http_server_request_duration_seconds_count",
		bucket:    "http_server_request_duration_seconds_bucket",
		route:     "http_route",
		unmatched: otelred.Semconv.Names().Unmatched,
		status:    "http_response_status_code",
		active:    "http_server_active_requests",
		failed:    `error_type!=""`,
		isError: func(status int) bool {
			return status >= 500
		},
		clientCount: "http_client_request_duration_seconds_count",
		opCount:     "operation_duration_seconds_count",
		clientHost:  "server_address",
		clientPort:  "server_port",
		opActive:    "operation_active",
		names: []string{
			"http_client_request_duration_seconds_bucket",
			"http_client_request_duration_seconds_count",
			"http_client_request_duration_seconds_sum",
			"http_server_active_requests",
			"http_server_request_duration_seconds_bucket",
			"http_server_request_duration_seconds_count",
			"http_server_request_duration_seconds_sum",
			"operation_active",
			"operation_duration_seconds_bucket",
			"operation_duration_seconds_count",
			"operation_duration_seconds_sum",
			"target_info",
		},
		labels: map[string][]string{
			"http_client_request_duration_seconds_count": {"http_request_method", "http_response_status_code", "network_protocol_version", "server_address", "server_port"},
			"operation_duration_seconds_count":           {"operation_name"},
			"operation_active":                           {"operation_name"},
		},
		readme: map[string]string{
			"rate":        `sum by (http_route) (rate(http_server_request_duration_seconds_count[1m]))`,
			"error ratio": `sum(rate(http_server_request_duration_seconds_count{error_type!=""}[1m])) / sum(rate(http_server_request_duration_seconds_count[1m]))`,
			"p99":         `histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket[1m])))`,
		},
	},
	{
		naming:    "classic",
		count:     "http_requests_total",
		bucket:    "http_request_duration_seconds_bucket",
		route:     "path",
		unmatched: otelred.Classic.Names().Unmatched,
		status:    "status_code",
		active:    "http_requests_active",
		errors:    "http_errors_total",
		isError: func(status int) bool {
			return status >= 400
		},
		clientCount: "http_client_requests_total",
		opCount:     "operations_total",
		clientHost:  "host",
		opActive:    "operations_active",
		names: []string{
			"http_client_request_duration_seconds_bucket",
			"http_client_request_duration_seconds_count",
			"http_client_request_duration_seconds_sum",
			"http_client_requests_total",
			"http_errors_total",
			"http_request_duration_seconds_bucket",
			"http_request_duration_seconds_count",
			"http_request_duration_seconds_sum",
			"http_requests_active",
			"http_requests_total",
			"operation_duration_seconds_bucket",
			"operation_duration_seconds_count",
			"operation_duration_seconds_sum",
			"operations_active",
			"operations_total",
			"target_info",
		},
		labels: map[string][]string{
			"http_requests_total":                  {"method", "path", "service", "status_code"},
			"http_errors_total":                    {"method", "path", "service", "status_code"},
			"http_request_duration_seconds_bucket": {"le", "method", "path", "service", "status_code"},
			"http_request_duration_seconds_count":  {"method", "path", "service", "status_code"},
			"http_request_duration_seconds_sum":    {"method", "path", "service", "status_code"},
			"http_requests_active":                 {"method", "path", "service"},
			// The client's and the operations' names and labels, as the
			// classic profile defines them.
			"http_client_requests_total":                 {"host", "method", "service", "status_code"},
			"http_client_request_duration_seconds_count": {"host", "method", "service", "status_code"},
			"operations_total":                           {"operation", "service"},
			"operation_duration_seconds_count":           {"operation", "service"},
			"operations_active":                          {"operation", "service"},
		},
		readme: map[string]string{
			"rate":        `sum by (path) (rate(http_requests_total[1m]))`,
			"error ratio": `sum(rate(http_errors_total[1m])) / sum(rate(http_requests_total[1m]))`,
			"p99":         `histogram_quantile(0.99, sum by (le, path) (rate(http_request_duration_seconds_bucket[1m])))`,
		},
	},
}

// runtimeNames are the Go runtime's metrics, which every instance has
// (go_memory_limit_bytes only when GOMEMLIMIT is set).
var runtimeNames = []string{
	"go_config_gogc_percent",
	"go_goroutines",
	"go_memory_allocated_bytes_total",
	"go_memory_allocations_total",
	"go_memory_gc_goal_bytes",
	"go_memory_used_bytes",
	"go_processor_limit",
}

// TestE2EPrometheus runs two instances of the demo for each profile, and
// one real Prometheus scraping all four every second; sends a known
// traffic; and checks what Prometheus's HTTP API answers. The first
// semconv instance runs with -tracing, and its histograms' exemplars must
// reach Prometheus with the trace ids its responses gave. It runs once
// against each Prometheus version, Debian's 2.42 and 3.16.
func TestE2EPrometheus(t *testing.T) {
	for _, v := range testsupport.Prometheuses() {
		t.Run(v.Name, func(t *testing.T) { e2ePrometheus(t, v) })
	}
}

func e2ePrometheus(t *testing.T, v testsupport.Prometheus) {
	bin := v.Tool(t, "prometheus")
	start := time.Now()
	t.Cleanup(func() { t.Logf("end-to-end test took %v", time.Since(start).Round(time.Millisecond)) })

	// The demos, each with the ManualReader -load reads, to compare its
	// quantiles with Prometheus's.
	type instance struct {
		d       *demo
		traffic []sent
		ids     *traceIDs // the trace ids of its responses, with -tracing
	}
	instances := map[string][]instance{} // by profile
	var traced instance
	for _, pq := range e2eProfiles {
		for i, traffic := range [][]sent{trafficA, trafficB} {
			tracing := pq.naming == "semconv" && i == 0
			d := startDemo(t, options{naming: pq.naming, stats: true, tracing: tracing, config: exporterConfig(e2eService)})
			in := instance{d, traffic, &traceIDs{}}
			instances[pq.naming] = append(instances[pq.naming], in)
			if tracing {
				traced = in
			}
		}
	}

	// Prometheus, with the committed rules if they are there.
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
	rules, err := filepath.Abs(filepath.Join("prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rules); err == nil {
		fmt.Fprintf(&cfg, "rule_files:\n  - %q\n", rules)
	} else {
		t.Logf("no %s (%v): Prometheus runs without rules", rules, err)
		rules = ""
	}
	cfg.WriteString("scrape_configs:\n")
	for _, pq := range e2eProfiles {
		fmt.Fprintf(&cfg, "  - job_name: %s\n    static_configs:\n      - targets:\n", pq.naming)
		for _, in := range instances[pq.naming] {
			fmt.Fprintf(&cfg, "          - %q\n", in.d.ln.Addr().String())
		}
	}
	prom := startPrometheus(t, bin, cfg.String())

	// The traffic, in waves with a scrape after each.
	c := newClient(t)
	for range waves {
		var wg sync.WaitGroup
		for _, ins := range instances {
			for _, in := range ins {
				wg.Go(func() { drive(t, c, in.d.url(), in.traffic, in.ids) })
			}
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		prom.waitScrapedAfter(t, time.Now(), 2*len(e2eProfiles))
	}

	for _, pq := range e2eProfiles {
		t.Run(pq.naming, func(t *testing.T) {
			insts := instances[pq.naming]
			job := `job="` + pq.naming + `"`

			// Exact totals, by route and status, and by instance.
			want := map[string]float64{}
			byInstance := map[string]float64{}
			var total, failed float64
			for _, in := range insts {
				for _, sn := range in.traffic {
					for _, s := range sn.recorded() {
						n := float64(waves * s.n)
						want[pq.routeOf(s.route)+" "+strconv.Itoa(s.status)] += n
						byInstance[in.d.ln.Addr().String()] += n
						total += n
						if pq.isError(s.status) {
							failed += n
						}
					}
				}
			}
			if failed == 0 || failed == total {
				t.Fatalf("the traffic has %v failures in %v requests: the error ratio would prove nothing", failed, total)
			}
			byRouteStatus := func(q string) map[string]float64 {
				got := map[string]float64{}
				for _, s := range prom.query(t, q) {
					got[s.Metric[pq.route]+" "+s.Metric[pq.status]] = s.Value
				}
				return got
			}
			countSel := pq.count + "{" + job + "}"
			if got := byRouteStatus(fmt.Sprintf("sum by (%s, %s) (%s)", pq.route, pq.status, countSel)); !maps.Equal(got, want) {
				t.Errorf("requests by route and status:\n got %v\nwant %v", got, want)
			}
			if pq.errors != "" { // the histogram's count agrees with the counter
				q := fmt.Sprintf(`sum by (%s, %s) (http_request_duration_seconds_count{%s})`, pq.route, pq.status, job)
				if got := byRouteStatus(q); !maps.Equal(got, want) {
					t.Errorf("%s:\n got %v\nwant %v", q, got, want)
				}
			}
			gotInstances := map[string]float64{}
			for _, s := range prom.query(t, fmt.Sprintf("sum by (instance) (%s)", countSel)) {
				gotInstances[s.Metric["instance"]] = s.Value
			}
			if !maps.Equal(gotInstances, byInstance) {
				t.Errorf("requests by instance: got %v, want %v", gotInstances, byInstance)
			}
			if got := prom.scalar(t, fmt.Sprintf("sum(%s)", countSel)); got != total {
				t.Errorf("sum over both instances: %v requests, want %v", got, total)
			}

			// Failures, and the error ratio.
			errorsQuery := fmt.Sprintf("sum(%s{%s, %s})", pq.count, job, pq.failed)
			if pq.errors != "" {
				errorsQuery = fmt.Sprintf("sum(%s{%s})", pq.errors, job)
			}
			if got := prom.scalar(t, errorsQuery); got != failed {
				t.Errorf("%s = %v, want %v", errorsQuery, got, failed)
			}
			ratio := prom.scalar(t, fmt.Sprintf("%s / sum(%s)", errorsQuery, countSel))
			if math.Abs(ratio-failed/total) > 1e-12 {
				t.Errorf("error ratio %v, want %v/%v = %v", ratio, failed, total, failed/total)
			}

			// Nothing is in flight any more.
			for _, active := range []string{pq.active, pq.opActive} {
				if got := prom.scalar(t, fmt.Sprintf("sum(%s{%s})", active, job)); got != 0 {
					t.Errorf("%s sums to %v after the traffic, want 0", active, got)
				}
			}

			// The outbound calls and the operations of POST /orders: one
			// of each per order, by instance, each call to the instance's
			// own address and answered 200.
			wantCalls, wantOps := map[string]float64{}, map[string]float64{}
			var calls float64
			for _, in := range insts {
				addr := in.d.ln.Addr().(*net.TCPAddr)
				callee := "127.0.0.1"
				if pq.clientPort != "" {
					callee += ":" + strconv.Itoa(addr.Port)
				}
				for _, s := range in.traffic {
					n := float64(waves * s.outbound())
					wantCalls[addr.String()+" "+callee+" 200"] += n
					wantOps[addr.String()] += n
					calls += n
				}
			}
			by := "instance, " + pq.clientHost + ", " + pq.status
			if pq.clientPort != "" {
				by += ", " + pq.clientPort
			}
			gotCalls := map[string]float64{}
			for _, s := range prom.query(t, fmt.Sprintf("sum by (%s) (%s{%s})", by, pq.clientCount, job)) {
				callee := s.Metric[pq.clientHost]
				if pq.clientPort != "" {
					callee += ":" + s.Metric[pq.clientPort]
				}
				gotCalls[s.Metric["instance"]+" "+callee+" "+s.Metric[pq.status]] = s.Value
			}
			if calls == 0 || !maps.Equal(gotCalls, wantCalls) {
				t.Errorf("outbound calls by instance, host and status:\n got %v\nwant %v", gotCalls, wantCalls)
			}
			gotOps := map[string]float64{}
			for _, s := range prom.query(t, fmt.Sprintf("sum by (instance) (%s{%s})", pq.opCount, job)) {
				gotOps[s.Metric["instance"]] = s.Value
			}
			if !maps.Equal(gotOps, wantOps) {
				t.Errorf("operations by instance: got %v, want %v", gotOps, wantOps)
			}

			// p99 of /slow over both instances: in the bucket that holds
			// the slow latency, since histograms aggregate.
			lo, hi := bucketAround(t, insts[0].d.boundaries, slowMS/1000.0)
			slowSel := fmt.Sprintf(`%s{%s, %s="/slow"}`, pq.bucket, job, pq.route)
			p99 := prom.scalar(t, fmt.Sprintf("histogram_quantile(0.99, sum by (le) (%s))", slowSel))
			if !(p99 > lo && p99 <= hi) {
				t.Errorf("p99 of /slow over both instances = %v, want it in the bucket (%v, %v] that holds %d ms", p99, lo, hi, slowMS)
			}

			// Each instance's own estimate (what -load prints, from its
			// ManualReader) is Prometheus's histogram_quantile.
			for _, in := range insts {
				s, err := in.d.snapshot(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				inst := `instance="` + in.d.ln.Addr().String() + `"`
				for _, q := range []float64{0.5, 0.99} {
					for _, r := range []string{"/slow", "/hello/{name}"} {
						rs := s.routes[r]
						mine := quantile(q, rs.bounds, rs.buckets)
						theirs := prom.scalar(t, fmt.Sprintf(`histogram_quantile(%v, sum by (le) (%s{%s, %s, %s=%q}))`, q, pq.bucket, job, inst, pq.route, r))
						if math.Abs(mine-theirs) > 1e-9 {
							t.Errorf("%s %s: the demo's p%v is %v, Prometheus's %v", inst, r, q*100, mine, theirs)
						}
					}
				}
			}

			checkSeries(t, prom, pq, job)

			// The README's queries work, and say something.
			for kind, q := range pq.readme {
				res := prom.query(t, q)
				switch kind {
				case "rate":
					got := map[string]bool{}
					for _, s := range res {
						got[s.Metric[pq.route]] = s.Value > 0
					}
					if want := map[string]bool{"/hello/{name}": true, "/fail": true, "/slow": true, "/orders": true, pq.unmatched: true}; !maps.Equal(got, want) {
						t.Errorf("README %s query %s: routes with a rate > 0: %v, want %v", kind, q, got, want)
					}
				case "error ratio":
					if len(res) != 1 || !(res[0].Value > 0 && res[0].Value < 1) {
						t.Errorf("README %s query %s = %v, want one value in (0, 1)", kind, q, res)
					}
				case "p99":
					var found bool
					for _, s := range res {
						if s.Metric[pq.route] == "/slow" {
							found = true
							if !(s.Value > lo && s.Value <= hi) {
								t.Errorf("README %s query %s: /slow %v, want it in (%v, %v]", kind, q, s.Value, lo, hi)
							}
						}
					}
					if !found {
						t.Errorf("README %s query %s: no /slow in %v", kind, q, res)
					}
				}
			}
		})
	}

	// Exemplars: the traced instance's duration histograms, on the server,
	// the client and the operation, carry the trace ids its responses gave
	// (X-Trace-Id), and Prometheus stores them; the other instances have
	// none.
	t.Run("exemplars", func(t *testing.T) {
		inst := `instance="` + traced.d.ln.Addr().String() + `"`
		for _, tc := range []struct {
			metric  string
			request string // whose trace ids the exemplars must carry; "" for any
		}{
			{"http_server_request_duration_seconds_bucket", ""},
			{`http_server_request_duration_seconds_bucket{http_route="/orders"}`, "POST /orders"},
			{"http_client_request_duration_seconds_bucket", "POST /orders"},
			{"operation_duration_seconds_bucket", "POST /orders"},
		} {
			known := traced.ids.of(tc.request)
			if len(known) == 0 {
				t.Fatalf("the traced instance's responses to %q carried no %s", tc.request, traceIDHeader)
			}
			q := strings.Replace(tc.metric, "{", "{"+inst+", ", 1)
			if !strings.Contains(q, "{") {
				q += "{job=\"semconv\", " + inst + "}"
			}
			var (
				found int
				bad   string // an exemplar that will not get better by waiting
			)
			err := prom.poll(30*time.Second, func() (bool, string) {
				series, err := prom.exemplars(q, start)
				if err != nil {
					return false, err.Error()
				}
				found = 0
				for labels, es := range series {
					for _, e := range es {
						if !known[e.Labels["trace_id"]] {
							bad = fmt.Sprintf("exemplar %v of %s has a trace id no response gave", e, labels)
						} else if len(e.Labels["span_id"]) != 16 {
							bad = fmt.Sprintf("exemplar %v of %s has no span id", e, labels)
						}
						found++
					}
				}
				return found > 0 || bad != "", fmt.Sprintf("%d exemplars in %v", found, series)
			})
			if err == nil && bad != "" {
				err = errors.New(bad)
			}
			if err != nil {
				t.Errorf("exemplars of %s: %v", q, err)
				continue
			}
			t.Logf("%s: %d exemplars, each with a trace id of %d known", q, found, len(known))
		}
		for _, pq := range e2eProfiles {
			for _, in := range instances[pq.naming] {
				if in.d == traced.d {
					continue
				}
				q := fmt.Sprintf(`{job=%q, instance=%q}`, pq.naming, in.d.ln.Addr().String())
				if series, err := prom.exemplars(q, start); err != nil || len(series) != 0 {
					t.Errorf("exemplars of %s, which runs without -tracing: %v (%v)", q, series, err)
				}
			}
		}
	})

	t.Run("rules", func(t *testing.T) {
		if rules == "" {
			t.Skip("no rules.yml to load")
		}
		prom.waitRulesHealthy(t, rules)
	})

	// Every expression of the committed rules and dashboard (generated for
	// semconv, with the job as the service) runs, and every panel shows
	// data once the rules have run over the traffic: the HTTP server's,
	// the client's and the operations' (POST /orders) and the runtime's.
	// The demo has no gRPC server, so the gRPC panels must run without
	// error but have no data.
	t.Run("dashboard and rule queries", func(t *testing.T) {
		if rules == "" {
			t.Skip("no rules.yml to load")
		}
		o, err := objectives()
		if err != nil {
			t.Fatal(err)
		}
		checkQueries(t, prom, redgen.Config{Objectives: o}, redgen.Vars{Service: "semconv"}, redgen.Vars{Service: "semconv", Route: "/slow"}, redgen.Vars{})
	})
}

// checkQueries runs every expression of the rules and the dashboard redgen
// generates from c, with each of vars for the dashboard's variables ({}
// is "All"), against prom: every one must run, and every panel must show
// data once the rules have run over the traffic (polled for up to 30 s),
// except the gRPC ones, which must show none: the demo has no gRPC
// server.
func checkQueries(t *testing.T, prom *promServer, c redgen.Config, vars ...redgen.Vars) {
	t.Helper()
	for _, v := range vars {
		queries, err := redgen.Queries(c, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range queries {
			if _, err := prom.instant(q.Expr); err != nil {
				t.Errorf("%+v: %s: %v", v, q.Source, err)
				continue
			}
			if !q.Panel {
				continue
			}
			if q.Signal == redgen.SignalGRPC {
				if res, _ := prom.instant(q.Expr); len(res) != 0 {
					t.Errorf("%+v: %s returns data, but the demo has no gRPC server: %v", v, q.Source, res)
				}
				continue
			}
			err := prom.poll(30*time.Second, func() (bool, string) {
				res, err := prom.instant(q.Expr)
				if err != nil {
					return false, err.Error()
				}
				return len(res) > 0, fmt.Sprintf("%d samples", len(res))
			})
			if err != nil {
				t.Errorf("%+v: %s returns no data: %v\n%s", v, q.Source, err, q.Expr)
			}
		}
	}
}

// exporterConfig runs the Prometheus exporter alone, for service.
func exporterConfig(service string) exporter.Config {
	return exporter.Config{Exporters: []string{"prometheus"}, ServiceName: service}
}

// checkSeries checks every series Prometheus scraped for job (those that
// recording and alerting rules write are left out): only the profile's
// metric names (the tutorial's, for Classic), with exactly their
// labels, route labels that are templates, no label value taken from a raw
// path or query, and a service label that is the resource's service.name.
func checkSeries(t *testing.T, prom *promServer, pq profileQueries, job string) {
	t.Helper()
	series := prom.series(t, "{"+job+"}")
	names := map[string]bool{}
	routes := map[string]bool{}
	for _, s := range series {
		name := s["__name__"]
		switch {
		case name == "up", strings.HasPrefix(name, "scrape_"): // Prometheus's own
			continue
		case strings.Contains(name, ":"), strings.HasPrefix(name, "ALERTS"): // from rules.yml
			continue
		}
		names[name] = true
		var keys []string
		for k, v := range s {
			switch k {
			case "__name__", "job", "instance":
				continue
			case pq.route:
				routes[v] = true
			case "service":
				if v != e2eService {
					t.Errorf("%v: service %q, want the resource's service.name %q", s, v, e2eService)
				}
			}
			keys = append(keys, k)
			for _, f := range rawFragments {
				if strings.Contains(v, f) {
					t.Errorf("%v: label %s=%q holds %q, from a raw path or query", s, k, v, f)
				}
			}
		}
		if want, ok := pq.labels[name]; ok {
			if slices.Sort(keys); !slices.Equal(keys, want) {
				t.Errorf("%s has labels %q, want exactly %q", name, keys, want)
			}
		}
		if name == "target_info" && s["service_name"] != e2eService {
			t.Errorf("target_info %v: service_name %q, want %q", s, s["service_name"], e2eService)
		}
	}
	for _, r := range runtimeNames {
		if !names[r] {
			t.Errorf("no runtime metric %s", r)
		}
		delete(names, r)
	}
	delete(names, "go_memory_limit_bytes") // with GOMEMLIMIT only
	if got := slices.Sorted(maps.Keys(names)); !slices.Equal(got, pq.names) {
		t.Errorf("metric names\n got %q\nwant %q", got, pq.names)
	}
	want := []string{"/fail", "/hello/{name}", "/orders", "/slow"}
	if pq.unmatched != "" { // Semconv's requests that matched no route have no route label
		want = append(want, pq.unmatched)
	}
	if got := slices.Sorted(maps.Keys(routes)); !slices.Equal(got, want) {
		t.Errorf("%s values %q, want exactly the templates %q", pq.route, got, want)
	}
}

// bucketAround returns the bounds (lo, hi] of the bucket that holds a
// latency a little above v seconds, as a sleep of v takes. It fails the
// test when hi leaves too little room for the request's own overhead.
func bucketAround(t *testing.T, bounds []float64, v float64) (lo, hi float64) {
	t.Helper()
	i, _ := slices.BinarySearch(bounds, v)
	if i < len(bounds) && bounds[i] == v {
		i++ // a request that sleeps v takes more than v
	}
	if i == len(bounds) {
		t.Fatalf("%v s is past the last bound of %v", v, bounds)
	}
	if i > 0 {
		lo = bounds[i-1]
	}
	hi = bounds[i]
	if hi-v < 0.05 {
		t.Fatalf("the bucket (%v, %v] leaves under 50 ms above the %v s latency: pick another slowMS", lo, hi, v)
	}
	return lo, hi
}

// drive sends traffic to base, 8 requests at a time, and checks every
// status.
func drive(t *testing.T, c *http.Client, base string, traffic []sent, ids *traceIDs) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, s := range traffic {
		method := s.method
		if method == "" {
			method = http.MethodGet
		}
		for range s.n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				req, err := http.NewRequest(method, base+s.path, nil)
				if err != nil {
					t.Errorf("%s %s: %v", method, s.path, err)
					return
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Errorf("%s %s: %v", method, s.path, err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != s.status {
					t.Errorf("%s %s: %d, want %d", method, s.path, resp.StatusCode, s.status)
				}
				ids.add(method+" "+s.path, resp.Header.Get(traceIDHeader))
			})
		}
	}
	wg.Wait()
}

// traceIDs are the trace ids the responses of a traced instance gave, by
// request ("POST /orders"), and all of them.
type traceIDs struct {
	mu        sync.Mutex
	byRequest map[string]map[string]bool
	all       map[string]bool
}

func (ti *traceIDs) add(request, id string) {
	if id == "" {
		return
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if ti.all == nil {
		ti.all, ti.byRequest = map[string]bool{}, map[string]map[string]bool{}
	}
	if ti.byRequest[request] == nil {
		ti.byRequest[request] = map[string]bool{}
	}
	ti.byRequest[request][id] = true
	ti.all[id] = true
}

func (ti *traceIDs) of(request string) map[string]bool {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if request == "" {
		return maps.Clone(ti.all)
	}
	return maps.Clone(ti.byRequest[request])
}

// exemplar is one exemplar of /api/v1/query_exemplars.
type exemplar struct {
	Labels    map[string]string `json:"labels"`
	Value     string            `json:"value"`
	Timestamp float64           `json:"timestamp"`
}

// exemplars returns the exemplars Prometheus stores for the series query
// selects, between start and now, by series.
func (p *promServer) exemplars(query string, start time.Time) (map[string][]exemplar, error) {
	var data []struct {
		SeriesLabels map[string]string `json:"seriesLabels"`
		Exemplars    []exemplar        `json:"exemplars"`
	}
	args := url.Values{
		"query": {query},
		"start": {strconv.FormatInt(start.Unix()-1, 10)},
		"end":   {strconv.FormatInt(time.Now().Unix()+1, 10)},
	}
	if err := p.api("/api/v1/query_exemplars", args, &data); err != nil {
		return nil, err
	}
	out := map[string][]exemplar{}
	for _, d := range data {
		k := fmt.Sprint(d.SeriesLabels)
		out[k] = append(out[k], d.Exemplars...)
	}
	return out, nil
}

// promServer is a Prometheus process started by the test.
type promServer struct {
	url    string
	client *http.Client
	out    *testsupport.LockedBuffer
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

// startPrometheus runs Prometheus with config on a free loopback port and a
// temporary storage directory, with exemplar storage and the extra flags,
// waits until it is ready, and stops it when the test ends. A port taken
// between choosing it and binding it is retried on another.
func startPrometheus(t *testing.T, bin, config string, flags ...string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		p := &promServer{
			url:    "http://" + addr,
			client: newClient(t),
			out:    &testsupport.LockedBuffer{},
			exited: make(chan struct{}),
		}
		cmd := exec.Command(bin, append([]string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address=" + addr,
			"--enable-feature=exemplar-storage",
		}, flags...)...)
		cmd.Stdout, cmd.Stderr = p.out, p.out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		go func() {
			p.err = cmd.Wait()
			close(p.exited)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-p.exited
			}
			if t.Failed() {
				t.Logf("prometheus output:\n%s", p.out)
			}
		})
		err := p.waitReady(30 * time.Second)
		if err == nil {
			return p
		}
		if attempt < 3 && strings.Contains(p.out.String(), "address already in use") {
			t.Logf("prometheus on %s: %v; trying another port", addr, err)
			continue
		}
		t.Fatalf("prometheus on %s: %v", addr, err)
	}
}

// freeAddr returns a loopback address whose port the OS has just said is
// free.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// poll calls cond every 100 ms until it returns true, the process exits,
// or timeout passes; it returns the last reason cond gave.
func (p *promServer) poll(timeout time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v: %s", timeout, why)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("prometheus exited: %v (%s)", p.err, why)
		case <-tick.C:
		}
	}
}

func (p *promServer) waitReady(timeout time.Duration) error {
	return p.poll(timeout, func() (bool, string) {
		resp, err := p.client.Get(p.url + "/-/ready")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, "/-/ready: " + resp.Status
	})
}

// waitScrapedAfter waits until n targets are up and each has been scraped,
// and the scrape stored, since after: the timestamp of its up sample, which
// is when the scrape began, is later than after.
func (p *promServer) waitScrapedAfter(t *testing.T, after time.Time, n int) {
	t.Helper()
	ms := after.UnixMilli() // a later sample timestamp began after after
	err := p.poll(30*time.Second, func() (bool, string) {
		// timestamp() of a bare selector is the sample's own timestamp;
		// of anything else (up == 1) it would be the evaluation time.
		scraped, err := p.instant("timestamp(up)")
		if err != nil {
			return false, err.Error()
		}
		up, err := p.instant("up")
		if err != nil {
			return false, err.Error()
		}
		target := func(s sample) string { return s.Metric["job"] + " " + s.Metric["instance"] }
		isUp := map[string]bool{}
		for _, s := range up {
			isUp[target(s)] = s.Value == 1
		}
		fresh := 0
		for _, s := range scraped {
			if int64(math.Round(s.Value*1000)) > ms && isUp[target(s)] {
				fresh++
			}
		}
		return fresh >= n, fmt.Sprintf("%d of %d targets up and scraped since %v: up %v, scraped at %v", fresh, n, after.Format(time.StampMilli), up, scraped)
	})
	if err != nil {
		t.Fatalf("waiting for scrapes: %v", err)
	}
}

// waitRulesHealthy waits until Prometheus has loaded the rules of file and
// evaluated every one of them without error.
func (p *promServer) waitRulesHealthy(t *testing.T, file string) {
	t.Helper()
	err := p.poll(30*time.Second, func() (bool, string) {
		var data struct {
			Groups []struct {
				Name  string `json:"name"`
				File  string `json:"file"`
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		}
		if err := p.api("/api/v1/rules", nil, &data); err != nil {
			return false, err.Error()
		}
		n := 0
		for _, g := range data.Groups {
			if g.File != file {
				return false, fmt.Sprintf("group %s from %s, want %s", g.Name, g.File, file)
			}
			for _, r := range g.Rules {
				if r.Health != "ok" {
					return false, fmt.Sprintf("rule %s: health %q %s", r.Name, r.Health, r.LastError)
				}
				n++
			}
		}
		return n > 0, fmt.Sprintf("%d rules", n)
	})
	if err != nil {
		t.Errorf("rules of %s: %v", file, err)
	}
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string
	Value  float64
}

func (s *sample) UnmarshalJSON(b []byte) error {
	var raw struct {
		Metric map[string]string `json:"metric"`
		Value  [2]any            `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v, ok := raw.Value[1].(string)
	if !ok {
		return fmt.Errorf("sample value %v is not a string", raw.Value[1])
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return err
	}
	s.Metric, s.Value = raw.Metric, f
	return nil
}

func (s sample) String() string { return fmt.Sprintf("%v=%v", s.Metric, s.Value) }

// api gets path from Prometheus's HTTP API and decodes its data into data.
func (p *promServer) api(path string, args url.Values, data any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path+"?"+args.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: %s: %w", path, resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s %v: %s: %s", path, args, body.ErrorType, body.Error)
	}
	return json.Unmarshal(body.Data, data)
}

// instant runs an instant query that must return a vector, sorted by
// labels.
func (p *promServer) instant(q string) ([]sample, error) {
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []sample `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("a %s, want a vector", data.ResultType)
	}
	slices.SortFunc(data.Result, func(a, b sample) int { return strings.Compare(fmt.Sprint(a.Metric), fmt.Sprint(b.Metric)) })
	return data.Result, nil
}

// query runs an instant query that must return a vector.
func (p *promServer) query(t *testing.T, q string) []sample {
	t.Helper()
	res, err := p.instant(q)
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	return res
}

// scalar runs an instant query that must return exactly one sample.
func (p *promServer) scalar(t *testing.T, q string) float64 {
	t.Helper()
	res := p.query(t, q)
	if len(res) != 1 {
		t.Fatalf("query %s: %v, want one sample", q, res)
	}
	return res[0].Value
}

// series returns the label sets of every series match selects.
func (p *promServer) series(t *testing.T, match string) []map[string]string {
	t.Helper()
	var data []map[string]string
	if err := p.api("/api/v1/series", url.Values{"match[]": {match}}, &data); err != nil {
		t.Fatalf("series %s: %v", match, err)
	}
	if len(data) == 0 {
		t.Fatalf("series %s: none", match)
	}
	return data
}
