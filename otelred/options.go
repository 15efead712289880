package otelred

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/internal/otelenv"
	"github.com/otelred/otelred/otelred/internal/red"
)

// ErrInvalidOption is wrapped by every error [New] returns for a bad option.
var ErrInvalidOption = errors.New("otelred: invalid option")

// DefaultCardinalityLimit is the number of distinct attribute sets each
// instrument records before further ones share the overflow series.
const DefaultCardinalityLimit = 1000

// An Option configures [New]. Options are applied in order; a later one
// overrides an earlier one of the same kind.
type Option interface {
	apply(*config) error

	// Adapt applies the option for an adapter of this module that takes
	// the options every instrumentation shares, [WithMeterProvider] and
	// [WithCardinalityLimit], such as otelredgrpc.NewServer. Any other
	// option is an error there. Only this module can call it.
	Adapt(*red.Settings) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	used     uses // the options that apply to some constructors only
	provider metric.MeterProvider
	global   bool // provider is the global one: no WithMeterProvider was given
	profile  Profile
	route    func(*http.Request) string
	isError  func(status int) bool
	filter   func(*http.Request) bool
	service  string
	limit    int
	hosts    []string // nil: any, up to maxHosts
	// bodySizes records the body-size histograms.
	bodySizes bool
	// attrKeys are the per-request attribute keys of WithAttribute, and
	// attrAllowed the values each allows (nil: any).
	attrKeys    []string
	attrAllowed [][]string
}

// uses marks the options that apply to some constructors only.
type uses uint8

const (
	usesRoute uses = 1 << iota
	usesFilter
	usesErrorStatus
	usesHosts
	usesBodySizes
	usesAttributes
)

// What each constructor takes, besides the options every one does.
const (
	forServer    = usesRoute | usesFilter | usesErrorStatus | usesBodySizes | usesAttributes
	forClient    = usesErrorStatus | usesHosts | usesBodySizes | usesAttributes
	forOperation = 0
)

var usesNames = [...]string{"WithRoute", "WithFilter", "WithErrorStatus", "WithHosts", "WithBodySizes", "WithAttribute"}

// newConfig applies opts for the constructor named ctor, which takes the
// options marked in allowed: an option it does not take is an error, so
// that a misplaced one does not go unnoticed.
func newConfig(ctor string, allowed uses, opts []Option) (config, error) {
	c := config{
		profile: Semconv,
	}
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("%w: nil Option", ErrInvalidOption))
			continue
		}
		if err := o.apply(&c); err != nil {
			errs = append(errs, err)
		}
	}
	for i, name := range usesNames {
		if u := uses(1) << i; c.used&u != 0 && allowed&u == 0 {
			errs = append(errs, fmt.Errorf("%w: %s does not apply to %s", ErrInvalidOption, name, ctor))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	if c.provider == nil {
		c.provider, c.global = otel.GetMeterProvider(), true
	}
	from := "" // where the service name comes from, when no option gave it
	if c.service == "" {
		c.service, from = serviceName(c.provider)
	}
	if profiles[c.profile].server.names.Service != "" { // the profile labels every series with it
		if c.service == "" {
			return config{}, fmt.Errorf("%w: %s: the %v profile labels every series with the service, and its name is not known: "+
				"pass WithService, set OTEL_SERVICE_NAME, or use a MeterProvider that reports its resource's service.name, as exporter.Setup's does",
				ErrInvalidOption, ctor, c.profile)
		}
		if err := red.CheckValue(c.service); err != nil && from != "" {
			return config{}, fmt.Errorf("%w: %s: the service name from %s, which the %v profile labels every series with: %v; pass WithService",
				ErrInvalidOption, ctor, from, c.profile, err)
		}
	}
	if c.limit == 0 {
		c.limit = cardinalityLimit(c.provider)
	}
	return c, nil
}

// WithMeterProvider sets the MeterProvider that creates otelred's
// instruments, so otelred drops into an OpenTelemetry setup a service already
// has.
//
// By default, the global MeterProvider ([otel.GetMeterProvider]) is used; set
// the global provider before calling New, or pass it here.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) error {
		if mp == nil {
			return fmt.Errorf("%w: WithMeterProvider(nil)", ErrInvalidOption)
		}
		c.provider = mp
		return nil
	})
}

