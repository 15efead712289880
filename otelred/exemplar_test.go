package otelred_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestExemplarsCarryTheRequestSpan runs otelred with otelhttp's tracing
// outside it, as documented: the duration histograms then carry exemplars
// with the trace id of the request's span, on the server and on the
// client.
func TestExemplarsCarryTheRequestSpan(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	traced := []otelhttp.Option{
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()), // otelred records the metrics
	}

	t.Run("server", func(t *testing.T) {
		h := newHarness(t)
		var want trace.TraceID
		mux := http.NewServeMux()
		mux.HandleFunc("GET /users/{id}", func(_ http.ResponseWriter, r *http.Request) {
			want = trace.SpanContextFromContext(r.Context()).TraceID()
		})
		s := httptest.NewServer(otelhttp.NewHandler(h.mw(mux), "users", traced...))
		defer s.Close()
		resp, err := s.Client().Get(s.URL + "/users/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		checkExemplar(t, h, duration, want)
	})

	t.Run("client", func(t *testing.T) {
		var want trace.TraceID
		base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			want = trace.SpanContextFromContext(r.Context()).TraceID()
			return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
		})
		c := newClientHarness(t, base)
		c.client.Transport = otelhttp.NewTransport(c.client.Transport, traced...)
		if err := c.get(context.Background(), "http://api.example/"); err != nil {
			t.Fatal(err)
		}
		checkExemplar(t, c.harness, clientDuration, want)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func checkExemplar(t *testing.T, h *harness, name string, want trace.TraceID) {
	t.Helper()
	if !want.IsValid() {
		t.Fatal("the handler saw no span: otelhttp is not outside otelred")
	}
	points := histogramPoints(t, h, name)
	if len(points) != 1 || len(points[0].Exemplars) != 1 {
		t.Fatalf("%s: %d points, want 1 with one exemplar: %+v", name, len(points), points)
	}
	if got := trace.TraceID(points[0].Exemplars[0].TraceID); got != want {
		t.Errorf("%s exemplar trace id %s, want the request span's %s", name, got, want)
	}
}
