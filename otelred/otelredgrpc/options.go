package otelredgrpc

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/red"
)

// An Option configures [NewServer]: one of this package's (WithMethods,
// WithErrorCodes), or one of otelred's that every instrumentation shares,
// [otelred.WithMeterProvider] and [otelred.WithCardinalityLimit]. Options are
// applied in order; a later one overrides an earlier one of the same kind.
// An invalid option, or another of otelred's, makes NewServer return an
// error that wraps [otelred.ErrInvalidOption] and names the option.
//
// otelred.WithCardinalityLimit bounds the attribute sets of the duration
// histogram, and the methods recorded by name (the methods of
// [WithMethods] always are). Calls past the limit are recorded in
// overflow series, whose rpc.method is [otelred.Overflow] and which carry
// otel.metric.overflow=true; they keep their status code and error.type,
// so error ratios stay right.
type Option interface {
	Adapt(*red.Settings) error
}

// optionFunc is an option of this package.
type optionFunc func(*config) error

func (f optionFunc) Adapt(s *red.Settings) error { return f(s.Own.(*config)) }

type config struct {
	provider metric.MeterProvider
	global   bool // provider is the global one: no otelred.WithMeterProvider was given
	limit    int
	// failures lists the codes that are failures; nil means every code
	// but OK.
	failures []codes.Code
	// methods lists the recognised methods, without the leading "/"; nil
	// means the interceptors decide (see the package documentation).
	methods []string
}

func newConfig(opts []Option) (config, error) {
	var c config
	s := red.Settings{Ctor: "otelredgrpc.NewServer", Limit: otelred.DefaultCardinalityLimit, Own: &c}
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, fmt.Errorf("%w: nil otelredgrpc.Option", otelred.ErrInvalidOption))
			continue
		}
		if err := o.Adapt(&s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, err
	}
	c.provider, c.limit = s.Provider, s.Limit
	if c.provider == nil {
		c.provider, c.global = otel.GetMeterProvider(), true
	}
	return c, nil
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
// that a client cannot fill the cardinality limit with invented names. A
// name that is not valid UTF-8, or longer than [otelred.MaxValueLength]
// bytes, is an error.
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
			if err := red.CheckValue(name); err != nil {
				return fmt.Errorf("%w: otelredgrpc.WithMethods: %v", otelred.ErrInvalidOption, err)
			}
			c.methods[i] = name
		}
		return nil
	})
}
