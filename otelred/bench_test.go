package otelred_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// BenchmarkMiddleware serves GET /users/{id} through a ServeMux, bare and
// with each profile, on an SDK provider with a ManualReader. Compare the
// sub-benchmarks of one run; "floor" is the SDK's own cost: two clock
// readings and one histogram record with prebuilt options, of the
// attributes Semconv records for a success.
func BenchmarkMiddleware(b *testing.B) {
	for _, status := range []int{200, 500} {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
		name := "status=" + http.StatusText(status)
		b.Run(name+"/bare", func(b *testing.B) { benchServe(b, mux) })
		for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
			b.Run(name+"/"+p.String(), func(b *testing.B) {
				mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
				defer mp.Shutdown(context.Background())
				mw, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("bench"))
				if err != nil {
					b.Fatal(err)
				}
				benchServe(b, mw(mux))
			})
		}
		b.Run(name+"/floor", func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			hist, _ := mp.Meter("floor").Float64Histogram("d", metric.WithUnit("s"))
			opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(
				attribute.String("http.request.method", "GET"),
				attribute.String("http.route", "/users/{id}"),
				attribute.Int("http.response.status_code", status),
				attribute.String("network.protocol.version", "1.1"),
				attribute.String("url.scheme", "http")))}
			benchServe(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				start := time.Now()
				mux.ServeHTTP(w, r)
				hist.Record(r.Context(), time.Since(start).Seconds(), opts...)
			}))
		})
	}
}

func benchServe(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/users/42", nil)
	b.ReportAllocs()
	for b.Loop() {
		req.Pattern = ""
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkBodySizes serves POST /orders with a 300-byte body, which the
// handler reads and writes back, bare and through the Semconv middleware
// with and without WithBodySizes; and sends a request through the
// Transport, with and without it.
func BenchmarkBodySizes(b *testing.B) {
	buf := make([]byte, 512)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := r.Body.Read(buf)
		w.Write(buf[:n])
	})
	body := strings.NewReader(strings.Repeat("x", 300))
	rc := io.NopCloser(body)
	serve := func(b *testing.B, h http.Handler) {
		req := httptest.NewRequest("POST", "/orders", nil)
		rec := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			body.Seek(0, io.SeekStart)
			req.Body = rc
			rec.Body.Reset()
			h.ServeHTTP(rec, req)
		}
	}
	b.Run("server/bare", func(b *testing.B) { serve(b, h) })
	for _, on := range []bool{false, true} {
		opts := func(mp metric.MeterProvider) []otelred.Option {
			o := []otelred.Option{otelred.WithMeterProvider(mp)}
			if on {
				o = append(o, otelred.WithBodySizes())
			}
			return o
		}
		name := "off"
		if on {
			name = "on"
		}
		b.Run("server/"+name, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			mw, err := otelred.New(opts(mp)...)
			if err != nil {
				b.Fatal(err)
			}
			serve(b, mw(h))
		})
		b.Run("client/"+name, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			resp := &http.Response{StatusCode: 200, Body: http.NoBody, ContentLength: 300, ProtoMajor: 1, ProtoMinor: 1}
			tr, err := otelred.NewTransport(roundTripFunc(func(*http.Request) (*http.Response, error) { return resp, nil }), opts(mp)...)
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("POST", "http://api.example/orders", strings.NewReader("abc"))
			b.ReportAllocs()
			for b.Loop() {
				tr.RoundTrip(req)
			}
		})
	}
}

// BenchmarkAttributes serves GET /orders through the Semconv middleware
// and sends it through the Transport: without WithAttribute ("off"), with
// a key declared that no request sets ("unused"), and with two keys set on
// every request, one through an allow-list, over three tenants in turn
// ("set").
func BenchmarkAttributes(b *testing.B) {
	tenants := []string{"acme", "globex", "initech"}
	for _, mode := range []string{"off", "unused", "set"} {
		opts := func(mp metric.MeterProvider) []otelred.Option {
			o := []otelred.Option{otelred.WithMeterProvider(mp)}
			if mode != "off" {
				o = append(o, otelred.WithAttribute("tenant"), otelred.WithAttribute("plan", "gold", "free"))
			}
			return o
		}
		b.Run("server/"+mode, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			mw, err := otelred.New(opts(mp)...)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			h := mw(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if mode == "set" {
					i++
					otelred.SetAttribute(w, "tenant", tenants[i%len(tenants)])
					otelred.SetAttribute(w, "plan", "gold")
				}
			}))
			req := httptest.NewRequest("GET", "/orders", nil)
			rec := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(rec, req)
			}
		})
		b.Run("client/"+mode, func(b *testing.B) {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			defer mp.Shutdown(context.Background())
			resp := &http.Response{StatusCode: 200, Body: http.NoBody, ProtoMajor: 1, ProtoMinor: 1}
			tr, err := otelred.NewTransport(roundTripFunc(func(*http.Request) (*http.Response, error) { return resp, nil }), opts(mp)...)
			if err != nil {
				b.Fatal(err)
			}
			var reqs []*http.Request
			for _, tenant := range tenants {
				ctx := context.Background()
				if mode == "set" {
					ctx = otelred.ContextWithAttribute(otelred.ContextWithAttribute(ctx, "plan", "gold"), "tenant", tenant)
				}
				reqs = append(reqs, httptest.NewRequestWithContext(ctx, "GET", "http://api.example/orders", nil))
			}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				i++
				tr.RoundTrip(reqs[i%len(reqs)])
			}
		})
	}
}