// WithProfile selects the instrument and attribute names, and the default
// error rule, that otelred records with. See [Semconv] and [Classic].
//
// By default, Semconv is used.
func WithProfile(p Profile) Option {
	return optionFunc(func(c *config) error {
		if !p.valid() {
			return fmt.Errorf("%w: WithProfile(%d): unknown profile", ErrInvalidOption, uint8(p))
		}
		c.profile = p
		return nil
	})
}

// WithRoute sets the function that names a request's route, for routers
// that do not set [http.Request.Pattern]. It is called with the same request
// after the wrapped handler returns and must return a template such as
// "/users/{id}", never the raw path; anything before the first "/" (a method
// or host) is removed. An empty result means the request matched no route
// (see [Unmatched]); a template longer than [MaxValueLength] is recorded as
// "_OTHER", and invalid UTF-8 with U+FFFD in place of the invalid bytes.
//
// For the Classic profile's in-flight gauge, which is labelled by path, the
// function is also called before the handler runs; it should return "" when
// the route is not known yet.
//
// By default, the route is read from r.Pattern (set by [http.ServeMux] and
// by routers that follow it).
func WithRoute(fn func(r *http.Request) string) Option {
	return optionFunc(func(c *config) error {
		c.used |= usesRoute
		if fn == nil {
			return fmt.Errorf("%w: WithRoute(nil)", ErrInvalidOption)
		}
		c.route = fn
		return nil
	})
}

// WithErrorStatus sets the rule that decides which response status codes
// are failures. A failure carries error.type (the status code) in the
// Semconv profile, and is counted in http_errors_total in the Classic
// profile. A panicking handler is always a failure, whatever its status,
// and so is a client request that got no response.
//
// By default, a server response fails with status >= 500 for Semconv and
// >= 400 for Classic; a client response fails with status >= 400 in both,
// as the semantic conventions say.
func WithErrorStatus(isError func(status int) bool) Option {
	return optionFunc(func(c *config) error {
		c.used |= usesErrorStatus
		if isError == nil {
			return fmt.Errorf("%w: WithErrorStatus(nil)", ErrInvalidOption)
		}
		c.isError = isError
		return nil
	})
}

// defaultMetricsPath is the path left unrecorded when no [WithFilter] is
// given: the Prometheus endpoint's own.
const defaultMetricsPath = "/metrics"

// WithFilter sets the function that decides which requests are recorded:
// those for which it returns true. The others record nothing at all, not
// even in flight; use it for health checks (by path prefix, method or
// header) and for the metrics endpoint. It is called before the handler,
// on every request, so it should be cheap.
//
// By default, every request is recorded except those whose path is
// exactly "/metrics"; a filter replaces that default, so a service that
// serves /metrics through the middleware should leave it out itself.
func WithFilter(f func(r *http.Request) bool) Option {
	return optionFunc(func(c *config) error {
		c.used |= usesFilter
		if f == nil {
			return fmt.Errorf("%w: WithFilter(nil)", ErrInvalidOption)
		}
		c.filter = f
		return nil
	})
}

// WithService sets the value of the Classic profile's service label. It has
// no effect on the Semconv profile, whose service is identified by the
// resource the exporter attaches.
//
// By default, the service is the resource's service.name when the
// MeterProvider reports it with a ServiceName() string method, as the
// Provider of exporter.Setup does; otherwise it is what the OpenTelemetry
// SDK reads from the environment for its resource: OTEL_SERVICE_NAME, else
// service.name from OTEL_RESOURCE_ATTRIBUTES. A MeterProvider of the SDK
// does not report its resource, so on one built by hand with a resource of
// its own, pass the same name here. When the Classic profile's service is
// known none of these ways (a resource's "unknown_service:" stand-in does
// not count), the constructor returns an error rather than label every
// series "unknown_service". A name that is not valid UTF-8 or longer than
// [MaxValueLength], given here or found as above, is an error too.
func WithService(name string) Option {
	return optionFunc(func(c *config) error {
		if name == "" {
			return fmt.Errorf("%w: WithService(\"\")", ErrInvalidOption)
		}
		if err := red.CheckValue(name); err != nil {
			return fmt.Errorf("%w: WithService: %v", ErrInvalidOption, err)
		}
		c.service = name
		return nil
	})
}

