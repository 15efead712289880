package otelred_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// TestTwoServersOnOneProvider serves a public and an admin port, each
// through its own otelred middleware, on one exporter.Setup provider, in
// each profile, and scrapes /metrics after each of two waves of traffic:
// both ports answer GET /users/{id}, so both middlewares record that
// attribute set, and the scrape holds the exact sum of both. Semconv's
// histogram is one synchronous instrument; Classic's counters and
// in-flight gauge are asynchronous, each middleware observing its own
// counts in its own callback, which the SDK adds up.
func TestTwoServersOnOneProvider(t *testing.T) {
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(profile.String(), func(t *testing.T) {
			p, err := exporter.Setup(context.Background(), exporter.Config{
				Exporters: []string{"prometheus"}, ServiceName: "shop", Naming: profile.String(),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Shutdown(context.Background()) })
			serve := func(mux *http.ServeMux) *httptest.Server {
				red, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithProfile(profile))
				if err != nil {
					t.Fatal(err)
				}
				s := httptest.NewServer(red(mux))
				t.Cleanup(s.Close)
				return s
			}
			ok := func(http.ResponseWriter, *http.Request) {}
			public := http.NewServeMux()
			public.HandleFunc("GET /users/{id}", ok)
			public.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
			admin := http.NewServeMux()
			admin.HandleFunc("GET /users/{id}", ok)
			admin.HandleFunc("GET /admin/stats", ok)
			admin.Handle("GET /metrics", p.Handler())
			pub, adm := serve(public), serve(admin)

			// The label sets of each route, as each profile spells them.
			users, fail, stats := `http_request_method="GET",http_response_status_code="200",http_route="/users/{id}",network_protocol_version="1.1",url_scheme="http"`,
				`error_type="500",http_request_method="GET",http_response_status_code="500",http_route="/fail",network_protocol_version="1.1",url_scheme="http"`,
				`http_request_method="GET",http_response_status_code="200",http_route="/admin/stats",network_protocol_version="1.1",url_scheme="http"`
			if profile == otelred.Classic {
				users, fail, stats = `method="GET",path="/users/{id}",service="shop",status_code="200"`,
					`method="GET",path="/fail",service="shop",status_code="500"`,
					`method="GET",path="/admin/stats",service="shop",status_code="200"`
			}
			for wave := uint64(1); wave <= 2; wave++ {
				for path, n := range map[string]int{"/users/1": 5, "/fail": 2} {
					for range n {
						get(t, pub.URL+path)
					}
				}
				for path, n := range map[string]int{"/users/2": 3, "/admin/stats": 4} {
					for range n {
						get(t, adm.URL+path)
					}
				}
				body := get(t, adm.URL+"/metrics")
				testsupport.Promtool(t, body)
				families := parse(t, body)
				want := map[string]uint64{users: 8 * wave, fail: 2 * wave, stats: 4 * wave}
				duration, active := "http_server_request_duration_seconds", "http_server_active_requests"
				if profile == otelred.Classic {
					duration, active = "http_request_duration_seconds", "http_requests_active"
					checkCounter(t, families, "http_requests_total", want)
					checkCounter(t, families, "http_errors_total", map[string]uint64{fail: 2 * wave})
				}
				got := map[string]uint64{}
				for _, m := range families[duration].GetMetric() {
					got[labels(m)] = m.GetHistogram().GetSampleCount()
				}
				if !maps.Equal(got, want) {
					t.Errorf("wave %d: %s:\n got  %v\n want %v", wave, duration, got, want)
				}
				for _, m := range families[active].GetMetric() {
					if v := m.GetGauge().GetValue(); v != 0 {
						t.Errorf("wave %d: %s{%s} = %v after every request, want 0", wave, active, labels(m), v)
					}
				}
				if len(families[active].GetMetric()) == 0 {
					t.Errorf("wave %d: no %s", wave, active)
				}
			}
		})
	}
}
