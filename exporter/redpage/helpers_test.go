package redpage

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// clock is a manual time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// counting is a Collector that counts its collections.
type counting struct {
	Collector
	n int
}

func (c *counting) Collect(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	c.n++
	return c.Collector.Collect(ctx, rm)
}

// newTestHandler returns a Handler on reader r whose time is c's.
func newTestHandler(r Collector, c *clock, p otelred.Profile) *Handler {
	h := New(r, p)
	h.now = c.now
	return h
}

// The feed, decoded; null numbers are nil.
type (
	testFeed struct {
		Service  string        `json:"service"`
		Profile  string        `json:"profile"`
		Time     int64         `json:"time"`
		Window   *float64      `json:"window"`
		Error    string        `json:"error"`
		Sections []testSection `json:"sections"`
	}
	testSection struct {
		Title   string      `json:"title"`
		Key     string      `json:"key"`
		Total   testRow     `json:"total"`
		Rows    []testRow   `json:"rows"`
		History []testPoint `json:"history"`
	}
	testRow struct {
		Name       string   `json:"name"`
		Note       string   `json:"note"`
		Rate       *float64 `json:"rate"`
		ErrorRatio *float64 `json:"error_ratio"`
		P50        *float64 `json:"p50_ms"`
		P99        *float64 `json:"p99_ms"`
		InFlight   *int64   `json:"in_flight"`
	}
	testPoint struct {
		T          int64    `json:"t"`
		Rate       *float64 `json:"rate"`
		ErrorRatio *float64 `json:"error_ratio"`
		P99        *float64 `json:"p99_ms"`
	}
)

// feedOf asks h for its feed and decodes it.
func feedOf(t *testing.T, h *Handler) testFeed {
	t.Helper()
	var f testFeed
	if err := json.Unmarshal(h.Feed(context.Background()), &f); err != nil {
		t.Fatalf("decoding the feed: %v", err)
	}
	return f
}

func (f testFeed) section(t *testing.T, title string) testSection {
	t.Helper()
	for _, s := range f.Sections {
		if s.Title == title {
			return s
		}
	}
	t.Fatalf("the feed has no section %q: %+v", title, f.Sections)
	return testSection{}
}

func (s testSection) row(t *testing.T, name string) testRow {
	t.Helper()
	for _, r := range s.Rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("section %q has no row %q: %+v", s.Title, name, s.Rows)
	return testRow{}
}
