package exporter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
)

func ExampleProvider_DebugHandler() {
	ctx := context.Background()
	p, err := exporter.Setup(ctx, exporter.Config{Exporters: []string{"prometheus"}, ServiceName: "shop"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(ctx)
	mw, err := otelred.New(otelred.WithMeterProvider(p),
		otelred.WithFilter(func(r *http.Request) bool {
			return r.URL.Path != "/metrics" && r.URL.Path != "/debug/red"
		}))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(http.ResponseWriter, *http.Request) {})
	mux.Handle("GET /metrics", p.Handler())
	mux.Handle("GET /debug/red", p.DebugHandler()) // the page, for a browser
	h := mw(mux)

	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/42", nil))

	// The page's JSON feed; rates need a second collection, a second on.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/red?format=json", nil))
	var feed struct {
		Service  string
		Sections []struct {
			Title string
			Key   string
			Rows  []struct{ Name string }
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &feed); err != nil {
		log.Fatal(err)
	}
	fmt.Println(feed.Service)
	for _, s := range feed.Sections {
		for _, r := range s.Rows {
			fmt.Printf("%s, %s %s\n", s.Title, s.Key, r.Name)
		}
	}
	// Output:
	// shop
	// HTTP server, http.route /items/{id}
}