// WithCardinalityLimit sets how many distinct attribute sets each instrument
// records. Requests that would create a set past the limit are recorded in
// one overflow series, whose route is [Overflow] and which carries
// otel.metric.overflow=true; in the Semconv profile failures go to a second
// one that also has error.type="_OTHER", so error ratios stay right.
// Nothing is dropped. The limit plus 3 should stay within the SDK's own
// (2000 per instrument by default), which exporter.Setup raises to fit.
//
// By default, the limit is the MeterProvider's own when it reports one
// with a CardinalityLimit() int method, as the Provider of exporter.Setup
// does (its Config.CardinalityLimit); otherwise [DefaultCardinalityLimit].
func WithCardinalityLimit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: WithCardinalityLimit(%d): must be at least 1", ErrInvalidOption, n)
		}
		c.limit = n
		return nil
	})
}

// errorRule returns the WithErrorStatus rule, or the signal's default.
func (c *config) errorRule(s *signal) func(status int) bool {
	if c.isError != nil {
		return c.isError
	}
	min := s.minErrorStatus
	return func(status int) bool { return status >= min }
}

// checkProvider reports, once for the constructor named ctor, a provider
// that is the global one as OpenTelemetry starts it, which records
// nothing: probe is an instrument it created.
func (c *config) checkProvider(ctor string, probe interface{ Enabled(context.Context) bool }) {
	if c.global && red.DefaultGlobal(c.provider, probe) {
		red.WarnNoMeterProvider(ctor, "WithMeterProvider")
	}
}

// limitOf is the cardinality limit of the instrument named instrument,
// built by ctor, whose overflow series has key = [Overflow].
func (c *config) limitOf(ctor, instrument string, key attribute.Key) *red.Limit {
	return red.NewLimit(c.limit, ctor, instrument, string(key), raiseLimit)
}

// meter is the Meter of every instrument otelred creates.
func (c *config) meter() metric.Meter {
	return c.provider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
}

// WithHosts lists the hosts a [NewTransport] records by name in
// server.address (host names or IP addresses, compared without the port and
// case); requests to any other host are recorded as "_OTHER". A service that
// calls URLs it is given, not only its own dependencies, should set it. A
// host that is not valid UTF-8 or, in lower case, longer than
// [MaxValueLength] is an error: requests to it would be recorded as
// "_OTHER".
//
// By default, the first 100 distinct hosts are recorded by name, and the
// rest as "_OTHER".
func WithHosts(hosts ...string) Option {
	return optionFunc(func(c *config) error {
		c.used |= usesHosts
		if len(hosts) == 0 {
			return fmt.Errorf("%w: WithHosts(): no host", ErrInvalidOption)
		}
		c.hosts = make([]string, len(hosts))
		for i, h := range hosts {
			h = strings.Trim(h, "[]")
			if net.ParseIP(h) == nil && (h == "" || strings.ContainsAny(h, "/:@ ")) {
				return fmt.Errorf("%w: WithHosts: %q is not a host name or address (no scheme, port or path)", ErrInvalidOption, hosts[i])
			}
			// Such a host is never recorded by name. ToLower would replace
			// invalid bytes, and may make a host longer: check both.
			for _, v := range []string{h, strings.ToLower(h)} {
				if err := red.CheckValue(v); err != nil {
					return fmt.Errorf("%w: WithHosts: %v", ErrInvalidOption, err)
				}
			}
			c.hosts[i] = strings.ToLower(h)
		}
		return nil
	})
}

// cardinalityLimit is the default limit: the provider's own, asked
// through an interface as serviceName asks for the service, or
// DefaultCardinalityLimit.
func cardinalityLimit(mp metric.MeterProvider) int {
	if p, ok := mp.(interface{ CardinalityLimit() int }); ok {
		if n := p.CardinalityLimit(); n > 0 {
			return n
		}
	}
	return DefaultCardinalityLimit
}

// serviceName is the default service label: the provider's own, or the
// one the SDK's default resource would take from the environment, or ""
// when neither is known. otelred does not import the
// SDK, so it asks the provider through an interface, and otherwise reads
// the environment as the SDK does (the last service.name wins).
// It also says where the name comes from, for errors.
func serviceName(mp metric.MeterProvider) (name, from string) {
	if p, ok := mp.(interface{ ServiceName() string }); ok {
		// The SDK's stand-in, "unknown_service:" and the executable, is
		// what a resource gets when nothing names the service: unknown.
		if s := p.ServiceName(); s != "" && !strings.HasPrefix(s, "unknown_service") {
			return s, "the MeterProvider's ServiceName()"
		}
	}
	return otelenv.ServiceName(), "the environment (OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES)"
}

