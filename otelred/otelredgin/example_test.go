package otelredgin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgin"
)

func ExampleMiddleware() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	r := gin.New()
	r.Use(gin.Recovery(), otelredgin.Middleware(otelred.WithMeterProvider(mp)))
	r.GET("/users/:id", func(c *gin.Context) { c.String(http.StatusOK, "hello %s", c.Param("id")) })

	for _, path := range []string{"/users/1", "/users/2", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}

	var rm metricdata.ResourceMetrics
	reader.Collect(context.Background(), &rm)
	var lines []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			for _, dp := range h.DataPoints {
				route, ok := dp.Attributes.Value("http.route")
				if !ok { // the request matched no route
					route = attribute.StringValue("(none)")
				}
				status, _ := dp.Attributes.Value("http.response.status_code")
				lines = append(lines, fmt.Sprintf("%s %s %d: %d", m.Name, route.AsString(), status.AsInt64(), dp.Count))
			}
		}
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// http.server.request.duration (none) 404: 1
	// http.server.request.duration /users/:id 200: 2
}
