// Package redgen is the generator of the redgen command (cmd/redgen): it
// derives Prometheus recording and alerting rules, promtool unit tests for
// them, a Grafana dashboard and their Kubernetes manifests from one
// [exporter.Objectives] value and the naming of the metrics (profile,
// namespace, service label), so that metric names, bucket boundaries and
// SLO thresholds cannot drift apart. [Tests] writes promtool unit tests
// that prove each alert fires just above its burn rate and stays silent
// just below it; [Warnings] reports alerts that can never fire.
//
// The package is internal: its API is what the command and the example's
// tests use, no more. [Queries] lists every PromQL expression of the rules
// and the dashboard, for the example's tests against a real Prometheus.
//
// # Rules
//
// [Rules] writes seven groups:
//
//   - otelred_red: per service and route, the request rate
//     (otelred:http_requests:rate5m), the error ratio
//     (otelred:http_errors:ratio_rate5m) and the 50th, 90th and 99th
//     percentile durations (otelred:http_request_duration_seconds:p99_rate5m
//     and its siblings).
//   - otelred_fleet: the same request rate, error ratio and p99 per service
//     and instance, every route summed
//     (otelred_instance:http_requests:rate5m,
//     otelred_instance:http_errors:ratio_rate5m,
//     otelred_instance:http_request_duration_seconds:p99_rate5m): one
//     series of each per replica, for the dashboard's fleet row.
//   - otelred_http_client, otelred_operations and otelred_grpc_server: the
//     same RED for the service's outbound HTTP calls, per server address
//     (otelred:http_client_requests:rate5m,
//     otelred:http_client_errors:ratio_rate5m,
//     otelred:http_client_request_duration_seconds:p99_rate5m), for its
//     operations, per operation name (otelred:operations:rate5m,
//     otelred:operation_errors:ratio_rate5m,
//     otelred:operation_duration_seconds:p99_rate5m), and for its gRPC
//     server, per method (otelred:rpc_server_calls:rate5m,
//     otelred:rpc_server_errors:ratio_rate5m,
//     otelred:rpc_server_call_duration_seconds:p99_rate5m). A service
//     without one of them records nothing there.
//   - otelred_sli: for every objective, the ratio of bad requests over 5m,
//     30m, 1h, 2h, 6h, 1d and 3d: otelred:sli_error:ratio_rate1h for
//     availability (failed requests over all requests) and
//     otelred:sli_latency:ratio_rate1h for latency (requests slower than the
//     threshold over all requests, 1 - bucket{le="threshold"} / count).
//   - otelred_slo_alerts: multi-window, multi-burn-rate alerts, as in the
//     Google SRE workbook, OtelredAvailabilityBudgetBurn and
//     OtelredLatencyBudgetBurn, with severity="page" when the budget burns at
//     14.4 times the sustainable rate over 1h and 5m, or 6 times over 6h and
//     30m, and severity="ticket" at 3 times over 1d and 2h, or once over 3d
//     and 6h. The objectives are those of the HTTP server's requests. With
//     explicit buckets, a guard alert for each latency threshold,
//     OtelredLatencyBucketMissing (severity="ticket"), fires for every
//     instance that serves requests but has no bucket at the threshold,
//     which its latency SLI reads (see guard.go); native histograms have
//     no buckets and get none.
//
// # Scopes
//
// A global objective is measured over the service's requests taken together
// (the SLI series carry the service label only); a route's own objective
// over that route's requests (the series also carry the route label, set by
// the rule). The global SLI leaves out the routes with their own objective
// of the same kind, and requests that matched no route (Semconv's series
// without a route label, Classic's route [otelred.Unmatched]), so no
// request counts twice. Requests past otelred's cardinality limit, in the
// route [otelred.Overflow], do count: they matched routes. Alerts select the global series with
// route="" (no route label) and a route's series with its route.
//
// # Service label
//
// The service is the resource's service.name, which the Prometheus exporter
// does not put on the RED series of the Semconv profile. By default the
// rules and the dashboard group by Prometheus's job label for Semconv, and by
// the service label that Classic records. [Config.ServiceLabel] picks another
// one, such as service_name when the exporter copies service.name onto the
// series (exporter.Prometheus.ResourceLabels).
//
// The gRPC server's series (otelredgrpc, named by the semantic conventions
// in either profile) and the Go runtime's (exporter.Config.RuntimeMetrics)
// have no service label of their own: by default they are grouped by the
// job label in both profiles, which names the service when the scrape job
// is named after it, as the example's is.
//
// # Signals
//
// Every [Query] says which signal it reads (Query.Signal): a panel of a
// signal a service does not have, such as gRPC ([SignalGRPC]) in an HTTP
// service, shows no data.
package redgen

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// ErrInvalidConfig is wrapped by every error for a bad [Config]. Errors in
// the objectives wrap [exporter.ErrInvalidObjective] as well.
var ErrInvalidConfig = errors.New("invalid config")