// WithBodySizes records the sizes of request and response bodies, in
// bytes, as histograms with the attributes of the duration:
// http.server.request.body.size and http.server.response.body.size for
// [New], http.client.request.body.size and http.client.response.body.size
// for [NewTransport] (Classic: http_request_size_bytes,
// http_response_size_bytes and their http_client_ kin).
//
// The server counts exactly the bytes the handler read from r.Body and
// wrote through the ResponseWriter (Write, WriteString and ReadFrom alike;
// 0 for a HEAD request, whose body is never sent). To count what is read,
// the middleware puts a counting reader in r.Body while the handler runs,
// and puts the original back before it returns. [Server.Start] and
// [Request.End], which see no body, record no sizes. The client records
// the sizes the request and the response declare in their Content-Length;
// a body of unknown length (chunked) is not recorded.
//
// By default, body sizes are not recorded, and the body is not wrapped.
func WithBodySizes() Option {
	return optionFunc(func(c *config) error {
		c.used |= usesBodySizes
		c.bodySizes = true
		return nil
	})
}

// WithAttribute declares key as an attribute that each request may set on
// its own measurement: a tenant, an API version, a feature flag. A server
// handler sets it with [SetAttribute], a client request through its
// context with [ContextWithAttribute]. The key joins the attributes of
// the duration histogram (and of the body sizes and, in the Classic
// profile, of the request and error counters) of every request that sets
// it; requests that do not set it leave it out. In-flight gauges never
// carry it. Declare each key once, at most four, and none that the
// profile records itself.
//
// Values must be bounded, as routes are: given allowed values, any other
// value is recorded as "_OTHER"; given none, the distinct combinations of
// values requests set are bounded by the cardinality limit
// ([WithCardinalityLimit]), and a request whose combination comes past it
// is recorded in the overflow series, never in a new one. Each value is
// bounded too: one longer than [MaxValueLength] is recorded as "_OTHER",
// and invalid UTF-8 with U+FFFD in place of the invalid bytes. A key or an
// allowed value that is not valid UTF-8, or longer than MaxValueLength, is
// an error.
//
// It applies to [New], [NewServer] (whose handlers reach no writer of
// otelred's, so only the middleware's requests set values) and
// [NewTransport].
func WithAttribute(key string, allowed ...string) Option {
	return optionFunc(func(c *config) error {
		c.used |= usesAttributes
		if err := red.CheckValue(key); err != nil { // first: errors below show the key
			return fmt.Errorf("%w: WithAttribute: the key %v", ErrInvalidOption, err)
		}
		switch {
		case key == "":
			return fmt.Errorf("%w: WithAttribute(\"\"): empty key", ErrInvalidOption)
		case slices.Contains(c.attrKeys, key):
			return fmt.Errorf("%w: WithAttribute(%q): declared twice", ErrInvalidOption, key)
		case len(c.attrKeys) == red.MaxAttributes:
			return fmt.Errorf("%w: WithAttribute(%q): at most %d keys", ErrInvalidOption, key, red.MaxAttributes)
		case slices.Contains(allowed, ""):
			return fmt.Errorf("%w: WithAttribute(%q): an allowed value is empty", ErrInvalidOption, key)
		}
		for _, v := range allowed {
			if err := red.CheckValue(v); err != nil {
				return fmt.Errorf("%w: WithAttribute(%q): the allowed value %v", ErrInvalidOption, key, err)
			}
		}
		c.attrKeys = append(c.attrKeys, key)
		c.attrAllowed = append(c.attrAllowed, slices.Clone(allowed))
		return nil
	})
}

// attributes returns the table of the declared per-request attributes of
// a signal recorded with names (nil when none are declared), or an error
// when a key is one the signal records itself.
func (c *config) attributes(ctor string, names *Names) (*red.Attributes, error) {
	own := []attribute.Key{names.Method, names.Route, names.Status, names.ErrorType, names.Service,
		names.ServerAddress, names.ServerPort, names.Scheme, names.ProtocolVersion, names.Operation, red.OverflowKey}
	for _, k := range c.attrKeys {
		if slices.Contains(own, attribute.Key(k)) {
			return nil, fmt.Errorf("%w: %s: WithAttribute(%q): the %v profile records %q itself", ErrInvalidOption, ctor, k, c.profile, k)
		}
	}
	return red.NewAttributes(c.attrKeys, c.attrAllowed, c.limit), nil
}
