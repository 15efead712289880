package otelredgin_test

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

// provider is a MeterProvider with a ManualReader, shut down with the test.
func provider(t *testing.T) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return mp, reader
}

// server serves h on 127.0.0.1 and counts the requests h has returned
// from (even by panic), so a test waits for recording, not for time.
type server struct {
	t    *testing.T
	srv  *httptest.Server
	done sync.WaitGroup
}

func serve(t *testing.T, h http.Handler) *server {
	t.Helper()
	s := &server{t: t}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.done.Done()
		h.ServeHTTP(w, r)
	}))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panics are on purpose
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// do sends one request and waits until the server has finished with it.
// It returns the status the client got, or 0 when it got no response.
func (s *server) do(method, path string) int {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	s.done.Add(1)
	defer s.done.Wait()
	// A fresh connection each time: the client would retry a GET whose
	// reused connection a panic broke.
	req.Close = true
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// counts returns the request count per attribute set of the profile's
// duration histogram, and checks that nothing is left in flight.
func counts(t *testing.T, reader *sdkmetric.ManualReader, p otelred.Profile) map[string]uint64 {
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

// semconv spells the attribute set of one Semconv series.
func semconv(method, route string, status int, errorType string) string {
	s := fmt.Sprintf("http.request.method=%s,http.response.status_code=%d,http.route=%s", method, status, route)
	if errorType != "" {
		s = "error.type=" + errorType + "," + s
	}
	return s
}

// classic spells the attribute set of one Classic series of service shop.
func classic(method, route string, status int) string {
	return fmt.Sprintf("method=%s,path=%s,service=shop,status_code=%d", method, route, status)
}

func wantCounts(t *testing.T, got, want map[string]uint64) {
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
