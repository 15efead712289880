package exporter_test

// Hostile values: a value that is not valid UTF-8, or is too long, sent
// through each of otelred's entry points never stops an OTLP export nor
// drops a series from the scrape. The worst case of long values at the
// cardinality limit is in worstcase_test.go.

import (
	"context"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/internal/otlptest"
	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

// tooLong is one byte past the bound: it must be recorded as _OTHER.
var tooLong = strings.Repeat("x", otelred.MaxValueLength+1)

// wantSeries is one histogram series the peer and the scrape must hold,
// with its exact count.
type wantSeries struct {
	name  string            // the OTLP name
	attrs map[string]string // as otlptest spells them
	count uint64
}

// TestHostileValuesNeverStopExports sends values that are not valid UTF-8
// through each of otelred's entry points — SetAttribute on a server
// request (from a request header, as a handler would), SetRoute and
// WithRoute routes, ContextWithAttribute on a client request, a client
// host, a gRPC method name through a real grpc.Server with an
// UnknownServiceHandler, and an operation name — and values one byte too
// long through the same, with exporter.Setup pushing OTLP to a real peer
// and serving Prometheus. Over gRPC and HTTP, it checks that:
//   - every export succeeds: ForceFlush returns nil and nothing reaches
//     otel.Handle, then and after more traffic;
//   - the peer holds every series with its exact count, with U+FFFD in
//     place of the invalid bytes, values that differ only in their invalid
//     bytes in one series, and _OTHER for the long values;
//   - the Prometheus scrape holds the same series with the same counts,
//     and passes promtool check metrics.
func TestHostileValuesNeverStopExports(t *testing.T) {
	for _, proto := range []string{otlptest.GRPC, otlptest.HTTP} {
		t.Run(proto, func(t *testing.T) {
			clearEnv(t)
			errs := captureErrors(t)
			rcv := otlptest.Start(t, proto)
			p := setup(t, exporter.Config{
				Exporters:   []string{"prometheus", "otlp"},
				ServiceName: "shop",
				// Only ForceFlush exports, so that each export is one the
				// test asks for.
				OTLP: exporter.OTLP{Protocol: proto, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: 5 * time.Second},
			})
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()

			want := driveEveryEntryPoint(t, ctx, p)
			if err := p.ForceFlush(ctx); err != nil {
				t.Fatalf("ForceFlush after hostile values: %v", err)
			}
			checkPeer(t, rcv, want)
			checkScrape(t, p, want)

			// Exports go on: one more call of a known operation arrives.
			ops, err := otelred.NewOperations(otelred.WithMeterProvider(p))
			if err != nil {
				t.Fatal(err)
			}
			ops.Start(ctx, "job.after").End(nil)
			if err := p.ForceFlush(ctx); err != nil {
				t.Fatalf("the second ForceFlush: %v", err)
			}
			checkPeer(t, rcv, append(want, wantSeries{opName, map[string]string{"operation.name": "job.after"}, 1}))
			if n := errs.count(); n != 0 {
				t.Errorf("%d errors reached otel.Handle:\n%s", n, errs)
			}
		})
	}
}

const (
	serverName = "http.server.request.duration"
	clientName = "http.client.request.duration"
	rpcName    = otelredgrpc.DurationName
	opName     = "operation.duration"
)

// driveEveryEntryPoint sends the hostile values through every entry point
// of otelred, instrumented on mp, and returns the series they make.
func driveEveryEntryPoint(t *testing.T, ctx context.Context, p *exporter.Provider) []wantSeries {
	t.Helper()
	var want []wantSeries

	// The server: the tenant comes from a request header, as a handler
	// would take it; the route from SetRoute or from WithRoute.
	mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithAttribute("tenant"),
		otelred.WithRoute(func(r *http.Request) string { return r.Header.Get("X-Route") }))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("X-Tenant"); v != "" {
			otelred.SetAttribute(w, "tenant", v)
		}
		if v := r.Header.Get("X-Set-Route"); v != "" {
			otelred.SetRoute(w, v)
		}
	})))
	t.Cleanup(srv.Close)
	serve := func(header http.Header) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header // as they are: net/http sends bytes 0x80 to 0xff in values
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, tenant := range []string{"ac\xffme", "ac\xffme", "ac\xfe\xfdme"} {
		serve(http.Header{"X-Tenant": {tenant}, "X-Route": {"/orders"}})
	}
	serve(http.Header{"X-Tenant": {tooLong}, "X-Route": {"/orders"}})
	serve(http.Header{"X-Tenant": {tooLong + "y"}, "X-Route": {"/orders"}})
	serve(http.Header{"X-Set-Route": {"/users/\xff{id}"}})
	serve(http.Header{"X-Route": {"GET /items/\xc3{id}"}})
	serve(http.Header{"X-Route": {"/" + tooLong}})
	serve(http.Header{"X-Set-Route": {"/" + tooLong}})
	server := func(route string, kv ...string) map[string]string {
		m := map[string]string{"http.request.method": "GET", "http.route": route, "http.response.status_code": "200",
			"network.protocol.version": "1.1", "url.scheme": "http"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	want = append(want,
		wantSeries{serverName, server("/orders", "tenant", "ac\uFFFDme"), 3},
		wantSeries{serverName, server("/orders", "tenant", "_OTHER"), 2},
		wantSeries{serverName, server("/users/\uFFFD{id}"), 1},
		wantSeries{serverName, server("/items/\uFFFD{id}"), 1},
		wantSeries{serverName, server("_OTHER"), 2},
	)

	// The client: the tenant from the request's context, and hosts. Every
	// request reaches the test server, whatever its URL's host.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	base := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	t.Cleanup(base.CloseIdleConnections)
	tr, err := otelred.NewTransport(base, otelred.WithMeterProvider(p), otelred.WithAttribute("tenant"))
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context, host string) {
		t.Helper()
		req := (&http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: host, Path: "/"},
			Host: "localhost", Header: http.Header{"X-Route": {"/called"}}}).WithContext(ctx)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("GET http://%.40q/: %v", host, err)
		}
		resp.Body.Close()
	}
	local := srv.Listener.Addr().String()
	send(otelred.ContextWithAttribute(ctx, "tenant", "gl\xffobex"), local)
	send(otelred.ContextWithAttribute(ctx, "tenant", "gl\xc0obex"), local)
	send(otelred.ContextWithAttribute(ctx, "tenant", tooLong), local)
	send(ctx, "b\xffd.example:8080")
	send(ctx, strings.Repeat("h", 60_000)+".example")
	send(ctx, tooLong)
	_, port, _ := net.SplitHostPort(local)
	client := func(addr, port string, kv ...string) map[string]string {
		m := map[string]string{"http.request.method": "GET", "http.response.status_code": "200",
			"network.protocol.version": "1.1", "server.address": addr}
		if port != "" {
			m["server.port"] = port
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	want = append(want,
		wantSeries{clientName, client("127.0.0.1", port, "tenant", "gl\uFFFDobex"), 2},
		wantSeries{clientName, client("127.0.0.1", port, "tenant", "_OTHER"), 1},
		wantSeries{clientName, client("b\uFFFDd.example", "8080"), 1},
		wantSeries{clientName, client("_OTHER", ""), 2},
		// What the client sent, as the server saw it.
		wantSeries{serverName, server("/called"), 6},
	)

	// gRPC: a real server whose UnknownServiceHandler answers every
	// method, so each name from the wire is recognised.
	red, err := otelredgrpc.NewServer(otelred.WithMeterProvider(p))
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.StreamInterceptor(red.StreamInterceptor()), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		if err := ss.RecvMsg(new(wrapperspb.StringValue)); err != nil {
			return err
		}
		return ss.SendMsg(wrapperspb.String("ok"))
	}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, m := range []string{"/proxied.Svc/G\xffet", "/proxied.Svc/G\xfeet", "/proxied.Svc/" + tooLong} {
		if err := conn.Invoke(ctx, m, wrapperspb.String("x"), new(wrapperspb.StringValue)); err != nil {
			t.Fatalf("gRPC %.40q: %v", m, err)
		}
	}
	// The server records a call once its handler has returned, which may
	// come after the client has its answer: stop the server to wait.
	gs.GracefulStop()
	rpc := func(method string) map[string]string {
		return map[string]string{"rpc.method": method, "rpc.response.status_code": "OK", "rpc.system.name": "grpc"}
	}
	want = append(want,
		wantSeries{rpcName, rpc("proxied.Svc/G\uFFFDet"), 2},
		wantSeries{rpcName, rpc("_OTHER"), 1},
	)

	// Operations.
	ops, err := otelred.NewOperations(otelred.WithMeterProvider(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"job.\xff", "job.\xfe", tooLong} {
		_ = ops.Track(ctx, name, func(context.Context) error { return nil })
	}
	want = append(want,
		wantSeries{opName, map[string]string{"operation.name": "job.\uFFFD"}, 2},
		wantSeries{opName, map[string]string{"operation.name": "_OTHER"}, 1},
	)
	return want
}

// checkPeer checks that the peer's latest export holds exactly the series
// of want, with their counts, for each metric want names.
func checkPeer(t *testing.T, rcv *otlptest.Receiver, want []wantSeries) {
	t.Helper()
	reqs := rcv.Requests()
	if len(reqs) == 0 {
		t.Fatal("the peer holds no export")
	}
	got := map[string]map[string]uint64{} // by name, then by attributes
	for _, rm := range reqs[len(reqs)-1].GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				for _, dp := range m.GetHistogram().GetDataPoints() {
					if got[m.GetName()] == nil {
						got[m.GetName()] = map[string]uint64{}
					}
					got[m.GetName()][render(otlptest.Attributes(dp.GetAttributes()))] += dp.GetCount()
				}
			}
		}
	}
	for name, w := range byName(want, false) {
		testsupport.WantEqual(t, "the peer's "+name, got[name], w)
	}
}

