package otelred_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// harness is a MeterProvider with a ManualReader and the middleware on it.
type harness struct {
	*testsupport.Reader
	t  *testing.T
	mw func(http.Handler) http.Handler
	// served counts requests that have left the middleware, so a test can
	// wait for recording instead of sleeping.
	served sync.WaitGroup
}

func newHarness(t *testing.T, opts ...otelred.Option) *harness {
	t.Helper()
	r, mw := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (func(http.Handler) http.Handler, error) {
		return otelred.New(append([]otelred.Option{otelred.WithMeterProvider(mp)}, opts...)...)
	})
	return &harness{Reader: r, t: t, mw: mw}
}

// server starts a real server with the middleware around h and, outside
// it, a layer that marks each request done once the middleware returns,
// even by panic.
func (h *harness) server(next http.Handler) *httptest.Server {
	h.t.Helper()
	return h.serverAround(func(h http.Handler) http.Handler { return h }, next)
}

// serverAround is server with outer between the tracking layer and the
// middleware.
func (h *harness) serverAround(outer func(http.Handler) http.Handler, next http.Handler) *httptest.Server {
	h.t.Helper()
	inner := outer(h.mw(next))
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer h.served.Done()
		inner.ServeHTTP(w, r)
	}))
	s.Config.ErrorLog = quietLog() // panics here are on purpose
	s.Start()
	h.t.Cleanup(s.Close)
	return s
}

// get sends one request and waits until the middleware has recorded it.
func (h *harness) do(s *httptest.Server, method, path string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.send(s, req)
}

// send sends req to s and waits until the middleware has recorded it. It
// returns nil when the request got no response.
func (h *harness) send(s *httptest.Server, req *http.Request) *http.Response {
	h.t.Helper()
	h.served.Add(1)
	resp, err := s.Client().Do(req)
	if err != nil {
		h.served.Wait()
		return nil
	}
	resp.Body.Close()
	h.served.Wait()
	return resp
}

// The readings of testsupport, for otelred's scope.
func (h *harness) collect() metricdata.ResourceMetrics  { h.t.Helper(); return h.Collect() }
func (h *harness) counts(name string) map[string]uint64 { h.t.Helper(); return h.Counts(name) }
func (h *harness) sums(name string) map[string]int64    { h.t.Helper(); return h.Sums(name) }
func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	return testsupport.Find(t, rm, otelred.ScopeName, name)
}
func attrs(s attribute.Set) string        { return testsupport.Attrs(s) }
func render[V any](m map[string]V) string { return testsupport.Render(m) }

// duration is the semconv histogram's name.
var duration = otelred.Semconv.Names().Duration

// series spells the attribute set of one Semconv series of a request
// over HTTP/1.1 in the clear, as httptest servers and requests are.
func series(method, route string, status int, errorType string) string {
	return seriesOver("http", "1.1", method, route, status, errorType)
}

// seriesOver spells the attribute set of one Semconv series of a request
// with the given url.scheme and network.protocol.version ("" for none).
// A route of noRoute and a status of noStatus leave their attributes out.
func seriesOver(scheme, version, method, route string, status int, errorType string) string {
	s := "http.request.method=" + method
	if errorType != "" {
		s = "error.type=" + errorType + "," + s
	}
	if status != noStatus {
		s += fmt.Sprintf(",http.response.status_code=%d", status)
	}
	if route != noRoute {
		s += ",http.route=" + route
	}
	if version != "" {
		s += ",network.protocol.version=" + version
	}
	return s + ",url.scheme=" + scheme
}

// noRoute is the route of a Semconv series of a request that matched no
// route: it has no http.route, as the conventions set it only when it is
// available. The Classic profile records otelred.Unmatched instead.
const noRoute = ""

// noStatus is the status of a Semconv series of a request whose handler
// panicked before it sent one: it has no http.response.status_code, as
// the conventions set it only when one was sent. Classic records 500.
const noStatus = 0

func wantCounts(t *testing.T, got map[string]uint64, want map[string]uint64) {
	t.Helper()
	testsupport.WantEqual(t, "counts", got, want)
}

// quietLog drops the server's log of recovered panics and superfluous
// WriteHeader calls, which the tests cause on purpose.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }
