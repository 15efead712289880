package exporter

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// claimDesc is what [claim] describes.
var claimDesc = prometheus.NewDesc(
	"otelred_exporter_claim",
	"Marks a Registerer as serving an otelred exporter; never collected.",
	nil, nil)

// claim marks a Registerer as taken. The OpenTelemetry exporter's collector
// describes nothing, so registering a second one on the same Registerer
// succeeds and scrapes then carry every series twice, or fail; a claim is a
// checked collector with one fixed description and no metrics, so its
// second registration fails instead, and it adds nothing to a scrape.
type claim struct{}

func (claim) Describe(ch chan<- *prometheus.Desc) { ch <- claimDesc }
func (claim) Collect(chan<- prometheus.Metric)    {}

// prom is a built Prometheus exporter.
type prom struct {
	reader     sdkmetric.Reader
	handler    http.Handler // nil when the Registerer is not a Gatherer
	unregister func()
}

// newPrometheus registers the exporter's collector on p.Registerer, or on
// a new private registry, and builds the handler. p must be valid.
func newPrometheus(p Prometheus) (*prom, error) {
	reg := p.Registerer
	var gatherer prometheus.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg, gatherer = r, r
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		gatherer = g
	}

	if err := reg.Register(claim{}); err != nil {
		if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return nil, fmt.Errorf("%w: Prometheus.Registerer (%T) already serves another Exporter: shut that one down first, or leave Registerer nil for a private registry", ErrInvalidConfig, p.Registerer)
		}
		return nil, fmt.Errorf("exporter: Prometheus.Registerer: %w", err)
	}
	tracked := &tracking{Registerer: reg}
	unregister := func() {
		tracked.detachAll()
		reg.Unregister(claim{})
	}

	opts := []otelprom.Option{
		otelprom.WithRegisterer(tracked),
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
	}
	if !p.ScopeLabels {
		opts = append(opts, otelprom.WithoutScopeInfo())
	}
	if p.DisableTargetInfo {
		opts = append(opts, otelprom.WithoutTargetInfo())
	}
	if p.Namespace != "" {
		opts = append(opts, otelprom.WithNamespace(p.Namespace))
	}
	if len(p.ResourceLabels) > 0 {
		keys := make([]attribute.Key, len(p.ResourceLabels))
		for i, k := range p.ResourceLabels {
			keys[i] = attribute.Key(k)
		}
		opts = append(opts, otelprom.WithResourceAsConstantLabels(attribute.NewAllowKeysFilter(keys...)))
	}
	exp, err := otelprom.New(opts...)
	if err != nil {
		unregister()
		return nil, fmt.Errorf("exporter: Prometheus exporter: %w", err)
	}

	pr := &prom{reader: exp, unregister: unregister}
	if gatherer != nil {
		pr.handler = promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
			ErrorLog:          errorLog{},
			ErrorHandling:     promhttp.ContinueOnError,
			EnableOpenMetrics: !p.DisableOpenMetrics,
		})
	}
	return pr, nil
}

// tracking is a Registerer that hands the user's Registerer a detachable
// wrapper of each collector the OpenTelemetry exporter registers. The
// exporter's collector describes nothing, and client_golang cannot
// unregister such an unchecked collector, so on shutdown the wrapper lets
// go of it instead: the user's registry keeps an empty collector, not the
// dead exporter and its reader, and a later exporter on it scrapes alone.
type tracking struct {
	prometheus.Registerer
	mu       sync.Mutex
	attached []*detachable
}

func (t *tracking) Register(c prometheus.Collector) error {
	d := &detachable{}
	d.c.Store(&c)
	if err := t.Registerer.Register(d); err != nil {
		return err
	}
	t.mu.Lock()
	t.attached = append(t.attached, d)
	t.mu.Unlock()
	return nil
}

func (t *tracking) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := t.Register(c); err != nil {
			panic(err)
		}
	}
}

func (t *tracking) Unregister(c prometheus.Collector) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, d := range t.attached {
		if p := d.c.Load(); p != nil && *p == c {
			t.Registerer.Unregister(d)
			d.c.Store(nil)
			t.attached = append(t.attached[:i], t.attached[i+1:]...)
			return true
		}
	}
	return false
}

// detachAll unregisters what it can and lets go of every collector.
func (t *tracking) detachAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.attached {
		t.Registerer.Unregister(d)
		d.c.Store(nil)
	}
	t.attached = nil
}

// detachable is a collector that forwards to another until detached.
type detachable struct {
	c atomic.Pointer[prometheus.Collector]
}

func (d *detachable) Describe(ch chan<- *prometheus.Desc) {
	if c := d.c.Load(); c != nil {
		(*c).Describe(ch)
	}
}

func (d *detachable) Collect(ch chan<- prometheus.Metric) {
	if c := d.c.Load(); c != nil {
		(*c).Collect(ch)
	}
}

// errorLog passes the handler's errors to otel.Handle; with
// ContinueOnError, a metric that fails to gather is left out and the rest
// of the scrape is still served.
type errorLog struct{}

func (errorLog) Println(v ...any) {
	otel.Handle(fmt.Errorf("exporter: serving Prometheus metrics: %s", strings.TrimSuffix(fmt.Sprintln(v...), "\n")))
}
