package exporter_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
)

// TestDebugHandler checks when the Provider has a RED page, and that the
// page reads the same instruments as the exporters without taking
// anything from them.
func TestDebugHandler(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  exporter.Config
		want bool
	}{
		{"with the Prometheus exporter, the page reads its reader", exporter.Config{Exporters: []string{"prometheus"}}, true},
		{"with no exporter, there is no page by default", exporter.Config{Exporters: []string{"none"}}, false},
		{"with no exporter and DebugPage, the page has a reader of its own", exporter.Config{Exporters: []string{"none"}, DebugPage: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			tc.cfg.ServiceName = "debug-test"
			p := setup(t, tc.cfg)
			page := p.DebugHandler()
			if (page != nil) != tc.want {
				t.Fatalf("DebugHandler() = %v, want a handler: %v", page, tc.want)
			}
			if page == nil {
				return
			}
			mw, err := otelred.New(otelred.WithMeterProvider(p))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /items/{id}", func(http.ResponseWriter, *http.Request) {})
			mux.Handle("GET /debug/red", page)
			if h := p.Handler(); h != nil {
				mux.Handle("GET /metrics", h)
			}
			srv := httptest.NewServer(mw(mux))
			t.Cleanup(srv.Close)
			c := srv.Client()
			for range 3 {
				body(t, c, srv.URL+"/items/1")
			}

			var feed struct {
				Service  string
				Sections []struct {
					Title string
					Rows  []struct{ Name string }
				}
			}
			if err := json.Unmarshal([]byte(body(t, c, srv.URL+"/debug/red?format=json")), &feed); err != nil {
				t.Fatal(err)
			}
			if feed.Service != "debug-test" || len(feed.Sections) == 0 || feed.Sections[0].Title != "HTTP server" ||
				len(feed.Sections[0].Rows) != 1 || feed.Sections[0].Rows[0].Name != "/items/{id}" {
				t.Errorf("feed = %+v, want service debug-test and the HTTP server's /items/{id}", feed)
			}
			if p.Handler() != nil {
				// Collecting for the page left the scrape whole.
				scrape := body(t, c, srv.URL+"/metrics")
				var found bool
				for _, line := range strings.Split(scrape, "\n") {
					if strings.HasPrefix(line, "http_server_request_duration_seconds_count{") && strings.Contains(line, `http_route="/items/{id}"`) {
						found = true
						if !strings.HasSuffix(line, "} 3") {
							t.Errorf("scrape: %s, want a count of 3", line)
						}
					}
				}
				if !found {
					t.Errorf("the scrape has no count of /items/{id}:\n%s", scrape)
				}
			}
		})
	}
}

func body(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
