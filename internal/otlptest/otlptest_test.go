package otlptest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	protobuf "google.golang.org/protobuf/proto"

	"github.com/otelred/otelred/internal/otlptest"
)

// credential is the Authorization header newExporter's exporters send.
const credential = "Bearer tok3n"

// newExporter returns an SDK OTLP exporter for rcv, with retries off so a
// fault shows at once.
func newExporter(t *testing.T, rcv *otlptest.Receiver, gzip bool) sdkmetric.Exporter {
	t.Helper()
	ctx := context.Background()
	headers := map[string]string{"x-tenant": "blue", "authorization": credential}
	var (
		exp sdkmetric.Exporter
		err error
	)
	if rcv.Protocol() == otlptest.GRPC {
		opts := []otlpmetricgrpc.Option{
			otlpmetricgrpc.WithEndpointURL(rcv.Endpoint()),
			otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false}),
			otlpmetricgrpc.WithHeaders(headers),
		}
		if gzip {
			opts = append(opts, otlpmetricgrpc.WithCompressor("gzip"))
		}
		exp, err = otlpmetricgrpc.New(ctx, opts...)
	} else {
		opts := []otlpmetrichttp.Option{
			otlpmetrichttp.WithEndpointURL(rcv.Endpoint()),
			otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
			otlpmetrichttp.WithHeaders(headers),
		}
		if gzip {
			opts = append(opts, otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
		}
		exp, err = otlpmetrichttp.New(ctx, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

// batch is a request with one counter point and one histogram point.
func batch(count uint64, total int64) *metricdata.ResourceMetrics {
	attrs := attribute.NewSet(attribute.String("route", "/users/{id}"), attribute.Int("code", 200))
	now := time.Now()
	return &metricdata.ResourceMetrics{
		Resource: resource.NewSchemaless(attribute.String("service.name", "shop")),
		ScopeMetrics: []metricdata.ScopeMetrics{{
			Metrics: []metricdata.Metrics{
				{
					Name: "requests",
					Data: metricdata.Sum[int64]{
						Temporality: metricdata.CumulativeTemporality,
						IsMonotonic: true,
						DataPoints:  []metricdata.DataPoint[int64]{{Attributes: attrs, Time: now, Value: total}},
					},
				},
				{
					Name: "duration",
					Data: metricdata.Histogram[float64]{
						Temporality: metricdata.CumulativeTemporality,
						DataPoints: []metricdata.HistogramDataPoint[float64]{{
							Attributes:   attrs,
							Time:         now,
							Count:        count,
							Bounds:       []float64{0.1, 1},
							BucketCounts: []uint64{count, 0, 0},
							Sum:          0.01 * float64(count),
						}},
					},
				},
			},
		}},
	}
}

var point = map[string]string{"route": "/users/{id}", "code": "200"}

func TestReceiverStoresWhatExportersSend(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, gzip := range []bool{false, true} {
			name := proto + "/plain"
			if gzip {
				name = proto + "/gzip"
			}
			t.Run(name, func(t *testing.T) {
				rcv := otlptest.Start(t, proto)
				exp := newExporter(t, rcv, gzip)
				ctx := t.Context()
				if err := exp.Export(ctx, batch(3, 3)); err != nil {
					t.Fatal(err)
				}
				if err := exp.Export(ctx, batch(5, 7)); err != nil {
					t.Fatal(err)
				}
				if n := len(rcv.Requests()); n != 2 {
					t.Fatalf("Requests() = %d, want 2", n)
				}
				if v, ok := rcv.Value("requests", point); !ok || v != 7 {
					t.Errorf("Value(requests) = %v, %v; want the latest, 7", v, ok)
				}
				if _, ok := rcv.Value("requests", map[string]string{"route": "/users/{id}"}); ok {
					t.Error("Value matched a subset of the attributes; want an exact match only")
				}
				hp, ok := rcv.Histogram("duration", point)
				if !ok || hp.GetCount() != 5 || len(hp.GetExplicitBounds()) != 2 || hp.GetExplicitBounds()[1] != 1 {
					t.Errorf("Histogram(duration) = %v, %v; want count 5 and bounds [0.1 1]", hp, ok)
				}
				if hp, ok := otlptest.HistogramIn(rcv.Requests()[0], "duration", point); !ok || hp.GetCount() != 3 {
					t.Errorf("HistogramIn(first request, duration) = %v, %v; want count 3", hp, ok)
				}
				if _, ok := otlptest.HistogramIn(rcv.Requests()[0], "duration", map[string]string{"code": "200"}); ok {
					t.Error("HistogramIn matched a subset of the attributes; want an exact match only")
				}
				if got := rcv.Resource()["service.name"]; got != "shop" {
					t.Errorf("Resource()[service.name] = %q, want shop", got)
				}
				for i, h := range rcv.Headers() {
					if got := h.Get("X-Tenant"); got != "blue" {
						t.Errorf("Headers()[%d].Get(X-Tenant) = %q, want blue", i, got)
					}
				}
				if n := rcv.Attempts(); n != 2 {
					t.Errorf("Attempts() = %d, want 2", n)
				}
				sizes := rcv.Sizes()
				if len(sizes) != 2 {
					t.Fatalf("Sizes() = %v, want 2 sizes", sizes)
				}
				for i, req := range rcv.Requests() {
					if want := protobuf.Size(req); sizes[i] != want || want == 0 {
						t.Errorf("Sizes()[%d] = %d, want the request's encoded size, %d", i, sizes[i], want)
					}
				}
			})
		}
	}
}

// TestGRPCKeepsTheDefaultReceiveLimit checks that the gRPC receiver, like
// a collector left at grpc-go's defaults, refuses a message over 4 MiB
// and takes one just under it.
func TestGRPCKeepsTheDefaultReceiveLimit(t *testing.T) {
	const limit = 4 << 20
	rcv := otlptest.Start(t, otlptest.GRPC)
	exp := newExporter(t, rcv, false)
	// withValue is batch with a value of size bytes on its counter's point.
	withValue := func(size int) *metricdata.ResourceMetrics {
		rm := batch(1, 1)
		sum := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Sum[int64])
		sum.DataPoints[0].Attributes = attribute.NewSet(attribute.String("v", strings.Repeat("v", size)))
		return rm
	}
	if err := exp.Export(t.Context(), withValue(limit)); status.Code(errors.Unwrap(err)) != codes.ResourceExhausted {
		t.Errorf("Export of more than 4 MiB: %v, want ResourceExhausted", err)
	}
	if err := exp.Export(t.Context(), withValue(limit-1024)); err != nil {
		t.Fatalf("Export of just under 4 MiB: %v", err)
	}
	if sizes := rcv.Sizes(); len(sizes) != 1 || sizes[0] >= limit || sizes[0] < limit-1024 {
		t.Errorf("Sizes() = %v, want one size just under %d", sizes, limit)
	}
}

func TestReceiverFaults(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		for _, f := range []otlptest.Fault{otlptest.Refuse, otlptest.Hang, otlptest.Unavailable, otlptest.Throttle, otlptest.Unauthorized} {
			t.Run(proto+"/"+f.String()+" then recover", func(t *testing.T) {
				rcv := otlptest.Start(t, proto)
				exp := newExporter(t, rcv, false)
				if err := exp.Export(t.Context(), batch(1, 1)); err != nil {
					t.Fatal(err)
				}
				rcv.SetFault(f)
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				err := exp.Export(ctx, batch(2, 2))
				cancel()
				if err == nil {
					t.Fatalf("Export during %v succeeded, want an error", f)
				}
				wantAttempts := 2
				if f == otlptest.Refuse {
					wantAttempts = 1
				}
				if n := rcv.Attempts(); n != wantAttempts {
					t.Errorf("Attempts() = %d, want %d", n, wantAttempts)
				}
				if n := len(rcv.Requests()); n != 1 {
					t.Errorf("Requests() = %d during the fault, want 1 (faulted requests are not stored)", n)
				}

				rcv.SetFault(otlptest.None)
				// A gRPC client backs off before it reconnects after Refuse:
				// poll, bounded by ctx.
				ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				for exp.Export(ctx, batch(3, 3)) != nil {
					select {
					case <-tick.C:
					case <-ctx.Done():
						t.Fatal("Export never succeeded after the fault was cleared")
					}
				}
				if v, ok := rcv.Value("requests", point); !ok || v != 3 {
					t.Errorf("Value(requests) after recovery = %v, %v; want 3", v, ok)
				}
			})
		}
	}
}

