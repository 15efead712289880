package otelred

import (
	"fmt"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"

	"github.com/otelred/otelred/otelred/internal/red"
)

// SemconvVersion is the version of the OpenTelemetry semantic conventions
// the Semconv profile follows: its instrument and attribute names, and
// which attributes it records, are those this version defines.
const SemconvVersion = "1.43.0"

// Profile selects the names of the instruments and attributes otelred
// records. Each profile is a complete, consistent set; the middleware itself
// is the same for both.
type Profile uint8

const (
	// Semconv follows the OpenTelemetry HTTP semantic conventions (version
	// [SemconvVersion]): http.server.request.duration (histogram, seconds)
	// with the attributes http.request.method, url.scheme, http.route
	// (when a route matched), http.response.status_code (when a status was
	// sent: a handler that panicked before sending one has none),
	// network.protocol.version and, on failed requests only, error.type;
	// and http.server.active_requests, with http.request.method and
	// url.scheme. Requests with status >= 500 are failures by default.
	Semconv Profile = iota

	// Classic mirrors the four metrics of the RED tutorial exactly:
	// http_requests_total, http_request_duration_seconds, http_errors_total
	// and http_requests_active, labelled method, path, status_code and service
	// (the gauge has no status_code). Requests with status >= 400 are failures
	// by default.
	Classic
)

// Names lists the instrument and attribute names of one signal of a
// profile: HTTP server requests ([Profile.Names]), HTTP client requests
// ([Profile.ClientNames]) or operations ([Profile.OperationNames]). An empty
// instrument name means the profile does not have that instrument; an empty
// key means the signal does not record that attribute.
type Names struct {
	// Duration is the duration histogram, in seconds.
	Duration string
	// Active is the in-flight up-down counter.
	Active string
	// Requests is the request counter (Classic only; Semconv counts requests
	// with the histogram's count).
	Requests string
	// Errors is the failed-request counter (Classic only; Semconv marks
	// failures with ErrorType).
	Errors string
	// RequestBodySize and ResponseBodySize are the body-size histograms,
	// in bytes, recorded with [WithBodySizes] only.
	RequestBodySize  string
	ResponseBodySize string

	Method    attribute.Key
	Route     attribute.Key
	Status    attribute.Key
	ErrorType attribute.Key
	Service   attribute.Key

	// ServerAddress and ServerPort name the peer of a client request.
	ServerAddress attribute.Key
	ServerPort    attribute.Key
	// Operation names the operation.
	Operation attribute.Key
	// Scheme is url.scheme ("http" or "https") and ProtocolVersion
	// network.protocol.version ("1.0", "1.1", "2" or "3"); Classic has
	// neither.
	Scheme          attribute.Key
	ProtocolVersion attribute.Key

	// Unmatched is the value of Route recorded for a request that matched
	// no route: [Unmatched] in Classic, and "" in Semconv, which leaves
	// http.route out, as the semantic conventions set it only when it is
	// available.
	Unmatched string
}

// labeler builds attribute sets with the names of one signal, adding the
// service where the profile labels it.
type labeler struct {
	names   Names
	service string
}

// withService appends the service attribute when the profile has one.
func (l labeler) withService(kv ...attribute.KeyValue) []attribute.KeyValue {
	if l.names.Service != "" {
		kv = append(kv, l.names.Service.String(l.service))
	}
	return kv
}

// connAttrs appends the attributes of c that the profile records:
// url.scheme, and network.protocol.version when it is known.
func (l labeler) connAttrs(kv []attribute.KeyValue, c conn) []attribute.KeyValue {
	if l.names.Scheme != "" {
		kv = append(kv, l.names.Scheme.String(c.scheme()))
	}
	if v := c.version(); v != "" && l.names.ProtocolVersion != "" {
		kv = append(kv, l.names.ProtocolVersion.String(v))
	}
	return kv
}

// overflowAttrs is the attribute set of what does not fit in a cache: key
// (the route, the host, the operation name) is [Overflow] and
// otel.metric.overflow is set.
func (l labeler) overflowAttrs(key attribute.Key) []attribute.KeyValue {
	return l.withService(red.OverflowAttrs(key)...)
}

// overflowGauge builds the in-flight gauge of what does not fit in a
// cache, keyed by key.
func (l labeler) overflowGauge(key attribute.Key) *red.Gauge {
	return red.NewGauge(false, l.overflowAttrs(key)...)
}

