package otelred_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// FuzzHostileValues sends arbitrary bytes through every entry point of
// otelred (SetAttribute, SetRoute, WithRoute, ContextWithAttribute, a
// client host, an operation name) and otelredgrpc (a method name), in
// both profiles, and checks that what is collected marshals to OTLP: it
// is exported through a real otlpmetrichttp exporter, whose HTTP client
// hands the request to an in-memory peer that decodes it. The tenant the
// server recorded must be the value with each run of invalid bytes
// replaced by U+FFFD, or _OTHER when that is longer than MaxValueLength.
func FuzzHostileValues(f *testing.F) {
	for _, s := range []string{
		"acme", "", "ac\xffme", "\xff\xfe\xfd", "caf\xc3", "\xed\xa0\x80", "\xc0\xaf", "東京", "a\x00b",
		strings.Repeat("x", otelred.MaxValueLength), strings.Repeat("x", otelred.MaxValueLength+1),
		strings.Repeat("a", otelred.MaxValueLength-2) + "\xff",
	} {
		f.Add(s)
	}
	peer := &memoryPeer{}
	exp, err := otlpmetrichttp.New(context.Background(),
		otlpmetrichttp.WithHTTPClient(&http.Client{Transport: peer}),
		otlpmetrichttp.WithEndpointURL("http://127.0.0.1:4318/v1/metrics")) // never dialled: the peer is in memory
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = exp.Shutdown(context.Background()) })

	f.Fuzz(func(t *testing.T, v string) {
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			driveHostile(t, mp, p, []string{v})
			s, err := otelredgrpc.NewServer(otelred.WithMeterProvider(mp))
			if err != nil {
				t.Fatal(err)
			}
			_, _ = s.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/" + v},
				func(context.Context, any) (any, error) { return nil, nil })

			var rm metricdata.ResourceMetrics
			if err := reader.Collect(context.Background(), &rm); err != nil {
				t.Fatal(err)
			}
			if err := exp.Export(context.Background(), &rm); err != nil {
				t.Fatalf("%v: exporting after %q: %v", p, v, err)
			}
			req := peer.last()
			if req == nil {
				t.Fatal("the exporter sent nothing")
			}
			if v != "" {
				want := strings.ToValidUTF8(v, "\uFFFD")
				if len(v) > otelred.MaxValueLength || len(want) > otelred.MaxValueLength {
					want = "_OTHER"
				}
				name := otelred.Semconv.Names().Duration
				if p == otelred.Classic {
					name = "http_request_duration_seconds"
				}
				if got := tenants(req, name); len(got) != 1 || got[0] != want {
					t.Fatalf("%v: tenant %q recorded as %q, want %q", p, v, got, want)
				}
			}
			_ = mp.Shutdown(context.Background())
		}
	})
}

// tenants returns the tenant values of the points of the histogram name.
func tenants(req *colmetricpb.ExportMetricsServiceRequest, name string) []string {
	seen := map[string]bool{}
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != name {
					continue
				}
				for _, dp := range m.GetHistogram().GetDataPoints() {
					if v, ok := otlptest.Attributes(dp.GetAttributes())["tenant"]; ok {
						seen[v] = true
					}
				}
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	return out
}

// memoryPeer is an OTLP/HTTP peer in memory: a RoundTripper that decodes
// each export request, as a collector would, and answers it.
type memoryPeer struct {
	mu  sync.Mutex
	req *colmetricpb.ExportMetricsServiceRequest
}

func (p *memoryPeer) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	req := new(colmetricpb.ExportMetricsServiceRequest)
	status, out := http.StatusOK, []byte(nil)
	if err := proto.Unmarshal(body, req); err != nil {
		status, out = http.StatusBadRequest, []byte(err.Error())
	} else {
		p.mu.Lock()
		p.req = req
		p.mu.Unlock()
		out, _ = proto.Marshal(&colmetricpb.ExportMetricsServiceResponse{})
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/x-protobuf"}},
		Body:       io.NopCloser(bytes.NewReader(out)),
		Request:    r,
	}, nil
}

func (p *memoryPeer) last() *colmetricpb.ExportMetricsServiceRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.req
	p.req = nil
	return r
}