// TestUnauthorizedEchoesTheCredential checks that the Unauthorized fault
// refuses with the status each protocol has for it and puts the request's
// Authorization header into the message, so that the exporter's error
// carries it, as with a collector that echoes what it refuses.
func TestUnauthorizedEchoesTheCredential(t *testing.T) {
	for proto, status := range map[string]string{otlptest.GRPC: "Unauthenticated", otlptest.HTTP: "401 Unauthorized"} {
		t.Run(proto, func(t *testing.T) {
			rcv := otlptest.Start(t, proto)
			rcv.SetFault(otlptest.Unauthorized)
			err := newExporter(t, rcv, false).Export(t.Context(), batch(1, 1))
			if err == nil {
				t.Fatal("Export succeeded, want an error")
			}
			if want := `invalid credentials "` + credential + `"`; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), status) {
				t.Errorf("Export error %q, want %s with %s", err, status, want)
			}
			if n := rcv.Attempts(); n != 1 {
				t.Errorf("Attempts() = %d, want 1 (an authentication failure is not retried)", n)
			}
		})
	}
}

func TestReceiverCloseReleasesHungRequests(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			rcv := otlptest.Start(t, proto)
			exp := newExporter(t, rcv, false)
			rcv.SetFault(otlptest.Hang)
			done := make(chan error, 1)
			go func() { done <- exp.Export(context.Background(), batch(1, 1)) }()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := rcv.WaitFor(ctx, func() bool { return rcv.Attempts() == 1 }); err != nil {
				t.Fatal("the request never arrived:", err)
			}
			rcv.Close()
			select {
			case err := <-done:
				if err == nil {
					t.Error("Export succeeded against a closed receiver")
				}
			case <-ctx.Done():
				t.Fatal("Close did not release the hung request")
			}
		})
	}
}

func TestWaitForEndsWithContext(t *testing.T) {
	rcv := otlptest.Start(t, otlptest.HTTP)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := rcv.WaitFor(ctx, func() bool { return false }); err != context.Canceled {
		t.Errorf("WaitFor = %v, want context.Canceled", err)
	}
}

func TestHTTPRejectsWhatIsNotOTLP(t *testing.T) {
	rcv := otlptest.Start(t, otlptest.HTTP)
	for _, tc := range []struct {
		name, contentType, encoding string
		body                        []byte
		want                        int
	}{
		{"JSON is not supported", "application/json", "", []byte("{}"), http.StatusUnsupportedMediaType},
		{"a body that is not gzip", "application/x-protobuf", "gzip", []byte("plain"), http.StatusBadRequest},
		{"an unknown encoding", "application/x-protobuf", "br", nil, http.StatusUnsupportedMediaType},
		{"a body that is not protobuf", "application/x-protobuf", "", []byte{0xff, 0xff, 0xff}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rcv.Endpoint(), bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if n := rcv.Attempts(); n != 0 {
		t.Errorf("Attempts() = %d after malformed requests, want 0", n)
	}
}
