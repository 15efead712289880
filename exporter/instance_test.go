package exporter_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
)

// instanceID returns the service.instance.id of p's resource.
func instanceID(t *testing.T, p *exporter.Provider) string {
	t.Helper()
	v, ok := p.Resource.Set().Value("service.instance.id")
	if !ok {
		t.Fatalf("the resource has no service.instance.id: %v", p.Resource)
	}
	return v.AsString()
}

// TestServiceInstanceID checks the resource's service.instance.id: by
// default a random version 4 UUID, a new one at every Setup (so that
// replicas pushing OTLP, or two providers of one process, are told
// apart), and the user's own from OTEL_RESOURCE_ATTRIBUTES or
// Config.ResourceAttributes, which wins over the environment.
func TestServiceInstanceID(t *testing.T) {
	t.Run("by default, a random UUID, new at every Setup", func(t *testing.T) {
		clearEnv(t)
		seen := map[string]bool{}
		for range 3 {
			p := setup(t, exporter.Config{Exporters: []string{"none"}, ServiceName: "shop"})
			id := instanceID(t, p)
			u, err := uuid.Parse(id)
			if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
				t.Errorf("service.instance.id %q is not a version 4 UUID in canonical form (%v, version %v, variant %v)", id, err, u.Version(), u.Variant())
			}
			if seen[id] {
				t.Errorf("service.instance.id %q drawn twice", id)
			}
			seen[id] = true
		}
	})
	for _, tc := range []struct {
		name string
		env  string
		cfg  map[string]string
		want string
	}{
		{"OTEL_RESOURCE_ATTRIBUTES sets it", "service.instance.id=web-7f9c-x2,team=pay", nil, "web-7f9c-x2"},
		{"Config.ResourceAttributes sets it", "", map[string]string{"service.instance.id": "web-0"}, "web-0"},
		{"Config.ResourceAttributes wins over the environment", "service.instance.id=from-env", map[string]string{"service.instance.id": "from-config"}, "from-config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", tc.env)
			p := setup(t, exporter.Config{Exporters: []string{"none"}, ServiceName: "shop", ResourceAttributes: tc.cfg})
			if got := instanceID(t, p); got != tc.want {
				t.Errorf("service.instance.id = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPushCarriesTheInstanceID checks that what an OTLP collector receives
// names the instance: the pushed resource has the provider's
// service.instance.id, beside its service.name.
func TestPushCarriesTheInstanceID(t *testing.T) {
	for _, protocol := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(protocol, func(t *testing.T) {
			clearEnv(t)
			rcv := otlptest.Start(t, protocol)
			p := setup(t, exporter.Config{
				Exporters:   []string{"otlp"},
				ServiceName: "shop",
				OTLP:        exporter.OTLP{Protocol: protocol, Endpoint: rcv.Endpoint(), Interval: time.Hour},
			})
			counter, err := p.Meter("test").Int64Counter("jobs")
			if err != nil {
				t.Fatal(err)
			}
			counter.Add(context.Background(), 1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.ForceFlush(ctx); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}
			res := rcv.Resource()
			if want := instanceID(t, p); res["service.instance.id"] != want || res["service.name"] != "shop" {
				t.Errorf("pushed resource %v, want service.instance.id %q and service.name %q", res, want, "shop")
			}
		})
	}
}
