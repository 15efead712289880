package otelredgrpc

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"

	"github.com/otelred/otelred/otelred"
)

// An Option configures [NewServer]. Options are applied in order; a later
// one overrides an earlier one of the same kind. An invalid option makes
// NewServer return an error that wraps [otelred.ErrInvalidOption] and names
// the option.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

type config struct {
	provider metric.MeterProvider
	limit    int
	// failures lists the codes that are failures; nil means every code
	// but OK.
	failures []codes.Code
	// methods lists the recognised methods, without the leading "/"; nil
	// means the interceptors decide (see the package documentation).
	methods []string
}

func newConfig(opts []Option) (config, error) {
	c := config{limit: otelred.DefaultCardinalityLimit}
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("%w: nil otelredgrpc.Option", otelred.ErrInvalidOption))
			continue
		}
		if err := o.apply(&c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	if c.provider == nil {
		c.provider = otel.GetMeterProvider()
	}
	return c, nil
}

// WithMeterProvider sets the MeterProvider that creates the instruments,
// so they join an OpenTelemetry setup the service already has.
//
// By default, the global MeterProvider ([otel.GetMeterProvider]) is used;
// set the global provider before calling NewServer, or pass it here.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) error {
		if mp == nil {
			return fmt.Errorf("%w: otelredgrpc.WithMeterProvider(nil)", otelred.ErrInvalidOption)
		}
		c.provider = mp
		return nil
	})
}

// WithCardinalityLimit sets how many distinct attribute sets the duration
// histogram records, and how many methods are recorded by name (the
// methods of [WithMethods] always are). Calls
// past the limit are recorded in overflow series, whose rpc.method is
// [otelred.Overflow] and which carry otel.metric.overflow=true; they keep
// their status code and error.type, so error ratios stay right. Nothing is
// dropped. The limit should stay below the SDK's own (2000 per instrument
// by default).
//
// By default, the limit is [otelred.DefaultCardinalityLimit].
func WithCardinalityLimit(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: otelredgrpc.WithCardinalityLimit(%d): must be at least 1", otelred.ErrInvalidOption, n)
		}
		c.limit = n
		return nil
	})
}

// WithErrorCodes sets the status codes that are failures, and so carry
// error.type; calls that end with any other code are successes. OK cannot
// be listed, and a panicking handler is always a failure. To follow the
// OpenTelemetry semantic conventions for gRPC, which count as server
// errors only the codes that point at the server rather than the request:
//
//	otelredgrpc.WithErrorCodes(codes.Unknown, codes.DeadlineExceeded,
//		codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss)
//
// Codes outside the seventeen gRPC defines are always failures.
//
// By default, every code but OK is a failure.
func WithErrorCodes(cs ...codes.Code) Option {
	return optionFunc(func(c *config) error {
		if len(cs) == 0 {
			return fmt.Errorf("%w: otelredgrpc.WithErrorCodes(): no code", otelred.ErrInvalidOption)
		}
		for _, code := range cs {
			if code == codes.OK || uint64(code) >= outcomeOther {
				return fmt.Errorf("%w: otelredgrpc.WithErrorCodes: %v is not a failure code (want Canceled to Unauthenticated)", otelred.ErrInvalidOption, code)
			}
		}
		c.failures = append([]codes.Code(nil), cs...)
		return nil
	})
}

// WithMethods lists the methods the server recognises, as full method
// names ("/pkg.Service/Method" or "pkg.Service/Method"; the generated
// code's Service_Method_FullMethodName constants fit). Calls of listed
// methods are recorded by name whatever their status; calls of any other
// method are recorded as [OtherMethod]. A server with an
// UnknownServiceHandler that answers methods it does not know with
// anything but UNIMPLEMENTED (a proxy, say) should list its methods, so
// that a client cannot fill the cardinality limit with invented names.
//
// By default, every method grpc-go registered is recorded by name, and
// calls to methods it did not are recorded as OtherMethod (see the package
// documentation for how the interceptors tell them apart).
func WithMethods(methods ...string) Option {
	return optionFunc(func(c *config) error {
		if len(methods) == 0 {
			return fmt.Errorf("%w: otelredgrpc.WithMethods(): no method", otelred.ErrInvalidOption)
		}
		c.methods = make([]string, len(methods))
		for i, m := range methods {
			name := strings.TrimPrefix(m, "/")
			svc, meth, ok := strings.Cut(name, "/")
			if !ok || svc == "" || meth == "" || strings.Contains(meth, "/") {
				return fmt.Errorf("%w: otelredgrpc.WithMethods: %q is not a full method name like \"/pkg.Service/Method\"", otelred.ErrInvalidOption, m)
			}
			c.methods[i] = name
		}
		return nil
	})
}
