// Package redtest holds what the tests of otelred's framework adapters and
// router recipes share: a MeterProvider with a ManualReader, a real
// server that says when a request is done, and exact counts per series.
package redtest

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// Provider returns a MeterProvider with a ManualReader, shut down when the
// test ends.
func Provider(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return mp, reader
}

// Server is a real server on 127.0.0.1 that counts the requests its
// handler has returned from, even by panic, so that a test waits for
// recording rather than for time.
type Server struct {
	t    testing.TB
	srv  *httptest.Server
	done sync.WaitGroup
}

// Serve starts a Server for h, closed when the test ends. Its error log
// is discarded: the tests panic on purpose.
func Serve(t testing.TB, h http.Handler) *Server {
	t.Helper()
	s := &Server{t: t}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.done.Done()
		h.ServeHTTP(w, r)
	}))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// Do sends one request on a fresh connection (the client would retry a
// GET whose reused connection a panic broke), and waits until the handler
// has returned. It returns the status the client got, or 0 when it got no
// response.
func (s *Server) Do(method, path string) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Close = true
	s.done.Add(1)
	defer s.done.Wait()
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Counts collects reader and returns the request count per attribute set
// ("k=v,k=v", sorted by key) of the profile's duration histogram. It
// fails the test if a request is still counted in flight.
func Counts(t testing.TB, reader *sdkmetric.ManualReader, p otelred.Profile) map[string]uint64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelred.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				if m.Name == p.Names().Duration {
					for _, dp := range d.DataPoints {
						got[attrs(dp.Attributes)] += dp.Count
					}
				}
			case metricdata.Sum[int64]:
				if m.Name == p.Names().Active {
					for _, dp := range d.DataPoints {
						if dp.Value != 0 {
							t.Errorf("in flight %s = %d after every request, want 0", attrs(dp.Attributes), dp.Value)
						}
					}
				}
			}
		}
	}
	return got
}

func attrs(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// Semconv spells the attribute set of one Semconv series of a request over
// HTTP/1.1 in the clear, as the tests' servers get; errorType is "" for a
// request that did not fail. A route of NoRoute and a status of NoStatus
// leave their attributes out.
func Semconv(method, route string, status int, errorType string) string {
	s := "http.request.method=" + method
	if errorType != "" {
		s = "error.type=" + errorType + "," + s
	}
	if status != NoStatus {
		s += fmt.Sprintf(",http.response.status_code=%d", status)
	}
	if route != NoRoute {
		s += ",http.route=" + route
	}
	return s + ",network.protocol.version=1.1,url.scheme=http"
}

// NoRoute is the route of a Semconv series of a request that matched no
// route: it has no http.route, as the conventions set it only when it is
// available. The Classic profile records otelred.Unmatched instead.
const NoRoute = ""

// NoStatus is the status of a Semconv series of a request whose handler
// panicked before it sent one: it has no http.response.status_code, as
// the conventions set it only when one was sent. Classic records 500.
const NoStatus = 0

// ClassicService is the service label the tests give the Classic profile.
const ClassicService = "shop"

// Classic spells the attribute set of one Classic series of
// ClassicService.
func Classic(method, route string, status int) string {
	return fmt.Sprintf("method=%s,path=%s,service=%s,status_code=%d", method, route, ClassicService, status)
}

// WantCounts fails the test unless got and want are equal.
func WantCounts(t testing.TB, got, want map[string]uint64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts per series:\n got  %s\n want %s", render(got), render(want))
	}
}

func render(m map[string]uint64) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, fmt.Sprintf("%s => %d", k, v))
	}
	slices.Sort(lines)
	return "{\n\t" + strings.Join(lines, "\n\t") + "\n}"
}

// Discard is a ResponseWriter that keeps nothing, for allocation guards:
// it reuses one header map.
type Discard struct{ H http.Header }

// NewDiscard returns a Discard with an empty header map.
func NewDiscard() *Discard { return &Discard{H: http.Header{}} }

func (d *Discard) Header() http.Header         { return d.H }
func (d *Discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *Discard) WriteHeader(int)             {}
