package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
)

// chromiumBudget bounds one run of headless Chromium.
const chromiumBudget = 60 * time.Second

// chromium returns the path of Debian's chromium, and skips the test when
// it is missing, unless OTELRED_REQUIRE_CHROMIUM=1 says it must be there.
func chromium(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("OTELRED_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("chromium is not installed, and OTELRED_REQUIRE_CHROMIUM=1: %v", err)
		}
		t.Skip("chromium is not installed (apt-get install -y chromium); set OTELRED_REQUIRE_CHROMIUM=1 to fail instead")
	}
	return bin
}

// dumpDOM loads url in headless Chromium, lets its scripts run for 4 s of
// virtual time (which does not pass while a fetch is pending), and
// returns the DOM.
func dumpDOM(t *testing.T, bin, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumBudget)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--disable-extensions", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=4000", "--dump-dom", url)
	cmd.WaitDelay = 5 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", url, err, stderr.String())
	}
	return string(out)
}

// redFeed is the part of the RED page's feed the tests wait on.
type redFeed struct {
	Error    string
	Sections []struct {
		Title string
		Rows  []struct {
			Name       string
			Rate       *float64
			ErrorRatio *float64 `json:"error_ratio"`
		}
		History []struct{ Rate *float64 }
	}
}

// waitForFeed polls the page's feed until ready says it holds what the
// test needs, for at most 30 s.
func waitForFeed(t *testing.T, c *http.Client, url string, ready func(redFeed) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := get(t, c, url+"?format=json")
		var f redFeed
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Fatalf("decoding the feed: %v\n%s", err, body)
		}
		if ready(f) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed is not ready after 30 s: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var demoRoutes = []string{"/fail", "/hello/{name}", "/orders", "/slow"}

// TestDebugPageInBrowser runs the demo under load and loads /debug/red in
// headless Chromium: the rendered DOM must show every route with its
// rate, /fail at 100% errors, latencies in ms, the HTTP client and
// operation sections, and a drawn chart. Any break of the page (its
// script, its policy, its feed) leaves these out, and the test fails.
func TestDebugPageInBrowser(t *testing.T) {
	bin := chromium(t)
	for _, naming := range []string{"semconv", "classic"} {
		t.Run(naming, func(t *testing.T) {
			d := startDemo(t, options{naming: naming})
			ctx, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() { driveLoad(ctx, d.url(), loadWorkers) })
			t.Cleanup(func() { stop(); wg.Wait() })

			page := d.url() + debugPath
			c := newClient(t)
			waitForFeed(t, c, page, func(f redFeed) bool {
				if len(f.Sections) < 3 || len(f.Sections[0].History) < 2 {
					return false
				}
				seen := map[string]bool{}
				for _, r := range f.Sections[0].Rows {
					seen[r.Name] = r.Rate != nil && *r.Rate > 0 && (r.Name != "/fail" || r.ErrorRatio != nil)
				}
				for _, r := range demoRoutes {
					if !seen[r] {
						return false
					}
				}
				return true
			})

			dom := dumpDOM(t, bin, page)
			if !strings.Contains(dom, `<p id="error" hidden="">`) {
				t.Errorf("the page shows an error")
			}
			for _, s := range []string{"HTTP server", "HTTP client", "Operations"} {
				if !strings.Contains(dom, `data-section="`+s+`"`) {
					t.Errorf("no section %q in the DOM", s)
				}
			}
			cells := regexp.MustCompile(`<td[^>]*>([^<]*)</td>`)
			for _, route := range demoRoutes {
				m := regexp.MustCompile(`<tr data-row="` + regexp.QuoteMeta(route) + `">(.*?)</tr>`).FindStringSubmatch(dom)
				if m == nil {
					t.Errorf("no row for %s in the DOM", route)
					continue
				}
				var row []string
				for _, c := range cells.FindAllStringSubmatch(m[1], -1) {
					row = append(row, c[1])
				}
				if len(row) != 6 || row[0] != route || !regexp.MustCompile(`^[0-9.]+/s$`).MatchString(row[1]) ||
					!regexp.MustCompile(`^[0-9.]+%$`).MatchString(row[2]) ||
					!regexp.MustCompile(`^[0-9.]+ ms$`).MatchString(row[3]) || !regexp.MustCompile(`^[0-9.]+ ms$`).MatchString(row[4]) {
					t.Errorf("row %s = %q, want its name, a rate, an error percentage and two latencies", route, row)
					continue
				}
				if route == "/fail" && row[2] != "100.0%" {
					t.Errorf("/fail errors = %s, want 100.0%%", row[2])
				}
				if route == "/hello/{name}" && row[2] != "0.0%" {
					t.Errorf("/hello/{name} errors = %s, want 0.0%%", row[2])
				}
				// Classic counts requests in flight by route, Semconv by
				// method only.
				if _, err := strconv.Atoi(row[5]); (err == nil) != (naming == "classic") {
					t.Errorf("%s in flight = %q with %s", route, row[5], naming)
				}
			}
			// The first chart is the HTTP server's.
			drawn := regexp.MustCompile(`data-drawn="(\d+)"`).FindStringSubmatch(dom)
			if drawn == nil {
				t.Errorf("no chart was drawn")
			} else if n, _ := strconv.Atoi(drawn[1]); n < 6 {
				t.Errorf("the HTTP server chart drew %d points, want at least 2 per line", n)
			}
			if !regexp.MustCompile(`<path class="rate" d="M[0-9.]+,[0-9.]+ L`).MatchString(dom) {
				t.Errorf("no rate line in the chart")
			}
			if t.Failed() {
				t.Logf("the DOM:\n%s", dom)
			}
		})
	}
}

