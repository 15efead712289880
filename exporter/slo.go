package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// ErrInvalidObjective is wrapped by every error this package returns for a
// bad [Objectives] value, or for a latency threshold that is not a bucket
// boundary. The message names the field and the value, for example
//
//	exporter: invalid objective: routes[1].latency.target = 1.5 is not in (0, 1)
var ErrInvalidObjective = errors.New("exporter: invalid objective")

// DefaultWindow is the SLO window of [Objectives] whose Window is zero: the
// error budget is spent over 30 days.
const DefaultWindow = Window(30 * 24 * time.Hour)

// Objectives are the service level objectives of one service: an
// availability objective (the share of requests that must not fail) and a
// latency objective (the share of requests that must be faster than a
// threshold), each for the service as a whole and, optionally, per route.
//
// They are plain data, meant to be filled from a configuration file (they
// have json and yaml tags) or in code, and read by every consumer, so that
// the histogram buckets, recording rules, alerts and dashboards are all
// derived from one value and cannot drift apart:
//
//	availability: 0.999        # 99.9% of requests do not fail
//	latency:
//	  threshold: 0.3           # seconds
//	  target: 0.99             # 99% of requests are faster than 300 ms
//	window: 30d
//	routes:
//	  - route: /slow
//	    latency: {threshold: 0.5, target: 0.95}
//
// # Global and per-route objectives
//
// The global objectives apply to the service's requests taken together,
// except the requests of routes that set their own objective of the same
// kind: a route objective takes that route out of the global one, so no
// request counts toward two objectives of the same kind. A route that sets
// only a latency objective still counts toward the global availability
// objective. Requests that matched no route count toward no objective:
// they are the client's doing, not the service's. In [otelred.Semconv]
// they are the series without http.route (the semantic conventions set it
// only when a route is available); in [otelred.Classic] the route
// [otelred.Unmatched], which is the value [otelred.Unmatched] keeps. The
// requests past the cardinality limit, in the route [otelred.Overflow],
// matched routes, and count toward the global objectives.
//
// What a failure is comes from the middleware's error rule: by default
// status >= 500 for [otelred.Semconv] and status >= 400 for
// [otelred.Classic], whose availability objective therefore also counts
// client errors.
//
// The zero value has no objectives and is valid.
type Objectives struct {
	// Availability is the share of requests, in (0, 1), that must not fail,
	// for example 0.999.
	//
	// The zero value means no global availability objective.
	Availability float64 `json:"availability,omitempty" yaml:"availability,omitempty"`

	// Latency is the global latency objective.
	//
	// The zero value (nil) means none.
	Latency *LatencyObjective `json:"latency,omitempty" yaml:"latency,omitempty"`

	// Window is the period over which the error budget is spent, such as
	// 30d or 4w (see [Window]).
	//
	// The zero value means [DefaultWindow], 30 days.
	Window Window `json:"window,omitempty" yaml:"window,omitempty"`

	// Routes are per-route objectives, each replacing the global objective
	// of the same kind for its route.
	//
	// The zero value means none.
	Routes []RouteObjective `json:"routes,omitempty" yaml:"routes,omitempty"`
}

// LatencyObjective asks that a share of requests (Target) take less than a
// duration (Threshold). The threshold must be a bucket boundary of the
// duration histogram, so that the share is read off one bucket exactly;
// [Objectives.Boundaries] makes it one and [Objectives.Check] verifies it.
type LatencyObjective struct {
	// Threshold is the duration, in seconds, such as 0.3. A request taking
	// at most Threshold (the histogram's le, "less than or equal") meets it.
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Target is the share of requests, in (0, 1), that must meet the
	// threshold, such as 0.99.
	Target float64 `json:"target" yaml:"target"`
}

// RouteObjective sets the objectives of one route, replacing the global
// objectives of the same kind for it.
type RouteObjective struct {
	// Route is the route exactly as otelred records it: the path template
	// of the route, such as "/users/{id}", without the method or host of a
	// ServeMux pattern.
	Route string `json:"route" yaml:"route"`

	// Availability is the route's availability objective, in (0, 1).
	//
	// The zero value means the route counts toward the global availability
	// objective.
	Availability float64 `json:"availability,omitempty" yaml:"availability,omitempty"`

	// Latency is the route's latency objective.
	//
	// The zero value (nil) means the route counts toward the global latency
	// objective.
	Latency *LatencyObjective `json:"latency,omitempty" yaml:"latency,omitempty"`
}

