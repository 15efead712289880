package exporter

import (
	"fmt"
	"strconv"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// The values of [Config.Histogram].
const (
	histogramExplicit = "explicit"
	histogramNative   = "native"
)

// The environment variables of [Config.Histogram] and
// [Config.CardinalityLimit]: otelred's own, and the OTLP exporter's
// standard one.
const (
	envHistogram        = "OTELRED_HISTOGRAM"
	envDefaultHistogram = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"
	envCardinalityLimit = "OTELRED_CARDINALITY_LIMIT"
)

// Native sizes the base-2 exponential histograms of [Config.Histogram]
// "native" (see [views.Exponential]).
type Native struct {
	// MaxSize is the most buckets one series keeps: when the durations it
	// has seen need more at its scale, it halves its resolution. 160
	// buckets at scale 3 (each about 9% wider than the last) span a
	// factor of 2^20, such as 1 ms to about 17 min.
	//
	// The zero value means 160 ([views.DefaultMaxSize]).
	MaxSize int32 `json:"max_size,omitempty" yaml:"max_size,omitempty"`

	// MaxScale is the finest scale a series starts at, from 1 to 20;
	// bucket boundaries are powers of 2^(2^-scale). Prometheus's native
	// histograms go to scale 8 at most, so the Prometheus exporter lowers
	// a finer scale to 8; OTLP pushes it as it is.
	//
	// The zero value means 20 ([views.DefaultMaxScale]).
	MaxScale int32 `json:"max_scale,omitempty" yaml:"max_scale,omitempty"`
}

// maxSize returns MaxSize with the default applied.
func (n Native) maxSize() int32 {
	if n.MaxSize == 0 {
		return views.DefaultMaxSize
	}
	return n.MaxSize
}

// maxScale returns MaxScale with the default applied.
func (n Native) maxScale() int32 {
	if n.MaxScale == 0 {
		return views.DefaultMaxScale
	}
	return n.MaxScale
}

// checkHistogram reports the invalid fields among Histogram, Native and
// CardinalityLimit, and Boundaries given with Histogram "native".
func (c Config) checkHistogram() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	switch c.Histogram {
	case "", histogramExplicit:
	case histogramNative:
		if c.Boundaries != nil {
			bad("Boundaries", "%v: explicit buckets do not apply to Histogram %q; leave Boundaries nil", c.Boundaries, c.Histogram)
		}
	default:
		bad("Histogram", "%q: want %q or %q", c.Histogram, histogramExplicit, histogramNative)
	}
	if c.Native.MaxSize < 0 {
		bad("Native.MaxSize", "%d: must be positive (zero means %d)", c.Native.MaxSize, views.DefaultMaxSize)
	}
	if c.Native.MaxScale < 0 || c.Native.MaxScale > views.DefaultMaxScale {
		bad("Native.MaxScale", "%d: must be within 1 to %d (zero means %d)", c.Native.MaxScale, views.DefaultMaxScale, views.DefaultMaxScale)
	}
	if c.CardinalityLimit < 0 {
		bad("CardinalityLimit", "%d: must be positive (zero means %d)", c.CardinalityLimit, otelred.DefaultCardinalityLimit)
	}
	return errs
}

// histogramWithEnv fills Histogram and CardinalityLimit from the
// environment, when c leaves them at zero, and adds the OTLP exporters'
// variable to read if it reads it.
func (c *Config) histogramWithEnv(read map[string]bool) []error {
	var errs []error
	if c.Histogram == "" {
		if v := getenv(envHistogram); v != "" {
			switch v = strings.ToLower(v); v {
			case histogramExplicit, histogramNative:
				c.Histogram = v
			default:
				errs = append(errs, fmt.Errorf("%w: %s %q: want %s or %s", ErrInvalidConfig, envHistogram, v, histogramExplicit, histogramNative))
			}
		} else if v := getenv(envDefaultHistogram); v != "" && c.enabled(otlpName) && !c.enabled(prometheusName) {
			// The variable speaks for the OTLP exporter; the views speak
			// for every exporter, so it applies only when OTLP is alone
			// (a Prometheus without native histograms would lose the
			// buckets).
			read[envDefaultHistogram] = true
			switch strings.ToLower(v) {
			case "explicit_bucket_histogram":
				c.Histogram = histogramExplicit
			case "base2_exponential_bucket_histogram":
				c.Histogram = histogramNative
			default:
				errs = append(errs, checkDefaultHistogram(envDefaultHistogram, v))
			}
		}
	}
	if c.CardinalityLimit == 0 {
		if v := getenv(envCardinalityLimit); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				errs = append(errs, fmt.Errorf("%w: %s %q: want a whole number of at least 1", ErrInvalidConfig, envCardinalityLimit, v))
			} else {
				c.CardinalityLimit = n
			}
		}
	}
	return errs
}

// redViews returns the views of otelred's duration histograms, in both
// profiles, so that the buckets land on whichever profile the middleware
// records with (the two name their instruments apart): explicit buckets
// at each profile's boundaries, or exponential ones sized by Native. The
// Naming profile's views come first: those of the instruments that have
// no profile (otelredgrpc's, and otelhttp's drops) are in both lists, and
// the SDK applies the first view registered for a stream, ignoring the
// same stream from later ones. c must be valid, its objectives read.
func (c Config) redViews() ([]sdkmetric.View, error) {
	p := c.profile()
	other := otelred.Semconv
	if p == otelred.Semconv {
		other = otelred.Classic
	}
	var vs []sdkmetric.View
	for _, p := range []otelred.Profile{p, other} {
		var (
			v   []sdkmetric.View
			err error
		)
		if c.Histogram == histogramNative {
			v, err = views.Exponential(p, c.Native.maxSize(), c.Native.maxScale())
		} else {
			b, berr := c.boundaries(p)
			if berr != nil {
				return nil, berr
			}
			v, err = views.RED(p, b)
		}
		if err != nil {
			return nil, err
		}
		vs = append(vs, v...)
	}
	return vs, nil
}

// cardinalityLimit returns CardinalityLimit with the default applied.
func (c Config) cardinalityLimit() int {
	if c.CardinalityLimit == 0 {
		return otelred.DefaultCardinalityLimit
	}
	return c.CardinalityLimit
}

// sdkDefaultCardinalityLimit is the SDK's own default per-instrument limit.
const sdkDefaultCardinalityLimit = 2000

// sdkCardinalityLimit returns the per-instrument limit Setup gives the
// SDK for otelred's limit n: room for otelred's n attribute sets, its two
// overflow series (one for failures) and the SDK's own overflow series,
// which the SDK counts within its limit; and never below the SDK's
// default, which the instruments of other libraries keep.
func sdkCardinalityLimit(n int) int {
	return max(n+3, sdkDefaultCardinalityLimit)
}
