package exporter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// printLines prints the exposition lines that start with prefix.
func printLines(body, prefix string) {
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, prefix) {
			fmt.Print(line)
		}
	}
}

func ExampleSetup() {
	ctx := context.Background()
	p, err := exporter.Setup(ctx, exporter.Config{
		Exporters:   []string{"prometheus"},
		ServiceName: "shop",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = p.Shutdown(ctx) }()

	mw, err := otelred.New(otelred.WithMeterProvider(p))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.PathValue("name"))
	})
	mux.Handle("GET /metrics", p.Handler())
	h := mw(mux)

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/hello/ada", nil))
	scrape := httptest.NewRecorder()
	h.ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	printLines(scrape.Body.String(), "http_server_request_duration_seconds_count")
	// Output:
	// http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",http_route="/hello/{name}",network_protocol_version="1.1",url_scheme="http"} 1
}

// Your own MeterProvider, with your own resource, views and instruments:
// New gives it the readers, and otelred's views.RED its buckets.
func ExampleNew() {
	ctx := context.Background()
	exp, err := exporter.New(ctx, exporter.Config{Exporters: []string{"prometheus"}})
	if err != nil {
		log.Fatal(err)
	}
	red, err := views.RED(otelred.Semconv, nil)
	if err != nil {
		log.Fatal(err)
	}
	opts := []sdkmetric.Option{
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))),
		sdkmetric.WithView(red...),
	}
	for _, r := range exp.Readers() {
		opts = append(opts, sdkmetric.WithReader(r))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	defer func() {
		_ = mp.Shutdown(ctx)  // flushes and stops the readers
		_ = exp.Shutdown(ctx) // then what New started itself
	}()

	// A metric of your own, on the same provider.
	orders, err := mp.Meter("shop").Int64Counter("orders")
	if err != nil {
		log.Fatal(err)
	}
	orders.Add(ctx, 3)

	// otelred's middleware on it, with /metrics served from exp.Handler.
	mw, err := otelred.New(otelred.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.Handle("GET /metrics", exp.Handler())
	h := mw(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/orders", nil))

	scrape := httptest.NewRecorder()
	h.ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	printLines(scrape.Body.String(), "orders_total")
	printLines(scrape.Body.String(), "http_server_request_duration_seconds_count")
	printLines(scrape.Body.String(), "target_info")
	// Output:
	// orders_total 3
	// http_server_request_duration_seconds_count{http_request_method="POST",http_response_status_code="201",http_route="/orders",network_protocol_version="1.1",url_scheme="http"} 1
	// target_info{service_name="shop"} 1
}

func ExampleConfig() {
	const file = `{
		"exporters": ["prometheus", "otlp"],
		"otlp": {"protocol": "grpc", "endpoint": "http://collector:4317", "interval": "15s"}
	}`
	var cfg exporter.Config
	if err := json.Unmarshal([]byte(file), &cfg); err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Exporters, cfg.OTLP.Protocol, cfg.OTLP.Interval, cfg.Validate())
	// Output:
	// [prometheus otlp] grpc 15s <nil>
}

func ExampleConfig_Validate() {
	err := exporter.Config{OTLP: exporter.OTLP{Endpoint: "collector:4317"}}.Validate()
	fmt.Println(err)
	// Output:
	// exporter: invalid config: OTLP.Endpoint "collector:4317": want an http or https URL such as "http://localhost:4317"
}
