package otelred

import (
	"fmt"
	"reflect"

	"github.com/otelred/otelred/otelred/internal/red"
)

// noProfile marks a config whose profile no option has set.
const noProfile Profile = 255

// Adapt applies f to s. It may set the MeterProvider and the cardinality
// limit, and nothing else: an adapter has its own names and attributes, so
// no route, error status, host, profile or service applies to it.
func (f optionFunc) Adapt(s *red.Settings) error {
	if s == nil {
		return fmt.Errorf("%w: Adapt(nil)", ErrInvalidOption)
	}
	c := config{provider: s.Provider, limit: s.Limit, profile: noProfile}
	if err := f(&c); err != nil {
		return err
	}
	provider, limit := c.provider, c.limit
	name := ""
	switch {
	case c.profile != noProfile:
		name = "WithProfile"
	case c.service != "":
		name = "WithService"
	}
	for i, n := range usesNames {
		if c.used&(uses(1)<<i) != 0 {
			name = n
		}
	}
	c.provider, c.limit, c.profile = nil, 0, 0
	if name != "" || !reflect.ValueOf(c).IsZero() { // it set something else
		if name == "" {
			name = "the option"
		}
		return fmt.Errorf("%w: %s does not apply to %s; only WithMeterProvider and WithCardinalityLimit do", ErrInvalidOption, name, s.Ctor)
	}
	s.Provider, s.Limit = provider, limit
	return nil
}