// TestDebugPageShowsNamesAsText serves routes and a service named with
// markup, through a router function that allows them, and checks in
// Chromium that the page shows them as text and that none became an
// element.
func TestDebugPageShowsNamesAsText(t *testing.T) {
	bin := chromium(t)
	t.Setenv("OTEL_METRICS_EXPORTER", "")
	const route = `/<script>document.title="pwned"</script><img src=x onerror=document.title="pwned">`
	p, err := exporter.Setup(context.Background(), exporter.Config{
		Exporters:   []string{"prometheus"},
		ServiceName: `<b id="svc">svc</b>`,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithFilter(func(r *http.Request) bool { return r.URL.Path != debugPath }),
		otelred.WithRoute(func(*http.Request) string { return route }))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+debugPath, p.DebugHandler())
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(mw(mux))
	t.Cleanup(srv.Close)
	c := newClient(t)
	get(t, c, srv.URL+"/anything")
	waitForFeed(t, c, srv.URL+debugPath, func(f redFeed) bool {
		return len(f.Sections) > 0 && len(f.Sections[0].Rows) == 1 && f.Sections[0].Rows[0].Name == route
	})

	dom := dumpDOM(t, bin, srv.URL+debugPath)
	if !strings.Contains(dom, `<td>/&lt;script&gt;document.title="pwned"&lt;/script&gt;&lt;img src=x onerror=document.title="pwned"&gt;</td>`) {
		t.Errorf("the route is not shown as text")
	}
	if !strings.Contains(dom, `&lt;b id="svc"&gt;svc&lt;/b&gt;`) {
		t.Errorf("the service is not shown as text")
	}
	for _, bad := range []string{`<script>document.title`, `<img`, `<b id="svc">`, "pwned</title>"} {
		if strings.Contains(dom, bad) {
			t.Errorf("the DOM has %q: a name became markup", bad)
		}
	}
	if t.Failed() {
		t.Logf("the DOM:\n%s", dom)
	}
}

// TestDebugPageNotesUnmatchedAndOverflow serves, in each profile, through
// exporter.Setup with a cardinality limit of 2, a request that matches no
// route and three routes, the last two past the limit, and checks in
// Chromium that the page says what the two rows that are not routes hold:
// the requests that matched no route ("(no route)" in Semconv, which
// records no http.route for them) and the overflow past the cardinality
// limit, with the options that raise it.
func TestDebugPageNotesUnmatchedAndOverflow(t *testing.T) {
	bin := chromium(t)
	t.Setenv("OTEL_METRICS_EXPORTER", "")
	for _, tc := range []struct {
		naming, none, shown string // the row of no route, as named and as shown
	}{
		{"semconv", "", "(no route)"},
		{"classic", otelred.Unmatched, otelred.Unmatched},
	} {
		t.Run(tc.naming, func(t *testing.T) {
			p, err := exporter.Setup(context.Background(), exporter.Config{
				Exporters: []string{"prometheus"}, ServiceName: "svc", Naming: tc.naming, CardinalityLimit: 2,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
			profile, _ := otelred.ParseProfile(tc.naming)
			mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithProfile(profile),
				otelred.WithFilter(func(r *http.Request) bool { return r.URL.Path != debugPath }))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("GET "+debugPath, p.DebugHandler())
			for _, r := range []string{"/a", "/b", "/c"} {
				mux.HandleFunc("GET "+r, func(http.ResponseWriter, *http.Request) {})
			}
			srv := httptest.NewServer(mw(mux))
			t.Cleanup(srv.Close)
			c := newClient(t)
			for _, path := range []string{"/nowhere", "/a", "/b", "/c"} {
				get(t, c, srv.URL+path)
			}
			waitForFeed(t, c, srv.URL+debugPath, func(f redFeed) bool {
				return len(f.Sections) > 0 && len(f.Sections[0].Rows) == 3
			})

			dom := dumpDOM(t, bin, srv.URL+debugPath)
			for _, want := range []struct{ row, name, note string }{
				{tc.none, tc.shown, "the requests that matched no route"},
				{otelred.Overflow, otelred.Overflow, "the overflow past otelred's cardinality limit: the attribute sets that did not fit, folded into one series; " +
					"raise the limit with otelred.WithCardinalityLimit, or exporter Config.CardinalityLimit (OTELRED_CARDINALITY_LIMIT)"},
			} {
				cell := `<tr data-row="` + want.row + `"><td title="` + strings.ReplaceAll(want.note, `"`, "&quot;") + `">` +
					want.name + `<small class="note"> — ` + want.note + `</small></td>`
				if !strings.Contains(dom, cell) {
					t.Errorf("no row %q shown as %q with its note; want %s", want.row, want.name, cell)
				}
			}
			if !strings.Contains(dom, `<tr data-row="/a"><td>/a</td>`) {
				t.Errorf("the row of /a is not shown plain")
			}
			if t.Failed() {
				t.Logf("the DOM:\n%s", dom)
			}
		})
	}
}
