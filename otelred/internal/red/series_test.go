package red

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// TestOverflowAttrs checks that the overflow's attributes are added after
// the caller's, and never written into the caller's array.
func TestOverflowAttrs(t *testing.T) {
	base := make([]attribute.KeyValue, 1, 4)
	base[0] = attribute.String("rpc.system.name", "grpc")
	a := OverflowAttrs("rpc.method", base...)
	b := OverflowAttrs("rpc.service", base...)
	for _, tc := range []struct {
		got  []attribute.KeyValue
		want string
	}{
		{a, "otel.metric.overflow=true,rpc.method=overflow,rpc.system.name=grpc"},
		{b, "otel.metric.overflow=true,rpc.service=overflow,rpc.system.name=grpc"},
		{OverflowAttrs("http.route"), "http.route=overflow,otel.metric.overflow=true"},
	} {
		set := attribute.NewSet(tc.got...)
		if got := set.Encoded(attribute.DefaultEncoder()); got != tc.want {
			t.Errorf("OverflowAttrs = %s, want %s", got, tc.want)
		}
	}
	if len(base) != 1 || base[:2][1] != (attribute.KeyValue{}) {
		t.Errorf("OverflowAttrs wrote into the caller's array: %v", base[:2])
	}
}