// Config is what the generated files are derived from.
type Config struct {
	// Objectives are the service's SLOs.
	Objectives exporter.Objectives

	// Profile is the naming profile the service records with.
	//
	// The zero value is otelred.Semconv.
	Profile otelred.Profile

	// Namespace is the Prometheus exporter's namespace, which prefixes every
	// metric name with Namespace and an underscore.
	//
	// The zero value means none.
	Namespace string

	// ServiceLabel is the label that tells services apart.
	//
	// The zero value means "job" for Semconv and "service" for Classic.
	ServiceLabel string

	// Service restricts every rule and query to the series whose service
	// label has this value. Set it when several services with different
	// objectives share one Prometheus, and generate one rules file per
	// service.
	//
	// The zero value means every service.
	Service string

	// Boundaries are the bucket boundaries of the duration histogram in use;
	// every latency threshold must be one of them (see
	// [exporter.Objectives.Check]).
	//
	// The zero value means the objectives' boundaries around the profile's
	// defaults: Objectives.Boundaries(views.Default(Profile)).
	Boundaries []float64

	// Native says the duration histograms are native histograms
	// (exporter.Config.Histogram "native", views.Exponential), as
	// Prometheus 3 scrapes them with scrape_native_histograms: true, and
	// Prometheus 2 with --enable-feature=native-histograms: the
	// rules and the dashboard read them with histogram_count,
	// histogram_quantile and histogram_fraction, and Boundaries is not
	// used (a latency threshold need not be a boundary). [Tests] cannot
	// write unit tests for them; see native.go.
	//
	// The zero value means explicit buckets.
	Native bool

	// Title and UID name the Grafana dashboard.
	//
	// The zero values mean "otelred: RED and SLOs" and "otelred-red".
	Title, UID string
}

// The signals a query reads, the values of Query.Signal.
const (
	// signalServer is the HTTP server's requests: otelred's middleware.
	signalServer = "http.server"
	// signalClient is the HTTP client's requests: otelred.NewTransport.
	signalClient = "http.client"
	// signalOperation is the operations of otelred.NewOperations.
	signalOperation = "operation"
	// SignalGRPC is the gRPC server's calls: otelredgrpc's interceptors.
	SignalGRPC = "rpc.server"
	// signalRuntime is the Go runtime's metrics.
	signalRuntime = "runtime"
)

// plan is a checked Config with everything the generators need.
type plan struct {
	cfg        Config
	n          names
	client     signalNames
	ops        signalNames
	grpc       signalNames
	rt         runtimeNames
	procSvc    string // service label of the gRPC and runtime series
	svc        string // service label
	boundaries []float64
	window     exporter.Window
	avail      []scope
	latency    []scope
}

