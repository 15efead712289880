package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// prometheusAccept is the Accept header Prometheus 2.42 scrapes with: it
// asks for OpenMetrics first, so exemplars reach it.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

var traceIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// scrapeAs gets the demo's /metrics with an Accept header, and returns the
// Content-Type and the body.
func scrapeAs(t *testing.T, c *http.Client, d *demo, accept string) (string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.url()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	if resp.Header.Get(traceIDHeader) != "" {
		t.Errorf("the scrape was traced: %s %s", traceIDHeader, resp.Header.Get(traceIDHeader))
	}
	return resp.Header.Get("Content-Type"), string(b)
}

// exemplarOn matches a bucket line of metric, whose labels include
// labels (a regular expression), that carries an exemplar of trace id.
func exemplarOn(metric, labels, id string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(metric) + `_bucket\{[^}]*` + labels + `[^}]*\} \S+ # \{[^}]*trace_id="` + id + `"[^}]*\} \S+`)
}

// TestTracingPutsTraceIDsOnTheHistograms runs the demo with -tracing:
// POST /orders answers with the trace id of its span, and the OpenMetrics
// scrape shows it as the exemplar of a bucket of the server's, the
// client's and the operation's duration histograms, each counted once.
func TestTracingPutsTraceIDsOnTheHistograms(t *testing.T) {
	for _, naming := range []string{"semconv", "classic"} {
		t.Run(naming, func(t *testing.T) {
			d := startDemo(t, options{naming: naming, tracing: true})
			c := newClient(t)
			resp, err := c.Post(d.url()+"/orders", "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id := resp.Header.Get(traceIDHeader)
			if resp.StatusCode != http.StatusCreated || !traceIDRE.MatchString(id) {
				t.Fatalf("POST /orders: %s, %s %q; want 201 with a trace id", resp.Status, traceIDHeader, id)
			}
			status, _ := get(t, c, d.url()+"/hello/ada")
			if status != http.StatusOK {
				t.Fatalf("GET /hello/ada: %d", status)
			}

			ct, body := scrapeAs(t, c, d, prometheusAccept)
			if !strings.HasPrefix(ct, "application/openmetrics-text") {
				t.Fatalf("Prometheus's Accept header got %q, want OpenMetrics", ct)
			}
			route, operation := `http_route="/orders"`, `operation_name="orders\.process"`
			server, client := "http_server_request_duration_seconds", "http_client_request_duration_seconds"
			if naming == "classic" {
				route, operation = `path="/orders"`, `operation="orders\.process"`
				server = "http_request_duration_seconds"
			}
			for _, tc := range []struct{ metric, labels string }{
				{server, route},
				{client, `,`}, // any bucket
				{"operation_duration_seconds", operation},
			} {
				if !exemplarOn(tc.metric, tc.labels, id).MatchString(body) {
					t.Errorf("no %s bucket {%s} carries the exemplar of trace %s:\n%s", tc.metric, tc.labels, id, body)
				}
			}
			// otelhttp records no metrics of its own: one request, counted once.
			for _, s := range []string{"http_server_request_body_size", "http_client_request_body_size", "otel_scope_name"} {
				if strings.Contains(body, s) {
					t.Errorf("the scrape has %s: otelhttp records metrics too", s)
				}
			}
			count := `http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="201",http_route="/orders",network_protocol_version="1.1",url_scheme="http"} 1`
			if naming == "classic" {
				count = `http_requests_total{method="POST",path="/orders",service="otelred-test",status_code="201"} 1`
			}
			if !strings.Contains(body, count+"\n") && !strings.Contains(body, count+".0\n") {
				t.Errorf("the scrape lacks %s:\n%s", count, body)
			}

			// The text format has no exemplars, and is still served.
			ct, text := scrapeAs(t, c, d, "text/plain;version=0.0.4")
			if !strings.HasPrefix(ct, "text/plain") || strings.Contains(text, "trace_id") {
				t.Errorf("the text format: %s, with trace ids %v", ct, strings.Contains(text, "trace_id"))
			}
		})
	}

	t.Run("without -tracing there are none", func(t *testing.T) {
		d := startDemo(t, options{})
		c := newClient(t)
		resp, err := c.Post(d.url()+"/orders", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if id := resp.Header.Get(traceIDHeader); resp.StatusCode != http.StatusCreated || id != "" {
			t.Errorf("POST /orders: %s, %s %q; want 201 and no trace id", resp.Status, traceIDHeader, id)
		}
		if _, body := scrapeAs(t, c, d, prometheusAccept); strings.Contains(body, "trace_id") {
			t.Errorf("exemplars without -tracing:\n%s", body)
		}
	})
}

// TestFailedDependency points POST /orders at a port where nothing
// listens: it answers 502, the client records the transport failure with
// no status, the server the 502, and no operation runs.
func TestFailedDependency(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	u := closed.URL + dependencyPath
	port := strconv.Itoa(closed.Listener.Addr().(*net.TCPAddr).Port)
	closed.Close()

	d := startDemo(t, options{dependency: u})
	c := newClient(t)
	for range 2 {
		if status, body := post(t, c, d.url()+"/orders"); status != http.StatusBadGateway || !strings.Contains(body, "dependency failed") {
			t.Fatalf("POST /orders: %d %q, want 502", status, body)
		}
	}
	_, body := get(t, c, d.url()+"/metrics")
	for _, s := range []string{
		`http_client_request_duration_seconds_count{error_type="connection_refused",http_request_method="GET",server_address="127.0.0.1",server_port="` + port + `"} 2`,
		`http_server_request_duration_seconds_count{error_type="502",http_request_method="POST",http_response_status_code="502",http_route="/orders",network_protocol_version="1.1",url_scheme="http"} 2`,
	} {
		if !strings.Contains(body, s+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", s, body)
		}
	}
	if strings.Contains(body, "operation_duration_seconds_count") {
		t.Errorf("an order was processed after its dependency failed:\n%s", body)
	}
}
