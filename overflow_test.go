package otelred_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// TestOverflowIsReportedOnce is the set-up of a service with more routes
// than the cardinality limit holds: a ServeMux of 600 routes, each
// answered 200, 404 and 500 (1,800 attribute sets), through exporter.Setup
// and otelred.New with their defaults. The limit (1,000) folds the other
// 800 into the two overflow series, which the scrape holds exactly; the
// fold is reported once, for the duration histogram, naming the limit and
// the options that raise it.
func TestOverflowIsReportedOnce(t *testing.T) {
	t.Setenv("OTELRED_CARDINALITY_LIMIT", "")
	got := testsupport.CaptureReports(t)
	p, err := exporter.Setup(context.Background(), exporter.Config{Exporters: []string{"prometheus"}, ServiceName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	red, err := otelred.New(otelred.WithMeterProvider(p))
	if err != nil {
		t.Fatal(err)
	}
	const routes = 600
	mux := http.NewServeMux()
	for i := range routes {
		mux.HandleFunc(fmt.Sprintf("GET /r%d/{id}", i), func(w http.ResponseWriter, r *http.Request) {
			status, _ := strconv.Atoi(r.URL.Query().Get("status"))
			w.WriteHeader(status)
		})
	}
	mux.Handle("GET /metrics", p.Handler())
	srv := httptest.NewServer(red(mux))
	t.Cleanup(srv.Close)
	for i := range routes {
		for _, status := range []int{200, 404, 500} {
			get(t, fmt.Sprintf("%s/r%d/x?status=%d", srv.URL, i, status))
		}
	}

	got.Want(t, otelred.ErrCardinalityLimit, "otelred: the cardinality limit folds attribute sets into the overflow series: "+
		"http.server.request.duration of New has reached its limit of 1000 attribute sets, with 1001 asked for so far: "+
		"the new ones are recorded in the overflow series (http.route=\"overflow\", otel.metric.overflow=true), so nothing is lost, "+
		"but they are not told apart. Raise the limit with WithCardinalityLimit, or exporter Config.CardinalityLimit (OTELRED_CARDINALITY_LIMIT), "+
		"which the Provider of exporter.Setup hands to otelred, or bound the values (see docs/middleware.md#the-cardinality-limit)")

	// The first 1,000 sets in the order sent (333 routes, and the 200 of
	// /r333/{id}) have a series each; the 404 of /r333/{id} and the 200
	// and 404 of the 266 routes after it are in the overflow's series,
	// and their 500s in its failures'.
	body := get(t, srv.URL+"/metrics")
	testsupport.Promtool(t, body)
	var own, total uint64
	overflow := map[string]uint64{}
	for _, m := range parse(t, body)["http_server_request_duration_seconds"].GetMetric() {
		n := m.GetHistogram().GetSampleCount()
		total += n
		switch {
		case label(m, "otel_metric_overflow") == "true":
			overflow[labels(m)] = n
		case n != 1:
			t.Errorf("%s counted %d requests, want 1", labels(m), n)
		default:
			own++
		}
	}
	if own != 1000 || total != 3*routes {
		t.Errorf("%d series of their own and %d requests; want 1000 and %d", own, total, 3*routes)
	}
	if want := map[string]uint64{
		`http_route="overflow",otel_metric_overflow="true"`:                     533,
		`error_type="_OTHER",http_route="overflow",otel_metric_overflow="true"`: 267,
	}; fmt.Sprint(overflow) != fmt.Sprint(want) {
		t.Errorf("overflow series:\n got  %v\n want %v", overflow, want)
	}
}
