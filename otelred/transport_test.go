package otelred_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// clientHarness is a MeterProvider with a ManualReader and a Transport on
// it.
type clientHarness struct {
	*harness
	client *http.Client
}

func newClientHarness(t *testing.T, base http.RoundTripper, opts ...otelred.Option) *clientHarness {
	t.Helper()
	r, tr := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (http.RoundTripper, error) {
		return otelred.NewTransport(base, append([]otelred.Option{otelred.WithMeterProvider(mp)}, opts...)...)
	})
	return &clientHarness{
		harness: &harness{Reader: r, t: t},
		client:  &http.Client{Transport: tr},
	}
}

func (c *clientHarness) get(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

var clientDuration = otelred.Semconv.ClientNames().Duration

// clientSeries spells the attribute set of a client series whose response,
// if any, carried no protocol version (a RoundTripper's own response).
func clientSeries(method, host string, port, status int, errorType string) string {
	return clientSeriesOver("", method, host, port, status, errorType)
}

// clientSeriesOver spells the attribute set of a client series whose
// response came over HTTP version (such as "1.1").
func clientSeriesOver(version, method, host string, port, status int, errorType string) string {
	var parts []string
	if errorType != "" {
		parts = append(parts, "error.type="+errorType)
	}
	parts = append(parts, "http.request.method="+method)
	if status != 0 {
		parts = append(parts, fmt.Sprintf("http.response.status_code=%d", status))
	}
	if version != "" {
		parts = append(parts, "network.protocol.version="+version)
	}
	parts = append(parts, "server.address="+host)
	if port != 0 {
		parts = append(parts, fmt.Sprintf("server.port=%d", port))
	}
	return strings.Join(parts, ",")
}

func TestTransportRecordsEachResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	c := newClientHarness(t, nil)
	for _, p := range []string{"/a", "/b/1", "/b/2", "/missing", "/broken", "/broken"} {
		if err := c.get(context.Background(), srv.URL+p); err != nil {
			t.Fatal(err)
		}
	}
	wantCounts(t, c.counts(clientDuration), map[string]uint64{
		clientSeriesOver("1.1", "GET", "127.0.0.1", port, 200, ""):    3,
		clientSeriesOver("1.1", "GET", "127.0.0.1", port, 404, "404"): 1,
		clientSeriesOver("1.1", "GET", "127.0.0.1", port, 502, "502"): 2,
	})
}

func TestTransportRecordsFailedRoundTrips(t *testing.T) {
	// A port with nothing listening: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	hang := make(chan struct{})
	defer close(hang)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	slowPort := slow.Listener.Addr().(*net.TCPAddr).Port

	c := newClientHarness(t, nil)
	if err := c.get(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/", refused)); err == nil {
		t.Fatal("a request to a closed port succeeded")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.get(ctx, slow.URL); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := c.get(ctx, slow.URL); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want canceled", err)
	}
	wantCounts(t, c.counts(clientDuration), map[string]uint64{
		clientSeries("GET", "127.0.0.1", refused, 0, "connection_refused"): 1,
		clientSeries("GET", "127.0.0.1", slowPort, 0, "timeout"):           1,
		clientSeries("GET", "127.0.0.1", slowPort, 0, "canceled"):          1,
	})
}

// fakeBase answers every request with 200, without a network.
type fakeBase struct{ status int }

func (f fakeBase) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: f.status, Body: http.NoBody}, nil
}

func TestTransportBoundsHosts(t *testing.T) {
	t.Run("the first hundred hosts are named, the rest are _OTHER", func(t *testing.T) {
		c := newClientHarness(t, fakeBase{200})
		for i := range 150 {
			if err := c.get(context.Background(), fmt.Sprintf("https://h%d.example/", i)); err != nil {
				t.Fatal(err)
			}
		}
		got := c.counts(clientDuration)
		if len(got) != 101 {
			t.Errorf("%d series, want 100 named hosts and _OTHER", len(got))
		}
		if n := got[clientSeries("GET", "_OTHER", 0, 200, "")]; n != 50 {
			t.Errorf("_OTHER counts %d requests, want 50", n)
		}
		if n := got[clientSeries("GET", "h7.example", 443, 200, "")]; n != 1 {
			t.Errorf("h7.example counts %d requests, want 1", n)
		}
	})
	t.Run("WithHosts names only the listed hosts", func(t *testing.T) {
		c := newClientHarness(t, fakeBase{200}, otelred.WithHosts("API.example", "10.0.0.1"))
		for i := range 150 { // junk first: it must not crowd out the listed hosts
			if err := c.get(context.Background(), fmt.Sprintf("http://junk%d.example/", i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range []string{"http://api.example/x", "https://API.EXAMPLE:8443/y", "http://10.0.0.1:9000/", "http://evil.example/", "http://user-123.example/"} {
			if err := c.get(context.Background(), u); err != nil {
				t.Fatal(err)
			}
		}
		wantCounts(t, c.counts(clientDuration), map[string]uint64{
			clientSeries("GET", "api.example", 80, 200, ""):   1,
			clientSeries("GET", "api.example", 8443, 200, ""): 1,
			clientSeries("GET", "10.0.0.1", 9000, 200, ""):    1,
			clientSeries("GET", "_OTHER", 0, 200, ""):         152,
		})
	})
}

func TestTransportClassicNames(t *testing.T) {
	c := newClientHarness(t, fakeBase{503}, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
	for range 3 {
		if err := c.get(context.Background(), "http://pay.example/charge"); err != nil {
			t.Fatal(err)
		}
	}
	key := "host=pay.example,method=GET,service=shop,status_code=503"
	for _, name := range []string{"http_client_requests_total", "http_client_errors_total"} {
		if got := c.sums(name); render(got) != render(map[string]int64{key: 3}) {
			t.Errorf("%s = %s", name, render(got))
		}
	}
	wantCounts(t, c.counts("http_client_request_duration_seconds"), map[string]uint64{key: 3})
}

func TestTransportBadOptions(t *testing.T) {
	for _, opt := range []otelred.Option{otelred.WithHosts(), otelred.WithHosts("http://x.example"), otelred.WithHosts("x.example:80")} {
		if _, err := otelred.NewTransport(nil, opt); !errors.Is(err, otelred.ErrInvalidOption) {
			t.Errorf("NewTransport error = %v, want ErrInvalidOption", err)
		}
	}
}

// histogramPoints returns the data points of a histogram, for exemplars.
func histogramPoints(t *testing.T, h *harness, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	hist, ok := find(t, h.collect(), name).Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%s is not a float64 histogram", name)
	}
	return hist.DataPoints
}
