package otelredgrpc_test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/rpcconv"

	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestSemconvRequirements checks the attributes of every data point of
// rpc.server.call.duration against the RPC semantic conventions of
// otelred.SemconvVersion: rpc.system.name is required; rpc.method and
// rpc.response.status_code are conditionally required (when available,
// which they always are to an interceptor); error.type is conditionally
// required exactly when the call failed. rpc.server.active_calls has no
// convention; it carries the required rpc.system.name too.
func TestSemconvRequirements(t *testing.T) {
	if otelredgrpc.DurationName != (rpcconv.ServerCallDuration{}).Name() {
		t.Errorf("DurationName = %q, the conventions name it %q", otelredgrpc.DurationName, rpcconv.ServerCallDuration{}.Name())
	}
	h := newHarness(t)
	ts := h.serve(nil)
	for _, v := range []string{"ok", "not_found", "plain", "code42"} {
		ts.echoCall(v)
	}
	ts.count(2)
	ts.count(-1)

	failed := func(s attribute.Set) bool {
		v, _ := s.Value(semconv.RPCResponseStatusCodeKey)
		return v.AsString() != "OK"
	}
	n := 0
	for _, sm := range h.collect().ScopeMetrics {
		for _, m := range sm.Metrics {
			var sets []attribute.Set
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					sets = append(sets, dp.Attributes)
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					sets = append(sets, dp.Attributes)
				}
			}
			for _, s := range sets {
				at := attrs(s)
				if v, _ := s.Value(semconv.RPCSystemNameKey); v.AsString() != "grpc" {
					t.Errorf("%s{%s}: rpc.system.name = %q, want grpc", m.Name, at, v.AsString())
				}
				if !s.HasValue(semconv.RPCMethodKey) {
					t.Errorf("%s{%s}: rpc.method missing", m.Name, at)
				}
				if m.Name != otelredgrpc.DurationName {
					continue
				}
				n++
				if !s.HasValue(semconv.RPCResponseStatusCodeKey) {
					t.Errorf("%s{%s}: rpc.response.status_code missing", m.Name, at)
				}
				if s.HasValue(semconv.ErrorTypeKey) != failed(s) {
					t.Errorf("%s{%s}: error.type present = %v, want %v", m.Name, at, s.HasValue(semconv.ErrorTypeKey), failed(s))
				}
			}
		}
	}
	if n != 6 {
		t.Errorf("%d data points of %s, want 6", n, otelredgrpc.DurationName)
	}
}