// names are the Prometheus names of the HTTP server's RED in one profile,
// namespace applied.
type names struct {
	redNames
	route  string
	method string
	status string
	// unmatched is the route of a request that matched no route: "" (no
	// route label) in Semconv, otelred.Unmatched in Classic.
	unmatched string
	activeBy  []string // labels the in-flight panel groups by, after the service
	activeRte bool     // whether the in-flight gauge has the route label
}

// signalNames are the Prometheus names of the RED of one signal besides
// the HTTP server's: the client's, the operations' or the gRPC server's.
type signalNames struct {
	redNames
	signal string
	record string // the stem of the recording rules' names
	group  string // the recording rules' group
	svc    string // service label
	by     string // what the panels and rules group by
	// errRecord is the stem of the error ratio's recording rule.
	errRecord string
	// durationRecord is the stem of the p99's recording rule.
	durationRecord string
}

// runtimeNames are the Prometheus names of the Go runtime's metrics.
type runtimeNames struct {
	goroutines, memoryUsed, gcGoal, allocated string
}

// scope is one objective: the global one or a route's own.
type scope struct {
	route     string   // "" for the global objective
	exclude   []string // routes left out of the global objective
	target    float64
	threshold float64 // latency only
}

func (s scope) global() bool { return s.route == "" }

// budget is 1 - target, rounded to hide binary noise (1 - 0.999 is
// 0.0010000000000000009).
func (s scope) budget() float64 {
	b, _ := strconv.ParseFloat(strconv.FormatFloat(1-s.target, 'g', 12, 64), 64)
	return b
}

