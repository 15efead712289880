package exporter_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// worstFigures are the bounds docs/reliability.md states for the worst
// case of long values (see TestWorstCaseStaysBounded), by profile.
var worstFigures = map[otelred.Profile]struct {
	scrape, export, oneExport, heap int
}{
	// oneExport is what one instrumentation at the limit (the server)
	// sends; export is the server's and the client's together.
	otelred.Semconv: {scrape: 100 << 20, export: 8 << 20, oneExport: 3584 << 10, heap: 64 << 20},
	otelred.Classic: {scrape: 100 << 20, export: 12 << 20, oneExport: 6 << 20, heap: 64 << 20},
}

// grpcDefaultLimit is the most a gRPC server takes in one message unless
// configured otherwise (grpc-go's default, which collectors keep).
const grpcDefaultLimit = 4 << 20

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

// TestWorstCaseStaysBounded fills every series the default cardinality
// limit (1000) allows, and more, with values of exactly
// otelred.MaxValueLength bytes wherever a value comes from outside: the
// server's four declared attributes and its route (WithRoute), and a
// Transport's four attributes and its hosts (100 distinct ones, as many as
// it records by name), after values of 4 KiB and more, which must take no
// series of their own. WithBodySizes is on and every request fails, so
// that every instrument has a point for every series. In each profile it
// checks that the Prometheus scrape, the one OTLP export the peer
// received, and the growth of the live heap each stay under the figures
// of worstFigures; and, for Semconv, that what the server alone sends
// passes a default gRPC server's 4 MiB limit.
func TestWorstCaseStaysBounded(t *testing.T) {
	const (
		tooLongRequests = 50
		requests        = otelred.DefaultCardinalityLimit + 50 // the last ones overflow
	)
	for _, profile := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(profile.String(), func(t *testing.T) {
			figures := worstFigures[profile]
			clearEnv(t)
			errs := captureErrors(t)
			// OTLP/HTTP, which has no 4 MiB limit, so that the export's size is
			// measured whatever it is.
			rcv := otlptest.Start(t, otlptest.HTTP)
			p := setup(t, exporter.Config{
				Exporters:   []string{"prometheus", "otlp"},
				ServiceName: "shop",
				Naming:      profile.String(),
				OTLP:        exporter.OTLP{Protocol: otlptest.HTTP, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: 10 * time.Second},
			})
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
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()

			// send sends request i to the server and to the client, with
			// every value from outside made by value.
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
			before := liveHeap()
			// First, values far past the bound, as an attacker sends them:
			// they are _OTHER, and leave the series to the values below.
			for i := range tooLongRequests {
				send(i, func(what string, i int) string { return what + strconv.Itoa(i) + strings.Repeat("w", 4<<10) })
			}
			for i := range requests {
				send(i, maxValue)
			}
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
			reqs := rcv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("the peer holds %d exports, want 1", len(reqs))
			}
			export := reqs[0]
			server, client := only(export, "http.server.", "http_request", "http_response", "http_error"), only(export, "http.client.", "http_client_")
			t.Logf("%s, values of %d bytes, %d requests to the server and to the client (and %d with values of 4 KiB): scrape %s, one OTLP export %s (%d points; the server's %s, the client's %s), live heap %+.1f MiB",
				profile, otelred.MaxValueLength, requests, tooLongRequests, mib(scrapeBytes), mib(proto.Size(export)), points(export),
				mib(proto.Size(server)), mib(proto.Size(client)), float64(heap)/(1<<20))

			// Every series the limit allows, of every instrument: a check
			// that the case is the worst.
			if n, want := points(server), otelred.DefaultCardinalityLimit+1; n < want {
				t.Errorf("the server's export has %d points, want at least %d: the limit is not reached", n, want)
			}
			if scrapeBytes > figures.scrape {
				t.Errorf("the scrape is %s, more than %s", mib(scrapeBytes), mib(figures.scrape))
			}
			if n := proto.Size(export); n > figures.export {
				t.Errorf("one OTLP export is %s, more than %s", mib(n), mib(figures.export))
			}
			if n := proto.Size(server); n > figures.oneExport {
				t.Errorf("the server's part of the export is %s, more than %s", mib(n), mib(figures.oneExport))
			}
			if profile == otelred.Semconv {
				sendOverGRPC(t, ctx, server)
			}
			switch {
			case raceEnabled:
				t.Logf("the live heap is not checked under -race, which changes it: run without -race")
			case heap > figures.heap:
				t.Errorf("the live heap grew by %.1f MiB, more than %s", float64(heap)/(1<<20), mib(figures.heap))
			}
			// The limit is reached on purpose: each instrument whose sets
			// it folds reports it once (the server's duration and the
			// client's, and Classic's in-flight gauge by route), and
			// nothing else reaches otel.Handle.
			folds, others := errs.wrapping(otelred.ErrCardinalityLimit)
			wantFolds := 2
			if profile == otelred.Classic {
				wantFolds = 3
			}
			if len(folds) != wantFolds || others != 0 {
				t.Errorf("%d reports of the cardinality limit (want %d) and %d other errors reached otel.Handle:\n%s", len(folds), wantFolds, others, errs)
			}
		})
	}
}

// only returns a copy of req with only the metrics whose names begin with
// one of prefixes: what one instrumentation would send alone.
func only(req *colmetricpb.ExportMetricsServiceRequest, prefixes ...string) *colmetricpb.ExportMetricsServiceRequest {
	out := proto.Clone(req).(*colmetricpb.ExportMetricsServiceRequest)
	for _, rm := range out.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			var kept []*metricpb.Metric
			for _, m := range sm.GetMetrics() {
				for _, p := range prefixes {
					if strings.HasPrefix(m.GetName(), p) {
						kept = append(kept, m)
						break
					}
				}
			}
			sm.Metrics = kept
		}
	}
	return out
}

// points counts the data points of every metric in req.
func points(req *colmetricpb.ExportMetricsServiceRequest) int {
	n := 0
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				n += len(m.GetHistogram().GetDataPoints()) + len(m.GetSum().GetDataPoints()) + len(m.GetGauge().GetDataPoints())
			}
		}
	}
	return n
}

// sendOverGRPC sends req to a default gRPC peer, which must take it.
func sendOverGRPC(t *testing.T, ctx context.Context, req *colmetricpb.ExportMetricsServiceRequest) {
	t.Helper()
	if n := proto.Size(req); n >= grpcDefaultLimit {
		t.Errorf("the export is %s, not under a default gRPC server's %s", mib(n), mib(grpcDefaultLimit))
		return
	}
	rcv := otlptest.Start(t, otlptest.GRPC)
	conn, err := grpc.NewClient("passthrough:///"+rcv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := colmetricpb.NewMetricsServiceClient(conn).Export(ctx, req); err != nil {
		t.Errorf("a default gRPC peer refused the export of %s: %v", mib(proto.Size(req)), err)
	}
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
