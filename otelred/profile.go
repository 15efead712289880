package otelred

import (
	"fmt"
	"slices"

	"go.opentelemetry.io/otel/attribute"
)

// Profile selects the names of the instruments and attributes otelred
// records. Each profile is a complete, consistent set; the middleware itself
// is the same for both.
type Profile uint8

const (
	// Semconv follows the OpenTelemetry HTTP semantic conventions:
	// http.server.request.duration (histogram, seconds) and
	// http.server.active_requests, with the attributes http.request.method,
	// http.route, http.response.status_code and, on failed requests only,
	// error.type. Requests with status >= 500 are failures by default.
	Semconv Profile = iota

	// Classic mirrors the four metrics of the RED tutorial exactly:
	// http_requests_total, http_request_duration_seconds, http_errors_total
	// and http_requests_active, labelled method, path, status_code and service
	// (the gauge has no status_code). Requests with status >= 400 are failures
	// by default.
	Classic
)

// Names lists the instrument and attribute names of a profile. An empty
// instrument name means the profile does not have that instrument; an empty
// key means the profile does not record that attribute.
type Names struct {
	// Duration is the request-duration histogram, in seconds.
	Duration string
	// Active is the in-flight requests up-down counter.
	Active string
	// Requests is the request counter (Classic only; Semconv counts requests
	// with the histogram's count).
	Requests string
	// Errors is the failed-request counter (Classic only; Semconv marks
	// failures with ErrorType).
	Errors string

	Method    attribute.Key
	Route     attribute.Key
	Status    attribute.Key
	ErrorType attribute.Key
	Service   attribute.Key
}

// profileData is the whole of what distinguishes one profile from another.
type profileData struct {
	name  string
	names Names

	durationDesc, activeDesc, requestsDesc, errorsDesc string
	activeUnit                                         string

	// activeByRoute labels the in-flight gauge by route as well as method.
	activeByRoute bool

	// boundaries is the bucket advice given to the duration histogram.
	boundaries []float64
	// minErrorStatus is the default error rule: status >= minErrorStatus.
	minErrorStatus int
}

var profiles = [...]profileData{
	Semconv: {
		name: "semconv",
		names: Names{
			Duration:  "http.server.request.duration",
			Active:    "http.server.active_requests",
			Method:    "http.request.method",
			Route:     "http.route",
			Status:    "http.response.status_code",
			ErrorType: "error.type",
		},
		durationDesc:   "Duration of HTTP server requests.",
		activeDesc:     "Number of active HTTP server requests.",
		activeUnit:     "{request}",
		boundaries:     []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10},
		minErrorStatus: 500,
	},
	Classic: {
		name: "classic",
		names: Names{
			Duration: "http_request_duration_seconds",
			Active:   "http_requests_active",
			Requests: "http_requests_total",
			Errors:   "http_errors_total",
			Method:   "method",
			Route:    "path",
			Status:   "status_code",
			Service:  "service",
		},
		durationDesc:   "HTTP request latency in seconds.",
		activeDesc:     "Number of HTTP requests currently being served.",
		requestsDesc:   "Total number of HTTP requests.",
		errorsDesc:     "Total number of HTTP requests that failed.",
		activeUnit:     "{request}",
		activeByRoute:  true,
		boundaries:     []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5},
		minErrorStatus: 400,
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

// Names returns the instrument and attribute names the profile records.
func (p Profile) Names() Names {
	if !p.valid() {
		return Names{}
	}
	return profiles[p].names
}

// Boundaries returns a fresh copy of the bucket boundaries, in seconds, that
// the profile advises for its duration histogram: the OpenTelemetry advice
// (5 ms to 10 s) for Semconv, the tutorial's SLA buckets (5 ms to 5 s) for
// Classic. A view with an explicit aggregation overrides the advice.
func (p Profile) Boundaries() []float64 {
	if !p.valid() {
		return nil
	}
	return slices.Clone(profiles[p].boundaries)
}

// IsError reports whether the profile's default error rule counts status
// as a failure: >= 500 for Semconv, >= 400 for Classic.
func (p Profile) IsError(status int) bool {
	return p.valid() && status >= profiles[p].minErrorStatus
}

func (p Profile) valid() bool { return int(p) < len(profiles) }