// Validate reports whether o is usable: every target (availability or
// latency) in the open interval (0, 1), a target of 1 leaving no error
// budget; every threshold a finite number of seconds greater than 0; a
// Window of whole minutes, not negative; and every route a path template
// starting with "/", listed once, setting at least one objective.
//
// The error wraps [ErrInvalidObjective] and names the first bad field by its
// yaml path:
//
//	exporter: invalid objective: routes[1].latency.target = 1.5 is not in (0, 1)
func (o Objectives) Validate() error {
	if err := checkTarget("availability", o.Availability, true); err != nil {
		return err
	}
	if err := checkLatency("latency", o.Latency); err != nil {
		return err
	}
	if err := o.Window.validate(); err != nil {
		return err
	}
	seen := make(map[string]int, len(o.Routes))
	for i, r := range o.Routes {
		field := fmt.Sprintf("routes[%d]", i)
		if err := checkRoute(field+".route", r.Route); err != nil {
			return err
		}
		if j, dup := seen[r.Route]; dup {
			return fmt.Errorf("%w: %s.route = %q is a duplicate of routes[%d].route", ErrInvalidObjective, field, r.Route, j)
		}
		seen[r.Route] = i
		if r.Availability == 0 && r.Latency == nil {
			return fmt.Errorf("%w: %s (route %q) sets no objective: give it availability, latency or both", ErrInvalidObjective, field, r.Route)
		}
		if err := checkTarget(field+".availability", r.Availability, true); err != nil {
			return err
		}
		if err := checkLatency(field+".latency", r.Latency); err != nil {
			return err
		}
	}
	return nil
}

// ParseObjectives decodes an objectives file, YAML or JSON (JSON is
// read as YAML, of which it is a subset), with the keys of the yaml and
// json tags of [Objectives], and validates it ([Objectives.Validate]). It
// is what redgen and [Config.ObjectivesFile] read, so that both
// see the same objectives. An unknown key, a second document or a value of
// the wrong type is an error, as is a bad objective; an empty file is the
// zero Objectives, which has none. Errors wrap [ErrInvalidObjective].
func ParseObjectives(data []byte) (Objectives, error) {
	var o Objectives
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&o); err != nil && !errors.Is(err, io.EOF) {
		return Objectives{}, fmt.Errorf("%w: %w", ErrInvalidObjective, err)
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Objectives{}, fmt.Errorf("%w: more than one document: write the objectives in one", ErrInvalidObjective)
	}
	if err := o.Validate(); err != nil {
		return Objectives{}, err
	}
	return o, nil
}

func checkTarget(field string, v float64, zeroOK bool) error {
	switch {
	case v == 0 && zeroOK:
		return nil
	case math.IsNaN(v) || v <= 0 || v > 1:
		return fmt.Errorf("%w: %s = %v is not in (0, 1)", ErrInvalidObjective, field, v)
	case v == 1:
		return fmt.Errorf("%w: %s = %v is not in (0, 1): a target of 1 leaves no error budget", ErrInvalidObjective, field, v)
	}
	return nil
}

func checkLatency(field string, l *LatencyObjective) error {
	if l == nil {
		return nil
	}
	switch t := l.Threshold; {
	case math.IsNaN(t) || math.IsInf(t, 0):
		return fmt.Errorf("%w: %s.threshold = %v is not a finite number of seconds", ErrInvalidObjective, field, t)
	case t <= 0:
		return fmt.Errorf("%w: %s.threshold = %v is not greater than 0 s", ErrInvalidObjective, field, t)
	}
	return checkTarget(field+".target", l.Target, false)
}

func checkRoute(field, route string) error {
	switch {
	case route == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidObjective, field)
	case route == otelred.Unmatched || route == otelred.Overflow:
		return fmt.Errorf("%w: %s = %q is the value otelred records for requests without a route of their own (Classic's requests that matched none, or the overflow past the cardinality limit); it takes no objective", ErrInvalidObjective, field, route)
	case !utf8.ValidString(route):
		return fmt.Errorf("%w: %s = %q is not valid UTF-8", ErrInvalidObjective, field, route)
	}
	if i := strings.IndexFunc(route, unicode.IsSpace); i >= 0 {
		if j := strings.IndexByte(route, '/'); j > i {
			return fmt.Errorf("%w: %s = %q is a ServeMux pattern: write its path template %q, as otelred records it", ErrInvalidObjective, field, route, route[j:])
		}
		return fmt.Errorf("%w: %s = %q contains white space", ErrInvalidObjective, field, route)
	}
	if route[0] != '/' {
		if j := strings.IndexByte(route, '/'); j > 0 {
			return fmt.Errorf("%w: %s = %q has a host: write its path template %q, as otelred records it", ErrInvalidObjective, field, route, route[j:])
		}
		return fmt.Errorf("%w: %s = %q is not a path template starting with \"/\"", ErrInvalidObjective, field, route)
	}
	return nil
}

// Route returns the objectives that apply to route: its own, of each kind it
// sets, and the global ones otherwise. The Route field of the result is
// route. A kind with no objective is left at its zero value.
func (o Objectives) Route(route string) RouteObjective {
	eff := RouteObjective{Route: route, Availability: o.Availability, Latency: o.Latency}
	for _, r := range o.Routes {
		if r.Route != route {
			continue
		}
		if r.Availability != 0 {
			eff.Availability = r.Availability
		}
		if r.Latency != nil {
			eff.Latency = r.Latency
		}
		break
	}
	return eff
}

