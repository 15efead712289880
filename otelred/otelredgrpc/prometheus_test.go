package otelredgrpc_test

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// TestPrometheusNames pins the names and labels a scrape shows through the
// OpenTelemetry Prometheus exporter's default translation.
func TestPrometheusNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	s, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	callUnary(ctx, s, echoMethod, nil)
	callUnary(ctx, s, echoMethod, status.Error(codes.NotFound, "no"))

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range families {
		got[f.GetName()+" "+f.GetType().String()] = nil
		for _, m := range f.GetMetric() {
			got[f.GetName()+" "+f.GetType().String()] = append(got[f.GetName()+" "+f.GetType().String()], labels(m))
		}
	}
	want := map[string][]string{
		"rpc_server_call_duration_seconds HISTOGRAM": {
			"error_type=NOT_FOUND,rpc_method=otelred.test.Echo/Echo,rpc_response_status_code=NOT_FOUND,rpc_system_name=grpc",
			"rpc_method=otelred.test.Echo/Echo,rpc_response_status_code=OK,rpc_system_name=grpc",
		},
		"rpc_server_active_calls GAUGE": {"rpc_method=otelred.test.Echo/Echo,rpc_system_name=grpc"},
	}
	for k := range got {
		slices.Sort(got[k])
	}
	wantCounts(t, "families", got, want)
}

func labels(m *dto.Metric) string {
	var s string
	for i, l := range m.GetLabel() {
		if i > 0 {
			s += ","
		}
		s += l.GetName() + "=" + l.GetValue()
	}
	return s
}
