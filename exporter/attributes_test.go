package exporter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// TestAttributesInTheScrape checks that a per-request attribute becomes a
// label of the scraped families in both profiles, translated as the
// exporter translates every name (tenant.id becomes tenant_id), with exact
// counts, and that the scrape still passes promtool.
func TestAttributesInTheScrape(t *testing.T) {
	for _, tc := range []struct {
		profile otelred.Profile
		acme    string // the sample of tenant acme's requests
		none    string // the sample of requests without a tenant
	}{
		{otelred.Semconv,
			`http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/orders",network_protocol_version="1.1",tenant_id="acme",url_scheme="http"}`,
			`http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/orders",network_protocol_version="1.1",url_scheme="http"}`},
		{otelred.Classic,
			`http_requests_total{method="GET",path="/orders",service="shop",status_code="200",tenant_id="acme"}`,
			`http_requests_total{method="GET",path="/orders",service="shop",status_code="200"}`},
	} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			clearEnv(t)
			p := setup(t, exporter.Config{ServiceName: "shop", Naming: tc.profile.String()})
			mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithProfile(tc.profile), otelred.WithAttribute("tenant.id"))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
				otelred.SetAttribute(w, "tenant.id", r.URL.Query().Get("tenant"))
			})
			h := mw(mux)
			for _, tenant := range []string{"acme", "acme", "acme", ""} {
				req := httptest.NewRequest("GET", "/orders?tenant="+tenant, nil)
				req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			_, body := scrape(t, p.Handler(), "")
			for prefix, want := range map[string]string{tc.acme: "3", tc.none: "1"} {
				if got, ok := sample(body, prefix+" "); !ok || got != want {
					t.Errorf("%s = %q (found %v), want %s in:\n%s", prefix, got, ok, want, body)
				}
			}
			testsupport.Promtool(t, body)
		})
	}
}