// Thresholds returns every latency threshold of o, global and per route, in
// seconds, sorted and without duplicates. It returns nil when o has no
// latency objective.
func (o Objectives) Thresholds() []float64 {
	var ts []float64
	if o.Latency != nil {
		ts = append(ts, o.Latency.Threshold)
	}
	for _, r := range o.Routes {
		if r.Latency != nil {
			ts = append(ts, r.Latency.Threshold)
		}
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// Boundaries returns the bucket boundaries of base with every latency
// threshold of o added, exactly, as [views.SLOBoundaries] does. Pass the
// result to [views.Duration] or [views.RED], or leave it to [Setup], which
// does this with [Config.Objectives]:
//
//	b, err := o.Boundaries(views.Default(otelred.Semconv))
//	red, err := views.RED(otelred.Semconv, b)
//
// o must pass [Objectives.Validate] (the error wraps [ErrInvalidObjective])
// and base must be empty or pass [views.Validate] (the error wraps
// [views.ErrInvalidBoundaries]). base is not modified.
func (o Objectives) Boundaries(base []float64) ([]float64, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return views.SLOBoundaries(base, o.Thresholds()...)
}

// Check reports whether every latency threshold of o is exactly one of
// boundaries, so that each latency objective is read off one bucket. Use it
// when the boundaries come from somewhere else than [Objectives.Boundaries],
// such as a hand-written list in a configuration file. A threshold that is
// not a boundary would make an SLO that cannot be measured: the error names
// it and the boundaries around it, for example
//
//	exporter: invalid objective: latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5): add it to the boundaries, as Objectives.Boundaries does
//
// The error wraps [ErrInvalidObjective], or, for boundaries that fail
// [views.Validate], [views.ErrInvalidBoundaries]. o must pass
// [Objectives.Validate].
func (o Objectives) Check(boundaries []float64) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Latency == nil && !slices.ContainsFunc(o.Routes, func(r RouteObjective) bool { return r.Latency != nil }) {
		return nil
	}
	if err := views.Validate(boundaries); err != nil {
		return err
	}
	if err := checkBoundary("latency.threshold", o.Latency, boundaries); err != nil {
		return err
	}
	for i, r := range o.Routes {
		if err := checkBoundary(fmt.Sprintf("routes[%d].latency.threshold", i), r.Latency, boundaries); err != nil {
			return err
		}
	}
	return nil
}

func checkBoundary(field string, l *LatencyObjective, boundaries []float64) error {
	if l == nil {
		return nil
	}
	t := l.Threshold
	i, found := slices.BinarySearch(boundaries, t)
	if found {
		return nil
	}
	var where string
	switch {
	case i == 0:
		where = fmt.Sprintf("it is below the first boundary, %v", boundaries[0])
	case i == len(boundaries):
		where = fmt.Sprintf("it is above the last boundary, %v, in the +Inf bucket", boundaries[i-1])
	default:
		where = fmt.Sprintf("it falls between %v and %v", boundaries[i-1], boundaries[i])
	}
	return fmt.Errorf("%w: %s = %v is not a bucket boundary (%s): add it to the boundaries, as Objectives.Boundaries does", ErrInvalidObjective, field, t, where)
}

// Window is the length of an SLO window, the period over which an error
// budget is spent. In configuration files it is written as a Prometheus
// duration, a sequence of whole numbers with the units w, d, h, m and s,
// such as "30d", "4w" or "720h"; it must be a whole number of minutes.
type Window time.Duration

// windowRE matches a Prometheus duration without milliseconds or years.
var windowRE = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$`)

// ParseWindow parses a Prometheus duration such as "30d" (see [Window]).
// Errors wrap [ErrInvalidObjective].
func ParseWindow(s string) (Window, error) {
	m := windowRE.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("%w: window = %q is not a duration such as 30d, 4w or 720h", ErrInvalidObjective, s)
	}
	units := [...]time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/u) || d > math.MaxInt64-time.Duration(n)*u {
			return 0, fmt.Errorf("%w: window = %q is too long", ErrInvalidObjective, s)
		}
		d += time.Duration(n) * u
	}
	w := Window(d)
	if err := w.validate(); err != nil {
		return 0, err
	}
	return w, nil
}

func (w Window) validate() error {
	d := time.Duration(w)
	switch {
	case d < 0:
		return fmt.Errorf("%w: window = %v is negative", ErrInvalidObjective, d)
	case d%time.Minute != 0:
		return fmt.Errorf("%w: window = %v is not a whole number of minutes", ErrInvalidObjective, d)
	}
	return nil
}

// String returns w as a Prometheus duration in its largest whole unit
// among d, h and m, such as "30d", "36h" or "90m"; zero is "0h".
func (w Window) String() string {
	d := time.Duration(w)
	switch {
	case d != 0 && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// MarshalText returns [Window.String], for json and yaml encoders.
func (w Window) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText parses a Prometheus duration, as [ParseWindow] does, for
// json and yaml decoders.
func (w *Window) UnmarshalText(text []byte) error {
	v, err := ParseWindow(string(text))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// Duration returns w as a [time.Duration].
func (w Window) Duration() time.Duration { return time.Duration(w) }

// SLOWindow returns o.Window, or [DefaultWindow] when it is zero.
func (o Objectives) SLOWindow() Window {
	if o.Window == 0 {
		return DefaultWindow
	}
	return o.Window
}