// checkScrape checks that the scrape holds exactly the series of want,
// with their counts, and passes promtool.
func checkScrape(t *testing.T, p *exporter.Provider, want []wantSeries) {
	t.Helper()
	_, body := scrape(t, p.Handler(), "")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	for name, w := range byName(want, true) {
		family := strings.ReplaceAll(name, ".", "_") + "_seconds"
		got := map[string]uint64{}
		for _, m := range families[family].GetMetric() {
			got[render(promLabels(m))] += m.GetHistogram().GetSampleCount()
		}
		testsupport.WantEqual(t, "the scrape's "+family, got, w)
	}
	testsupport.Promtool(t, body)
}

// byName groups want by metric name, with attributes rendered, and with
// their names as Prometheus spells them when prom is set.
func byName(want []wantSeries, prom bool) map[string]map[string]uint64 {
	m := map[string]map[string]uint64{}
	for _, w := range want {
		if m[w.name] == nil {
			m[w.name] = map[string]uint64{}
		}
		attrs := w.attrs
		if prom {
			attrs = map[string]string{}
			for k, v := range w.attrs {
				attrs[strings.ReplaceAll(k, ".", "_")] = v
			}
		}
		m[w.name][render(attrs)] += w.count
	}
	return m
}

// render spells attributes as k=v pairs sorted by key. Values are quoted,
// so that a test failure shows invalid bytes.
func render(attrs map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(attrs[k]))
	}
	return b.String()
}

