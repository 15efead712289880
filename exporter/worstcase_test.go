package exporter_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// worstFigures are the bounds docs/reliability.md states for the worst
// case of long values (see TestWorstCaseStaysBounded), by profile: the
// scrape, one OTLP export (a server's and a client's, all its requests
// together), and the growth of the live heap. Each request of the export
// is at most exporter.MaxExportBytes, and there are at most
// maxRequests of them.
var worstFigures = map[otelred.Profile]struct {
	scrape, export, heap int
}{
	otelred.Semconv: {scrape: 100 << 20, export: 8 << 20, heap: 64 << 20},
	otelred.Classic: {scrape: 100 << 20, export: 12 << 20, heap: 64 << 20},
}

// maxRequests returns the most requests an export of at most export bytes
// may take: as many as it fills at the budget, and one more, since every
// request but the last is filled close to it.
func maxRequests(export int) int { return export/exporter.MaxExportBytes + 1 }

const (
	// worstTooLong is the number of requests of the worst case with
	// values far past the bound, sent first.
	worstTooLong = 50
	// worstRequests is the number of requests of the worst case with
	// values of exactly the bound: the last ones overflow.
	worstRequests = otelred.DefaultCardinalityLimit + 50
)

// worstKeys are the four per-request attributes the worst case declares.
// Keys come from the program, as the service name does, not from
// requests; these are of a usual length.
var worstKeys = []string{"tenant", "region", "plan", "client.version"}

// maxValue returns a value of exactly otelred.MaxValueLength bytes, unique
// to what and i.
func maxValue(what string, i int) string {
	s := what + "-" + strconv.Itoa(i) + "-"
	return s + strings.Repeat("v", otelred.MaxValueLength-len(s))
}