// overflows builds the series of what does not fit in a cache, keyed by
// key. Where the profile records error types, failures get a series of
// their own, with error.type "_OTHER", so that error ratios stay right past
// the limit; otherwise both are one series.
func (l labeler) overflows(key attribute.Key) (ok, failed *red.Series) {
	kv := l.overflowAttrs(key)
	ok = red.NewSeries(false, kv...)
	ok.Overflow = true
	failed = ok
	if l.names.ErrorType != "" {
		failed = red.NewSeries(true, append(kv, l.names.ErrorType.String(errOther))...)
		failed.Overflow = true
	}
	return ok, failed
}

// signal is what one profile records for one kind of call.
type signal struct {
	names Names

	durationDesc, activeDesc, requestsDesc, errorsDesc string
	activeUnit                                         string
	requestSizeDesc, responseSizeDesc                  string

	// activeByRoute labels the in-flight gauge by route as well as method.
	activeByRoute bool
	// minErrorStatus is the default error rule: status >= minErrorStatus.
	minErrorStatus int
	// abortStatus is the status recorded for a handler that panicked
	// before it sent one; 0 leaves the status attribute out, as the
	// semantic conventions set it only when one was sent.
	abortStatus int
}

// spec returns the instruments of the signal, with the profile's bucket
// advice.
func (s *signal) spec(boundaries []float64) red.Spec {
	return red.Spec{
		Duration:     s.names.Duration,
		DurationDesc: s.durationDesc,
		Boundaries:   boundaries,
		Active:       s.names.Active,
		ActiveDesc:   s.activeDesc,
		ActiveUnit:   s.activeUnit,
		Requests:     s.names.Requests,
		RequestsDesc: s.requestsDesc,
		Errors:       s.names.Errors,
		ErrorsDesc:   s.errorsDesc,
	}
}

// withSizes adds the signal's body-size histograms to sp.
func (s *signal) withSizes(sp red.Spec) red.Spec {
	sp.RequestSize, sp.RequestSizeDesc = s.names.RequestBodySize, s.requestSizeDesc
	sp.ResponseSize, sp.ResponseSizeDesc = s.names.ResponseBodySize, s.responseSizeDesc
	return sp
}

// profileData is the whole of what distinguishes one profile from another.
type profileData struct {
	name                      string
	server, client, operation signal

	// boundaries is the bucket advice given to every duration histogram.
	boundaries []float64
}

