package otelred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// The quick start: wrap a ServeMux and read the duration histogram back.
func ExampleNew() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	mw, err := otelred.New(otelred.WithMeterProvider(provider))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("id"))
	})
	handler := mw(mux)

	for _, path := range []string{"/users/1", "/users/2", "/nowhere"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			for _, dp := range h.DataPoints {
				route, _ := dp.Attributes.Value("http.route")
				status, _ := dp.Attributes.Value("http.response.status_code")
				fmt.Println(m.Name, route.AsString(), status.AsInt64(), dp.Count)
			}
		}
	}
	// Unordered output:
	// http.server.request.duration /users/{id} 200 2
	// http.server.request.duration unmatched 404 1
}

// The Classic profile records the tutorial's metric and label names.
func ExampleWithProfile() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	mw, err := otelred.New(
		otelred.WithMeterProvider(provider),
		otelred.WithProfile(otelred.Classic),
		otelred.WithService("shop"),
	)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	mw(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fail", nil))

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if s, ok := m.Data.(metricdata.Sum[int64]); ok && s.IsMonotonic {
			for _, dp := range s.DataPoints {
				fmt.Println(m.Name, dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Value)
			}
		}
	}
	// Unordered output:
	// http_requests_total method=GET,path=/fail,service=shop,status_code=500 1
	// http_errors_total method=GET,path=/fail,service=shop,status_code=500 1
}
