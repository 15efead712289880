package otelred

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelred/otelred/otelred/internal/red"
)

// TestOverflowAttrs checks the attribute set of what does not fit in a
// cache: the key that names a series is Overflow, the value otelredgrpc
// records too, and otel.metric.overflow is set, with the service where
// the profile labels it.
func TestOverflowAttrs(t *testing.T) {
	if Overflow != red.Overflow {
		t.Fatalf("Overflow = %q, but the series are built with %q", Overflow, red.Overflow)
	}
	for _, tc := range []struct {
		name string
		l    labeler
		key  attribute.Key
		want string
	}{
		{"a Semconv route", labeler{profiles[Semconv].server.names, "checkout"}, "http.route", "http.route=overflow,otel.metric.overflow=true"},
		{"a Classic route has the service", labeler{profiles[Classic].server.names, "checkout"}, "path", "otel.metric.overflow=true,path=overflow,service=checkout"},
		{"a Classic operation has the service", labeler{profiles[Classic].operation.names, "jobs"}, "operation", "operation=overflow,otel.metric.overflow=true,service=jobs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := attribute.NewSet(tc.l.overflowAttrs(tc.key)...)
			if got := set.Encoded(attribute.DefaultEncoder()); got != tc.want {
				t.Errorf("overflowAttrs(%s) = %s, want %s", tc.key, got, tc.want)
			}
		})
	}
}
