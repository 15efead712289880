package redpage

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// service is a real server instrumented by otelred with a profile, whose
// GET /call calls a peer through otelred's Transport inside an operation.
type service struct {
	url, peerHost string
	client        *http.Client
	handler       *Handler
	clock         *clock
}

func startService(t *testing.T, p otelred.Profile, route func(*http.Request) string) *service {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	common := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("svc")}

	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(peer.Close)
	peerHost := strings.TrimPrefix(peer.URL, "http://")
	host, _, _ := strings.Cut(peerHost, ":")
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	rt, err := otelred.NewTransport(base, append(common, otelred.WithHosts(host))...)
	if err != nil {
		t.Fatal(err)
	}
	ops, err := otelred.NewOperations(common...)
	if err != nil {
		t.Fatal(err)
	}
	outbound := &http.Client{Transport: rt, Timeout: 10 * time.Second}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("GET /call", func(w http.ResponseWriter, r *http.Request) {
		err := ops.Track(r.Context(), "call peer", func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, peer.URL, nil)
			resp, err := outbound.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		})
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	mux.HandleFunc("GET /op-fails", func(w http.ResponseWriter, r *http.Request) {
		_ = ops.Track(r.Context(), "call peer", func(context.Context) error { return errors.New("no") })
	})
	opts := common
	if route != nil {
		opts = append(opts, otelred.WithRoute(route))
	}
	mw, err := otelred.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(mux))
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)

	clk := newClock()
	return &service{
		url:      srv.URL,
		peerHost: peerHost,
		client:   &http.Client{Transport: tr, Timeout: 10 * time.Second},
		handler:  newTestHandler(reader, clk, p),
		clock:    clk,
	}
}

func (s *service) get(t *testing.T, path string, n int) {
	t.Helper()
	for range n {
		resp, err := s.client.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
}

// TestFeedOfTheMiddleware serves requests through otelred's middleware,
// Transport and Operations, with each profile, and checks the counts the
// feed derives from them, section by section.
func TestFeedOfTheMiddleware(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
	}{
		{"semconv", otelred.Semconv},
		{"classic", otelred.Classic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startService(t, tc.profile, nil)
			s.handler.Feed(context.Background())
			s.get(t, "/ok/1", 4)
			s.get(t, "/ok/2", 3)
			s.get(t, "/fail", 3)
			s.get(t, "/call", 2)
			s.get(t, "/op-fails", 2)
			s.clock.advance(2 * time.Second)

			f := feedOf(t, s.handler)
			server := f.section(t, "HTTP server")
			var names []string
			for _, r := range server.Rows {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, " "); got != "/call /fail /ok/{id} /op-fails" {
				t.Fatalf("rows = %q, want the four route templates", got)
			}
			near(t, "/ok/{id} rate", server.row(t, "/ok/{id}").Rate, 3.5)
			near(t, "/ok/{id} error ratio", server.row(t, "/ok/{id}").ErrorRatio, 0)
			near(t, "/fail rate", server.row(t, "/fail").Rate, 1.5)
			near(t, "/fail error ratio", server.row(t, "/fail").ErrorRatio, 1)
			near(t, "all rate", server.Total.Rate, 7)
			near(t, "all error ratio", server.Total.ErrorRatio, 3.0/14)
			if p := server.Total.P99; p == nil || *p <= 0 {
				t.Errorf("all p99 = %v, want a latency", deref(p))
			}
			inFlight(t, "all", server.Total.InFlight, 0, true)

			client := f.section(t, "HTTP client")
			if client.Key != string(tc.profile.ClientNames().ServerAddress) {
				t.Errorf("client key = %q, want %q", client.Key, tc.profile.ClientNames().ServerAddress)
			}
			if len(client.Rows) != 1 {
				t.Fatalf("client rows = %+v, want one peer", client.Rows)
			}
			// Semconv names the peer by server.address and server.port,
			// Classic by host alone.
			wantPeer := s.peerHost
			if tc.profile == otelred.Classic {
				wantPeer, _, _ = strings.Cut(s.peerHost, ":")
			}
			if client.Rows[0].Name != wantPeer {
				t.Errorf("peer = %q, want %q", client.Rows[0].Name, wantPeer)
			}
			near(t, "peer rate", client.Rows[0].Rate, 1)
			near(t, "peer error ratio", client.Rows[0].ErrorRatio, 0)

			ops := f.section(t, "Operations")
			op := ops.row(t, "call peer")
			near(t, "operation rate", op.Rate, 2)
			near(t, "operation error ratio", op.ErrorRatio, 0.5)
			inFlight(t, "operation", op.InFlight, 0, true)
		})
	}
}

