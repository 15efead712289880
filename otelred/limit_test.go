package otelred_test

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// limitedProvider is a MeterProvider that reports a cardinality limit, as
// exporter.Setup's Provider does.
type limitedProvider struct {
	metric.MeterProvider
	limit int
}

func (p limitedProvider) CardinalityLimit() int { return p.limit }

// TestCardinalityLimitFromTheProvider: with no WithCardinalityLimit,
// otelred takes the provider's limit (a zero one means the default); an
// option wins over it.
func TestCardinalityLimitFromTheProvider(t *testing.T) {
	for _, tc := range []struct {
		name     string
		provider int
		opts     []otelred.Option
		want     map[string]uint64
	}{
		{"the provider's limit of 2 applies", 2, nil, map[string]uint64{
			series("GET", "/r0", 200, ""):                   1,
			series("GET", "/r1", 200, ""):                   1,
			"http.route=overflow,otel.metric.overflow=true": 2,
		}},
		{"WithCardinalityLimit wins over the provider's", 2, []otelred.Option{otelred.WithCardinalityLimit(3)}, map[string]uint64{
			series("GET", "/r0", 200, ""):                   1,
			series("GET", "/r1", 200, ""):                   1,
			series("GET", "/r2", 200, ""):                   1,
			"http.route=overflow,otel.metric.overflow=true": 1,
		}},
		{"a provider's zero limit means the default", 0, nil, map[string]uint64{
			series("GET", "/r0", 200, ""): 1,
			series("GET", "/r1", 200, ""): 1,
			series("GET", "/r2", 200, ""): 1,
			series("GET", "/r3", 200, ""): 1,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, mw := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (func(http.Handler) http.Handler, error) {
				return otelred.New(append([]otelred.Option{otelred.WithMeterProvider(limitedProvider{mp, tc.provider})}, tc.opts...)...)
			})
			h := &harness{Reader: r, t: t, mw: mw}
			mux := http.NewServeMux()
			for _, p := range []string{"/r0", "/r1", "/r2", "/r3"} {
				mux.HandleFunc("GET "+p, func(http.ResponseWriter, *http.Request) {})
			}
			s := h.server(mux)
			for _, p := range []string{"/r0", "/r1", "/r2", "/r3"} {
				h.do(s, "GET", p)
			}
			wantCounts(t, h.counts(duration), tc.want)
		})
	}
}