func promLabels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, lp := range m.GetLabel() {
		l[lp.GetName()] = lp.GetValue()
	}
	return l
}

// TestLongValuesStayBounded replays the long values that, before values
// were bounded, grew the heap, the scrape and the exports without limit:
// a value past otelred.MaxValueLength is now _OTHER, so each attack below
// adds one series, whose counts are exact.
func TestLongValuesStayBounded(t *testing.T) {
	const (
		maxHeap   = 2 << 20   // live heap growth, checked without -race
		maxScrape = 256 << 10 // the whole scrape
	)
	// tenants serves n requests whose tenant, from a header, is size bytes
	// long and unique, to a server on p; it returns the live heap growth.
	tenants := func(t *testing.T, p *exporter.Provider, n, size int) int64 {
		t.Helper()
		// A handler without a router, named by WithRoute: it would
		// otherwise report that its requests have no route.
		mw, err := otelred.New(otelred.WithMeterProvider(p), otelred.WithAttribute("tenant"),
			otelred.WithRoute(func(*http.Request) string { return "/tenants" }))
		if err != nil {
			t.Fatal(err)
		}
		h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			otelred.SetAttribute(w, "tenant", r.Header.Get("X-Tenant"))
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) // warm up
		before := liveHeap()
		for i := range n {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("X-Tenant", strconv.Itoa(i)+strings.Repeat("t", size-len(strconv.Itoa(i))))
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
		return int64(liveHeap()) - int64(before)
	}
	checkHeap := func(t *testing.T, growth int64) {
		t.Helper()
		switch {
		case raceEnabled:
			t.Logf("live heap %+d bytes, not checked under -race, which changes it: run without -race", growth)
		case growth > maxHeap:
			t.Fatalf("the live heap grew by %d bytes, more than %d", growth, maxHeap)
		default:
			t.Logf("live heap %+d bytes", growth)
		}
	}
	other := map[string]string{"http.request.method": "GET", "http.route": "/tenants", "http.response.status_code": "200",
		"network.protocol.version": "1.1", "tenant": "_OTHER", "url.scheme": "http"}
	warm := maps.Clone(other)
	delete(warm, "tenant")
	// checkScrape checks the size of the scrape, and that it counts n
	// requests in the series of want, and the warm-up request of
	// tenants apart from them when warmed.
	checkScrape := func(t *testing.T, p *exporter.Provider, family string, want map[string]string, n uint64, warmed bool) {
		t.Helper()
		_, body := scrape(t, p.Handler(), "")
		if len(body) > maxScrape {
			t.Fatalf("the scrape is %d bytes, more than %d", len(body), maxScrape)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("parsing the scrape: %v", err)
		}
		got := map[string]uint64{}
		for _, m := range families[family].GetMetric() {
			got[render(promLabels(m))] += m.GetHistogram().GetSampleCount()
		}
		promKey := func(attrs map[string]string) string {
			labels := map[string]string{}
			for k, v := range attrs {
				labels[strings.ReplaceAll(k, ".", "_")] = v
			}
			return render(labels)
		}
		wantCounts := map[string]uint64{promKey(want): n}
		if warmed {
			wantCounts[promKey(warm)] = 1
		}
		testsupport.WantEqual(t, family, got, wantCounts)
		t.Logf("scrape %d bytes", len(body))
	}

	t.Run("1000 tenants of 16 KiB", func(t *testing.T) {
		clearEnv(t)
		p := setup(t, exporter.Config{Exporters: []string{"prometheus"}})
		checkHeap(t, tenants(t, p, 1000, 16<<10))
		checkScrape(t, p, "http_server_request_duration_seconds", other, 1000, true)
	})
	t.Run("200 tenants of 512 KiB", func(t *testing.T) {
		clearEnv(t)
		p := setup(t, exporter.Config{Exporters: []string{"prometheus"}})
		checkHeap(t, tenants(t, p, 200, 512<<10))
		checkScrape(t, p, "http_server_request_duration_seconds", other, 200, true)
	})
	t.Run("600 tenants of 8 KiB to a default gRPC collector", func(t *testing.T) {
		clearEnv(t)
		errs := captureErrors(t)
		rcv := otlptest.Start(t, otlptest.GRPC)
		p := setup(t, exporter.Config{
			Exporters: []string{"otlp"},
			OTLP:      exporter.OTLP{Protocol: otlptest.GRPC, Endpoint: rcv.Endpoint(), Interval: time.Hour, Timeout: 5 * time.Second},
		})
		tenants(t, p, 600, 8<<10)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		if err := p.ForceFlush(ctx); err != nil {
			t.Fatalf("ForceFlush: %v", err)
		}
		if hp, ok := rcv.Histogram(serverName, other); !ok || hp.GetCount() != 600 {
			t.Errorf("the peer counts %d requests with tenant _OTHER (found %v), want 600", hp.GetCount(), ok)
		}
		if n := errs.count(); n != 0 {
			t.Errorf("%d errors reached otel.Handle:\n%s", n, errs)
		}
	})
	t.Run("100 client hosts of 60 KB", func(t *testing.T) {
		clearEnv(t)
		p := setup(t, exporter.Config{Exporters: []string{"prometheus"}})
		ok := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Body: http.NoBody, ProtoMajor: 1, ProtoMinor: 1, Request: req}, nil
		})
		tr, err := otelred.NewTransport(ok, otelred.WithMeterProvider(p))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			host := strconv.Itoa(i) + strings.Repeat("h", 60_000) + ".example"
			req := (&http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: host, Path: "/"}, Header: http.Header{}}).WithContext(context.Background())
			if _, err := tr.RoundTrip(req); err != nil {
				t.Fatal(err)
			}
		}
		checkScrape(t, p, "http_client_request_duration_seconds", map[string]string{"http.request.method": "GET",
			"http.response.status_code": "200", "network.protocol.version": "1.1", "server.address": "_OTHER"}, 100, false)
	})
}