var (
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

func (c Config) plan() (*plan, error) {
	if c.Profile.Names().Duration == "" {
		return nil, fmt.Errorf("%w: Profile = %v is not a profile", ErrInvalidConfig, c.Profile)
	}
	if c.Namespace != "" && !metricNameRE.MatchString(c.Namespace) {
		return nil, fmt.Errorf("%w: Namespace = %q is not a Prometheus metric name prefix", ErrInvalidConfig, c.Namespace)
	}
	t, err := newTranslator(c.Namespace)
	if err != nil {
		return nil, err
	}
	m := &plan{cfg: c, svc: c.ServiceLabel}
	if m.svc == "" {
		// The profile's own service label, or the scrape job's.
		m.svc = "job"
		if k := c.Profile.Names().Service; k != "" {
			m.svc = t.label(k)
		}
	}
	if !labelNameRE.MatchString(m.svc) || strings.HasPrefix(m.svc, "__") {
		return nil, fmt.Errorf("%w: ServiceLabel = %q is not a Prometheus label name", ErrInvalidConfig, m.svc)
	}
	o := c.Objectives
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	m.boundaries = slices.Clone(c.Boundaries)
	if c.Native {
		if m.boundaries != nil {
			return nil, fmt.Errorf("%w: Boundaries = %v: native histograms have no bucket boundaries", ErrInvalidConfig, m.boundaries)
		}
	} else if m.boundaries == nil {
		b, err := o.Boundaries(views.Default(c.Profile))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		m.boundaries = b
	}
	if !c.Native {
		if err := o.Check(m.boundaries); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		if err := views.Validate(m.boundaries); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	m.window = o.SLOWindow()
	m.n = t.serverNames(c.Profile)
	m.procSvc = c.ServiceLabel
	if m.procSvc == "" {
		m.procSvc = "job"
	}
	m.client, m.ops, m.grpc = t.signalNames(c.Profile, m.svc, m.procSvc)
	m.rt = t.runtimeNames()
	if t.err != nil {
		return nil, t.err
	}
	if c.Native {
		m.useNative()
	}
	m.avail, m.latency = scopes(o)
	return m, nil
}

// scopes lists the objectives of each kind, the global one first, then the
// routes' own in the order they are configured.
func scopes(o exporter.Objectives) (avail, latency []scope) {
	var ownAvail, ownLatency []string
	for _, r := range o.Routes {
		if r.Availability != 0 {
			ownAvail = append(ownAvail, r.Route)
		}
		if r.Latency != nil {
			ownLatency = append(ownLatency, r.Route)
		}
	}
	if o.Availability != 0 {
		avail = append(avail, scope{exclude: ownAvail, target: o.Availability})
	}
	if o.Latency != nil {
		latency = append(latency, scope{exclude: ownLatency, target: o.Latency.Target, threshold: o.Latency.Threshold})
	}
	for _, r := range o.Routes {
		if r.Availability != 0 {
			avail = append(avail, scope{route: r.Route, target: r.Availability})
		}
		if r.Latency != nil {
			latency = append(latency, scope{route: r.Route, target: r.Latency.Target, threshold: r.Latency.Threshold})
		}
	}
	return avail, latency
}

// kind is one kind of objective.
type kind struct {
	name   string // "availability" or "latency"
	record string // SLI recording rule name, without the window
	alert  string
}

var (
	availability = kind{"availability", "otelred:sli_error:ratio_rate", "OtelredAvailabilityBudgetBurn"}
	latency      = kind{"latency", "otelred:sli_latency:ratio_rate", "OtelredLatencyBudgetBurn"}
)

func (m *plan) scopesOf(k kind) []scope {
	if k == latency {
		return m.latency
	}
	return m.avail
}

// sliWindows are the windows of the SLI ratios, short to long.
var sliWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// burn is one window pair of the multi-window, multi-burn-rate alerts.
type burn struct {
	severity    string
	factor      float64
	long, short string
	longHours   float64
}

// burns are the SRE workbook's window pairs, two per severity.
var burns = []burn{
	{"page", 14.4, "1h", "5m", 1},
	{"page", 6, "6h", "30m", 6},
	{"ticket", 3, "1d", "2h", 24},
	{"ticket", 1, "3d", "6h", 72},
}

// le formats a bucket boundary as the le label value it is scraped as, or
// as a regular expression when scrapes disagree. A non-integer boundary
// reads the same in the text format and in OpenMetrics ("0.3"); an integer
// one is "1" in the text format and "1.0" in OpenMetrics (which Prometheus
// 2 asks for first, and to which Prometheus 3 normalizes every scrape).
func le(boundary float64) (op, value string) {
	s := strconv.FormatFloat(boundary, 'g', -1, 64)
	if strings.ContainsAny(s, ".eE") {
		return "=", s
	}
	return "=~", s + `(\.0)?`
}

// quote writes s as a PromQL string literal.
func quote(s string) string { return strconv.Quote(s) }

// generate returns what f writes from the plan of c.
func (c Config) generate(f func(*plan) ([]byte, error)) ([]byte, error) {
	m, err := c.plan()
	if err != nil {
		return nil, err
	}
	return f(m)
}

// Validate reports whether c can be generated from: valid objectives
// (errors wrap [exporter.ErrInvalidObjective]), every latency threshold one of
// the boundaries, a known profile, and valid Prometheus names.
func (c Config) Validate() error {
	_, err := c.plan()
	return err
}

// Warnings returns what is legal in c but probably not meant: a window pair
// whose burn rate no error ratio can reach, because the objective's target
// leaves a budget of more than 1/burn rate (a target of 90% can burn at
// most 10 times the sustainable rate, so its 14.4 times page never fires).
func Warnings(c Config) ([]string, error) {
	m, err := c.plan()
	if err != nil {
		return nil, err
	}
	var ws []string
	for _, k := range []kind{availability, latency} {
		for _, s := range m.scopesOf(k) {
			for _, b := range burns {
				if b.factor*s.budget() >= 1 {
					ws = append(ws, fmt.Sprintf("objective %s: its %s alert at %s times the sustainable rate over %s and %s can never fire, as a target of %s burns its budget at most %s times that fast",
						m.scopeName(k, s), b.severity, num(b.factor), b.long, b.short, pct(s.target), num(1/s.budget())))
				}
			}
		}
	}
	return ws, nil
}