// TestNamesAreEscaped feeds route templates and operation names made of
// markup through a router that allows them, and checks that neither the
// feed nor the page ever carries them as markup.
func TestNamesAreEscaped(t *testing.T) {
	const evil = `/<script>alert("red")</script>/<img src=x onerror=alert(1)>`
	s := startService(t, otelred.Semconv, func(*http.Request) string { return evil })
	s.handler.Feed(context.Background())
	s.get(t, "/fail", 2)
	s.clock.advance(time.Second)

	feed := string(s.handler.Feed(context.Background()))
	if strings.ContainsAny(feed, "<>") {
		t.Errorf("the feed has raw < or >: %s", feed)
	}
	if f := feedOf(t, s.handler); f.section(t, "HTTP server").Rows[0].Name != evil {
		t.Errorf("the feed does not decode to the route: %+v", f.Sections[0].Rows)
	}

	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/red", nil))
	page := rec.Body.String()
	if strings.Contains(page, "alert") || strings.Count(page, "<script") != 1 {
		t.Errorf("the page carries a name, or more than its own script")
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "script-src 'sha256-") {
		t.Errorf("Content-Security-Policy = %q, want scripts pinned by hash", rec.Header().Get("Content-Security-Policy"))
	}
}

// TestFeedNotesTheRowsThatAreNotRoutes serves, through otelred's
// middleware with a cardinality limit of 2, a request that matches no
// route and three routes, so that the last two overflow, and checks the
// rows and their notes in each profile: the requests without a route (a
// row named "" in Semconv, "unmatched" in Classic) and the overflow say
// what they hold, and the overflow's note names the options that raise
// the limit; a route's row has no note.
func TestFeedNotesTheRowsThatAreNotRoutes(t *testing.T) {
	for _, tc := range []struct {
		profile otelred.Profile
		none    string // the row of the requests that matched no route
	}{
		{otelred.Semconv, ""},
		{otelred.Classic, otelred.Unmatched},
	} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(tc.profile),
				otelred.WithService("svc"), otelred.WithCardinalityLimit(2))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			for _, p := range []string{"/a", "/b", "/c"} {
				mux.HandleFunc("GET "+p, func(http.ResponseWriter, *http.Request) {})
			}
			h := newTestHandler(reader, newClock(), tc.profile)
			srv := mw(mux)
			for _, p := range []string{"/nowhere", "/a", "/b", "/c"} {
				srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
			}
			got := map[string]string{}
			for _, r := range feedOf(t, h).section(t, "HTTP server").Rows {
				got[r.Name] = r.Note
			}
			want := map[string]string{
				tc.none: "the requests that matched no route",
				"/a":    "",
				otelred.Overflow: "the overflow past otelred's cardinality limit: the attribute sets that did not fit, folded into one series; " +
					"raise the limit with otelred.WithCardinalityLimit, or exporter Config.CardinalityLimit (OTELRED_CARDINALITY_LIMIT)",
			}
			if !maps.Equal(got, want) {
				t.Errorf("rows and notes:\n got %q\nwant %q", got, want)
			}
		})
	}
}