var profiles = [...]profileData{
	Semconv: {
		name: "semconv",
		server: signal{
			names: Names{
				Duration:         httpconv.ServerRequestDuration{}.Name(),
				Active:           httpconv.ServerActiveRequests{}.Name(),
				RequestBodySize:  httpconv.ServerRequestBodySize{}.Name(),
				ResponseBodySize: httpconv.ServerResponseBodySize{}.Name(),
				Method:           semconv.HTTPRequestMethodKey,
				Route:            semconv.HTTPRouteKey,
				Status:           semconv.HTTPResponseStatusCodeKey,
				ErrorType:        semconv.ErrorTypeKey,
				Scheme:           semconv.URLSchemeKey,
				ProtocolVersion:  semconv.NetworkProtocolVersionKey,
			},
			durationDesc:     httpconv.ServerRequestDuration{}.Description(),
			activeDesc:       httpconv.ServerActiveRequests{}.Description(),
			requestSizeDesc:  httpconv.ServerRequestBodySize{}.Description(),
			responseSizeDesc: httpconv.ServerResponseBodySize{}.Description(),
			activeUnit:       httpconv.ServerActiveRequests{}.Unit(),
			minErrorStatus:   500,
			// abortStatus is left zero: a handler that panicked before
			// sending a status has no status code.
		},
		client: signal{
			names: Names{
				Duration:         httpconv.ClientRequestDuration{}.Name(),
				RequestBodySize:  httpconv.ClientRequestBodySize{}.Name(),
				ResponseBodySize: httpconv.ClientResponseBodySize{}.Name(),
				Method:           semconv.HTTPRequestMethodKey,
				Status:           semconv.HTTPResponseStatusCodeKey,
				ErrorType:        semconv.ErrorTypeKey,
				ServerAddress:    semconv.ServerAddressKey,
				ServerPort:       semconv.ServerPortKey,
				ProtocolVersion:  semconv.NetworkProtocolVersionKey,
			},
			durationDesc:     httpconv.ClientRequestDuration{}.Description(),
			requestSizeDesc:  httpconv.ClientRequestBodySize{}.Description(),
			responseSizeDesc: httpconv.ClientResponseBodySize{}.Description(),
			minErrorStatus:   400,
		},
		// The semantic conventions define no instruments for operations
		// in general; these follow the shape of the HTTP ones.
		operation: signal{
			names: Names{
				Duration:  "operation.duration",
				Active:    "operation.active",
				ErrorType: semconv.ErrorTypeKey,
				Operation: "operation.name",
			},
			durationDesc: "Duration of operations.",
			activeDesc:   "Number of operations in progress.",
			activeUnit:   "{operation}",
		},
		boundaries: []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10},
	},
	Classic: {
		name: "classic",
		server: signal{
			names: Names{
				Duration:         "http_request_duration_seconds",
				Active:           "http_requests_active",
				Requests:         "http_requests_total",
				Errors:           "http_errors_total",
				RequestBodySize:  "http_request_size_bytes",
				ResponseBodySize: "http_response_size_bytes",
				Method:           "method",
				Route:            "path",
				Status:           "status_code",
				Service:          "service",
				Unmatched:        Unmatched,
			},
			durationDesc:     "HTTP request latency in seconds.",
			requestSizeDesc:  "HTTP request body size in bytes.",
			responseSizeDesc: "HTTP response body size in bytes.",
			activeDesc:       "Number of HTTP requests currently being served.",
			requestsDesc:     "Total number of HTTP requests.",
			errorsDesc:       "Total number of HTTP requests that failed.",
			activeUnit:       "{request}",
			activeByRoute:    true,
			minErrorStatus:   400,
			abortStatus:      500,
		},
		client: signal{
			names: Names{
				Duration:         "http_client_request_duration_seconds",
				Requests:         "http_client_requests_total",
				Errors:           "http_client_errors_total",
				RequestBodySize:  "http_client_request_size_bytes",
				ResponseBodySize: "http_client_response_size_bytes",
				Method:           "method",
				Status:           "status_code",
				Service:          "service",
				ServerAddress:    "host",
			},
			durationDesc:     "HTTP client request latency in seconds.",
			requestSizeDesc:  "HTTP client request body size in bytes.",
			responseSizeDesc: "HTTP client response body size in bytes.",
			requestsDesc:     "Total number of HTTP client requests.",
			errorsDesc:       "Total number of HTTP client requests that failed.",
			minErrorStatus:   400,
		},
		operation: signal{
			names: Names{
				Duration:  "operation_duration_seconds",
				Active:    "operations_active",
				Requests:  "operations_total",
				Errors:    "operation_errors_total",
				Service:   "service",
				Operation: "operation",
			},
			durationDesc: "Operation latency in seconds.",
			activeDesc:   "Number of operations in progress.",
			requestsDesc: "Total number of operations.",
			errorsDesc:   "Total number of operations that failed.",
			activeUnit:   "{operation}",
		},
		boundaries: []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5},
	},
}

// ParseProfile returns the profile named s ("semconv" or "classic").
func ParseProfile(s string) (Profile, error) {
	for p := range profiles {
		if profiles[p].name == s {
			return Profile(p), nil
		}
	}
	return 0, fmt.Errorf("%w: profile %q (want %q or %q)", ErrInvalidOption, s, profiles[Semconv].name, profiles[Classic].name)
}

// String returns the profile's name, as accepted by [ParseProfile].
func (p Profile) String() string {
	if !p.valid() {
		return fmt.Sprintf("Profile(%d)", uint8(p))
	}
	return profiles[p].name
}

// Names returns the instrument and attribute names the profile records for
// HTTP server requests, through the middleware of [New].
func (p Profile) Names() Names {
	if !p.valid() {
		return Names{}
	}
	return profiles[p].server.names
}

// ClientNames returns the instrument and attribute names the profile
// records for HTTP client requests, through the Transport of
// [NewTransport].
func (p Profile) ClientNames() Names {
	if !p.valid() {
		return Names{}
	}
	return profiles[p].client.names
}

// OperationNames returns the instrument and attribute names the profile
// records for operations, through [NewOperations].
func (p Profile) OperationNames() Names {
	if !p.valid() {
		return Names{}
	}
	return profiles[p].operation.names
}

// Boundaries returns a fresh copy of the bucket boundaries, in seconds, that
// the profile advises for its duration histograms: the OpenTelemetry advice
// (5 ms to 10 s) for Semconv, the tutorial's SLA buckets (5 ms to 5 s) for
// Classic. A view with an explicit aggregation overrides the advice.
func (p Profile) Boundaries() []float64 {
	if !p.valid() {
		return nil
	}
	return slices.Clone(profiles[p].boundaries)
}

func (p Profile) valid() bool { return int(p) < len(profiles) }
