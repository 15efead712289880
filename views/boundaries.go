package views

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/otelred/otelred/otelred"
)

// ErrInvalidBoundaries is wrapped by every error this package returns for bad
// bucket boundaries or SLO thresholds. The message names the offending
// element by index and value.
var ErrInvalidBoundaries = errors.New("views: invalid boundaries")

// Default returns the bucket boundaries, in seconds, that otelred uses for the
// duration histogram of profile p: the OpenTelemetry advice 0.005 … 10 for
// [otelred.Semconv], and the tutorial's SLA buckets 0.005 … 5 for
// [otelred.Classic]. They are the same values the profile gives its
// instrument as advice ([otelred.Profile.Boundaries]).
//
// Each call returns a fresh slice, which the caller may modify without
// affecting later calls. An unknown profile yields nil.
func Default(p otelred.Profile) []float64 {
	return p.Boundaries()
}

// Validate reports whether boundaries are usable as the bucket boundaries of
// a duration histogram: at least one boundary; every boundary a finite,
// non-negative number (the +Inf bucket is implicit); strictly increasing, so
// no duplicates. A zero boundary is allowed: it counts observations of
// exactly 0 s.
//
// The error wraps [ErrInvalidBoundaries] and names the first offending
// element, for example
//
//	views: invalid boundaries: boundaries[3] = 0.1 is not greater than boundaries[2] = 0.25
//
// The SDK itself accepts NaN, ±Inf, negative values and an empty slice, and
// when the boundaries do not increase it only logs the problem and silently
// falls back to the instrument's bucket advice or the reader's default.
// Validate is stricter, and [Duration], [RED], [Otelhttp] and
// [OtelhttpWithoutBodySize] call it before they build a view.
func Validate(boundaries []float64) error {
	if len(boundaries) == 0 {
		return fmt.Errorf("%w: empty: a duration histogram needs at least one boundary", ErrInvalidBoundaries)
	}
	return validate("boundaries", boundaries)
}

// validate checks the elements of b, named name in messages. It accepts an
// empty b.
func validate(name string, b []float64) error {
	for i, v := range b {
		if err := checkValue(name, i, v); err != nil {
			return err
		}
		if i == 0 {
			continue
		}
		switch prev := b[i-1]; {
		case v == prev:
			return fmt.Errorf("%w: %s[%d] = %v is a duplicate of %s[%d]", ErrInvalidBoundaries, name, i, v, name, i-1)
		case v < prev:
			return fmt.Errorf("%w: %s[%d] = %v is not greater than %s[%d] = %v", ErrInvalidBoundaries, name, i, v, name, i-1, prev)
		}
	}
	return nil
}

// checkValue rejects NaN, ±Inf and negative values.
func checkValue(name string, i int, v float64) error {
	switch {
	case math.IsNaN(v):
		return fmt.Errorf("%w: %s[%d] = %v is not a number", ErrInvalidBoundaries, name, i, v)
	case math.IsInf(v, 0):
		return fmt.Errorf("%w: %s[%d] = %v is not finite (the +Inf bucket is implicit)", ErrInvalidBoundaries, name, i, v)
	case v < 0:
		return fmt.Errorf("%w: %s[%d] = %v is negative", ErrInvalidBoundaries, name, i, v)
	}
	return nil
}

// SLOBoundaries returns new bucket boundaries made of every boundary of base
// plus every SLO latency threshold, in seconds, sorted and without
// duplicates. Each threshold becomes a boundary exactly as given (bit for
// bit: 0.3 stays 0.3), so "requests faster than the threshold" is read off
// one bucket, with no interpolation:
//
//	b, err := views.SLOBoundaries(views.Default(otelred.Semconv), 0.3, 1.2)
//	// rate(http_server_request_duration_seconds_bucket{le="0.3"}[5m])
//
// base must be empty or pass [Validate]; it is not modified. Thresholds may
// come in any order and may repeat, but each must be finite and greater than
// 0. The result must not be empty. Errors wrap [ErrInvalidBoundaries].
func SLOBoundaries(base []float64, thresholds ...float64) ([]float64, error) {
	if err := validate("base", base); err != nil {
		return nil, err
	}
	for i, t := range thresholds {
		if err := checkValue("thresholds", i, t); err != nil {
			return nil, err
		}
		if t == 0 {
			return nil, fmt.Errorf("%w: thresholds[%d] = %v is not greater than 0", ErrInvalidBoundaries, i, t)
		}
	}
	if len(base) == 0 && len(thresholds) == 0 {
		return nil, fmt.Errorf("%w: empty base and no thresholds", ErrInvalidBoundaries)
	}
	out := make([]float64, 0, len(base)+len(thresholds))
	out = append(out, base...)
	out = append(out, thresholds...)
	slices.Sort(out)
	return slices.Compact(out), nil
}