// driveWorstCase fills every series the default cardinality limit (1000)
// allows, and more, on a server and a client instrumented on p in
// profile, with values of exactly otelred.MaxValueLength bytes wherever a
// value comes from outside: the server's four declared attributes and its
// route (WithRoute), and a Transport's four attributes and its hosts (100
// distinct ones, as many as it records by name), after worstTooLong
// requests with values of 4 KiB and more, which must take no series of
// their own. WithBodySizes is on and every request fails, so that every
// instrument has a point for every series.
func driveWorstCase(t *testing.T, ctx context.Context, p *exporter.Provider, profile otelred.Profile) {
	t.Helper()
	opts := []otelred.Option{otelred.WithMeterProvider(p), otelred.WithProfile(profile), otelred.WithService("shop"), otelred.WithBodySizes()}
	for _, k := range worstKeys {
		opts = append(opts, otelred.WithAttribute(k))
	}
	mw, err := otelred.New(append(opts, otelred.WithRoute(func(r *http.Request) string { return r.Header.Get("X-Route") }))...)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, k := range worstKeys {
			otelred.SetAttribute(w, k, r.Header.Get("X-"+k))
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("failed"))
	}))
	failed := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusBadGateway, Body: http.NoBody, ContentLength: 6, ProtoMajor: 1, ProtoMinor: 1, Request: req}, nil
	})
	tr, err := otelred.NewTransport(failed, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// send sends request i to the server and to the client, with every
	// value from outside made by value.
	send := func(i int, value func(what string, i int) string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader("body"))
		req.Header.Set("X-Route", "/"+value("route", i)[1:])
		reqCtx := ctx
		for _, k := range worstKeys {
			v := value(k, i)
			req.Header.Set("X-"+k, v)
			reqCtx = otelred.ContextWithAttribute(reqCtx, k, v)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)

		host := value("host", i%100)
		host = host[:len(host)-len(".example")] + ".example"
		out, err := http.NewRequestWithContext(reqCtx, "POST", "http://"+host+"/", strings.NewReader("body"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.RoundTrip(out); err != nil {
			t.Fatal(err)
		}
	}
	// First, values far past the bound, as an attacker sends them: they
	// are _OTHER, and leave the series to the values below.
	for i := range worstTooLong {
		send(i, func(what string, i int) string { return what + strconv.Itoa(i) + strings.Repeat("w", 4<<10) })
	}
	for i := range worstRequests {
		send(i, maxValue)
	}
}

// worstCounted are the metrics of the worst case that count requests, by
// profile: a histogram or a counter each.
var worstCounted = map[otelred.Profile][]string{
	otelred.Semconv: {
		"http.server.request.duration", "http.server.request.body.size", "http.server.response.body.size",
		"http.client.request.duration", "http.client.request.body.size", "http.client.response.body.size",
	},
	otelred.Classic: {
		"http_request_duration_seconds", "http_request_size_bytes", "http_response_size_bytes", "http_requests_total", "http_errors_total",
		"http_client_request_duration_seconds", "http_client_request_size_bytes", "http_client_response_size_bytes",
		"http_client_requests_total", "http_client_errors_total",
	},
}

// checkWorstDelivered checks that the requests of one export of the worst
// case (driveWorstCase), with their sizes as the peer received them, are
// each at most exporter.MaxExportBytes, hold each series once, and, taken
// together, every series of every metric that counts requests with its
// exact count: 1 for each of the first 999 values of the bound's length
// (the series of tenant _OTHER takes the 1000th place), worstTooLong for
// _OTHER, and the rest, 51, in the overflow series; and that every
// in-flight series is back to 0.
func checkWorstDelivered(t *testing.T, profile otelred.Profile, reqs []*colmetricpb.ExportMetricsServiceRequest, sizes []int) {
	t.Helper()
	for i, n := range sizes {
		if n > exporter.MaxExportBytes {
			t.Errorf("request %d of %d is %s, over the budget of %s", i+1, len(sizes), mib(n), mib(exporter.MaxExportBytes))
		}
	}
	tenant := map[string]int{} // a tenant of the bound's length, to its request
	for i := range worstRequests {
		tenant[maxValue("tenant", i)] = i
	}
	const own = otelred.DefaultCardinalityLimit - 1
	seen := map[string]bool{}          // metric name and attributes
	counts := map[string]map[int]int{} // by metric: the count of each tenant's series, -1 for _OTHER, -2 for the overflow
	for _, req := range reqs {
		for _, rm := range req.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					name := m.GetName()
					series := func(attrs map[string]string, count uint64, counted bool) {
						key := name + "{" + render(attrs) + "}"
						if seen[key] {
							t.Errorf("%s is in the export twice", key)
						}
						seen[key] = true
						if !counted {
							if count != 0 {
								t.Errorf("%s is %d, want 0", key, count)
							}
							return
						}
						which, ok := tenant[attrs["tenant"]]
						switch {
						case attrs["otel.metric.overflow"] == "true":
							which = -2
						case attrs["tenant"] == "_OTHER":
							which = -1
						case !ok:
							t.Errorf("%s is no series of the worst case", key)
							return
						}
						if counts[name] == nil {
							counts[name] = map[int]int{}
						}
						counts[name][which] += int(count)
					}
					for _, p := range m.GetHistogram().GetDataPoints() {
						series(otlptest.Attributes(p.GetAttributes()), p.GetCount(), true)
					}
					for _, p := range m.GetSum().GetDataPoints() {
						series(otlptest.Attributes(p.GetAttributes()), uint64(p.GetAsInt())+uint64(p.GetAsDouble()), m.GetSum().GetIsMonotonic())
					}
					for _, p := range m.GetGauge().GetDataPoints() {
						series(otlptest.Attributes(p.GetAttributes()), uint64(p.GetAsInt())+uint64(p.GetAsDouble()), false)
					}
				}
			}
		}
	}
	want := map[int]int{-1: worstTooLong, -2: worstRequests - own}
	for i := range own {
		want[i] = 1
	}
	for _, name := range worstCounted[profile] {
		if !maps.Equal(counts[name], want) {
			t.Errorf("%s: the peer holds %d series, want %d: %d of them with a count of 1, %d for _OTHER and %d overflowing; got %d for _OTHER and %d overflowing",
				name, len(counts[name]), len(want), own, worstTooLong, worstRequests-own, counts[name][-1], counts[name][-2])
		}
		delete(counts, name)
	}
	if len(counts) != 0 {
		t.Errorf("metrics that count requests and are not of the worst case: %v", slices.Sorted(maps.Keys(counts)))
	}
}

