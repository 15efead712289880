package exporter

import (
	"fmt"
	"os"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// envObjectives is the variable of [Config.ObjectivesFile], otelred's own.
const envObjectives = "OTELRED_OBJECTIVES"

// objectivesWithEnv fills ObjectivesFile from OTELRED_OBJECTIVES when c
// has no objectives of its own.
func (c *Config) objectivesWithEnv() {
	if c.ObjectivesFile == "" && c.Objectives == nil {
		c.ObjectivesFile = getenv(envObjectives)
	}
}

// readObjectives reads ObjectivesFile, if c names one, into Objectives,
// and checks them as [Config.Validate] checks Objectives. source is the
// field or variable the path came from, for errors. c must be valid.
func (c *Config) readObjectives(source string) error {
	if c.ObjectivesFile == "" {
		return nil
	}
	source = fmt.Sprintf("%s %q", source, c.ObjectivesFile)
	data, err := os.ReadFile(c.ObjectivesFile)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, source, err)
	}
	o, err := ParseObjectives(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, source, err)
	}
	c.Objectives = &o
	return c.checkObjectives(source)
}

// checkObjectives reports bad Objectives and, when Boundaries are given
// for explicit buckets, a latency threshold that is not one of them.
// source names where the objectives came from.
func (c Config) checkObjectives(source string) error {
	o := c.Objectives
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidConfig, source, err)
	}
	if c.Boundaries == nil || c.Histogram == histogramNative || views.Validate(c.Boundaries) != nil {
		return nil // nothing to check against, or Validate reports the Boundaries
	}
	if err := o.Check(c.Boundaries); err != nil {
		return fmt.Errorf("%w: Boundaries %v, with the objectives of %s: %w; or leave Boundaries nil, and Setup adds every threshold to the defaults",
			ErrInvalidConfig, c.Boundaries, source, err)
	}
	return nil
}

// boundaries returns the bucket boundaries of profile p's duration
// histograms: Boundaries, else p's [views.Default] with every latency
// threshold of Objectives added, else nil, which the views read as p's
// defaults. c must be valid, its objectives read.
func (c Config) boundaries(p otelred.Profile) ([]float64, error) {
	switch {
	case c.Boundaries != nil:
		return c.Boundaries, nil
	case c.Objectives != nil:
		return c.Objectives.Boundaries(views.Default(p))
	}
	return nil, nil
}
