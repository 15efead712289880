package exporter_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

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

// TestDebugPageOnTheMetricsListener checks that a Provider's standalone
// Prometheus listener serves the RED page at /debug/red beside the
// metrics, reading the same instruments, while an Exporter's serves the
// metrics alone, and that the metrics path cannot take the page's place.
func TestDebugPageOnTheMetricsListener(t *testing.T) {
	clearEnv(t)
	p := setup(t, exporter.Config{ServiceName: "debug-test", Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0", Path: "/internal/metrics"}})
	h := app(t, p, otelred.Semconv)
	for range 2 {
		serve(t.Context(), h, "/users/7")
	}
	base := "http://" + p.Addr().String()

	code, page := get(t, base+"/debug/red")
	if code != http.StatusOK || !strings.Contains(page, "<html") {
		t.Errorf("GET /debug/red on the metrics listener = %d, want the page:\n%.300s", code, page)
	}
	var feed struct {
		Service  string
		Sections []struct{ Rows []struct{ Name string } }
	}
	if code, b := get(t, base+"/debug/red?format=json"); code != http.StatusOK || json.Unmarshal([]byte(b), &feed) != nil ||
		feed.Service != "debug-test" || len(feed.Sections) == 0 || len(feed.Sections[0].Rows) != 1 || feed.Sections[0].Rows[0].Name != "/users/{id}" {
		t.Errorf("GET /debug/red?format=json on the metrics listener = %d, %+v; want service debug-test and /users/{id}", code, feed)
	}
	if code, b := get(t, base+"/internal/metrics"); code != http.StatusOK || !strings.Contains(b, `http_route="/users/{id}"`) {
		t.Errorf("GET /internal/metrics on the metrics listener = %d:\n%.300s", code, b)
	}
	if code, _ := get(t, base+"/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics, not the configured path, = %d, want 404", code)
	}

	// An Exporter has no page to serve: its listener serves the metrics.
	e, err := exporter.New(t.Context(), exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.Readers()[0]))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = e.Shutdown(context.Background())
	})
	if code, _ := get(t, "http://"+e.Addr().String()+"/debug/red"); code != http.StatusNotFound {
		t.Errorf("GET /debug/red on an Exporter's listener = %d, want 404", code)
	}
	if code, _ := get(t, "http://"+e.Addr().String()+"/metrics"); code != http.StatusOK {
		t.Errorf("GET /metrics on an Exporter's listener = %d, want 200", code)
	}

	err = exporter.Config{Prometheus: exporter.Prometheus{ListenAddr: "127.0.0.1:0", Path: "/debug/red"}}.Validate()
	checkErr(t, err, []string{"Prometheus.Path", `"/debug/red"`, "RED page"}, nil)
	if err := (exporter.Config{Prometheus: exporter.Prometheus{Path: "/debug/red"}}).Validate(); err != nil {
		t.Errorf("Validate of the page's path without a listener: %v", err)
	}
}