// TestWorstCaseStaysBounded drives the worst case (driveWorstCase) in each
// profile, with exporter.Setup serving Prometheus and pushing OTLP/HTTP to
// a real peer. It checks that the Prometheus scrape, one OTLP export (all
// its requests together), the number of requests it takes, and the growth
// of the live heap each stay under the figures of worstFigures; that each
// request is at most exporter.MaxExportBytes and the export delivers
// every series with its exact count (checkWorstDelivered); and that no
// error reaches otel.Handle.
func TestWorstCaseStaysBounded(t *testing.T) {
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(profile.String(), func(t *testing.T) {
			figures := worstFigures[profile]
			clearEnv(t)
			errs := captureErrors(t)
			rcv := otlptest.Start(t, otlptest.HTTP)
			p := setup(t, exporter.Config{
				Exporters:   []string{"prometheus", "otlp"},
				ServiceName: "shop",
				Naming:      profile.String(),
				OTLP:        exporter.OTLP{Protocol: otlptest.HTTP, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: 10 * time.Second},
			})
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			before := liveHeap()
			driveWorstCase(t, ctx, p, profile)
			// The steady state: the instruments and otelred's caches, after a
			// scrape.
			_, body := scrape(t, p.Handler(), "")
			scrapeBytes := len(body)
			testsupport.Promtool(t, body)
			body = ""
			heap := int(int64(liveHeap()) - int64(before))

			if err := p.ForceFlush(ctx); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}
			reqs, sizes := rcv.Requests(), rcv.Sizes()
			export, largest := 0, 0
			for _, n := range sizes {
				export += n
				largest = max(largest, n)
			}
			t.Logf("%s, values of %d bytes, %d requests to the server and to the client (and %d with values of 4 KiB): scrape %s, one OTLP export %s (%d points) in %d requests of %v bytes (the largest %s), live heap %+.1f MiB",
				profile, otelred.MaxValueLength, worstRequests, worstTooLong, mib(scrapeBytes), mib(export), points(reqs), len(reqs), sizes, mib(largest), float64(heap)/(1<<20))

			checkWorstDelivered(t, profile, reqs, sizes)
			if scrapeBytes > figures.scrape {
				t.Errorf("the scrape is %s, more than %s", mib(scrapeBytes), mib(figures.scrape))
			}
			if export > figures.export {
				t.Errorf("one OTLP export is %s, more than %s", mib(export), mib(figures.export))
			}
			if most := maxRequests(figures.export); len(reqs) > most || len(reqs) < 2 {
				t.Errorf("one OTLP export takes %d requests, want 2 to %d", len(reqs), most)
			}
			switch {
			case raceEnabled:
				t.Logf("the live heap is not checked under -race, which changes it: run without -race")
			case heap > figures.heap:
				t.Errorf("the live heap grew by %.1f MiB, more than %s", float64(heap)/(1<<20), mib(figures.heap))
			}
			checkOnlyLimitReports(t, profile, errs)
		})
	}
}

// checkOnlyLimitReports checks what reached otel.Handle in the worst case:
// the limit is reached on purpose, so each instrument whose sets it folds
// reports it once (the server's duration and the client's, and Classic's
// in-flight gauge by route), and nothing else is reported.
func checkOnlyLimitReports(t *testing.T, profile otelred.Profile, errs *errSink) {
	t.Helper()
	folds, others := errs.wrapping(otelred.ErrCardinalityLimit)
	wantFolds := 2
	if profile == otelred.Classic {
		wantFolds = 3
	}
	if len(folds) != wantFolds || others != 0 {
		t.Errorf("%d reports of the cardinality limit (want %d) and %d other errors reached otel.Handle:\n%s", len(folds), wantFolds, others, errs)
	}
}

// TestWorstCaseReachesADefaultGRPCCollector drives the worst case
// (driveWorstCase) in each profile, with exporter.Setup pushing OTLP/gRPC
// to a real peer that keeps grpc-go's default 4 MiB receive limit, which
// took none of it when one export was one request. It checks that
// ForceFlush and the final flush of Shutdown succeed, that each delivers
// every series with its exact count in requests of at most
// exporter.MaxExportBytes (checkWorstDelivered), and that nothing but the
// limit's own reports reaches otel.Handle (checkOnlyLimitReports).
func TestWorstCaseReachesADefaultGRPCCollector(t *testing.T) {
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(profile.String(), func(t *testing.T) {
			clearEnv(t)
			errs := captureErrors(t)
			rcv := otlptest.Start(t, otlptest.GRPC)
			p := setup(t, exporter.Config{
				Exporters:   []string{"otlp"},
				ServiceName: "shop",
				Naming:      profile.String(),
				OTLP:        exporter.OTLP{Protocol: otlptest.GRPC, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: 10 * time.Second},
			})
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			driveWorstCase(t, ctx, p, profile)

			start := time.Now()
			if err := p.ForceFlush(ctx); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}
			took := time.Since(start)
			flushed := len(rcv.Requests())
			checkWorstDelivered(t, profile, rcv.Requests(), rcv.Sizes())
			if err := p.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			reqs, sizes := rcv.Requests()[flushed:], rcv.Sizes()[flushed:]
			if most := maxRequests(worstFigures[profile].export); len(reqs) < 2 || len(reqs) > most {
				t.Errorf("the final flush took %d requests, want 2 to %d", len(reqs), most)
			}
			t.Logf("%s over gRPC: ForceFlush in %d requests of %v bytes, in %v; the final flush in %d of %v", profile, flushed, rcv.Sizes()[:flushed], took.Round(time.Millisecond), len(sizes), sizes)
			checkWorstDelivered(t, profile, reqs, sizes)
			checkOnlyLimitReports(t, profile, errs)
		})
	}
}

// points counts the data points of every metric in reqs.
func points(reqs []*colmetricpb.ExportMetricsServiceRequest) int {
	n := 0
	for _, req := range reqs {
		for _, rm := range req.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					n += len(m.GetHistogram().GetDataPoints()) + len(m.GetSum().GetDataPoints()) + len(m.GetGauge().GetDataPoints())
				}
			}
		}
	}
	return n
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(n int) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
