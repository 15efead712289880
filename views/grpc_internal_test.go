package views

import (
	"testing"

	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestOtelredgrpcNames keeps the names views copies from otelredgrpc equal
// to otelredgrpc's own.
func TestOtelredgrpcNames(t *testing.T) {
	if otelredgrpcScope != otelredgrpc.ScopeName {
		t.Errorf("otelredgrpcScope = %q, want otelredgrpc.ScopeName %q", otelredgrpcScope, otelredgrpc.ScopeName)
	}
	if otelredgrpcDuration != otelredgrpc.DurationName {
		t.Errorf("otelredgrpcDuration = %q, want otelredgrpc.DurationName %q", otelredgrpcDuration, otelredgrpc.DurationName)
	}
}
