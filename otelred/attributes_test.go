package otelred_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// tenantMux serves /orders/{id}: it sets tenant from the X-Tenant header
// through a writer that hides otelred's, and plan on /orders/7 only.
func tenantMux(t *testing.T) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if tenant := r.Header.Get("X-Tenant"); tenant != "" {
			if !otelred.SetAttribute(unwrapping{w}, "tenant", tenant) {
				t.Errorf("SetAttribute(tenant) = false inside the middleware")
			}
		}
		if r.PathValue("id") == "7" && !otelred.SetAttribute(w, "plan", "gold") {
			t.Errorf("SetAttribute(plan) = false inside the middleware")
		}
		if otelred.SetAttribute(w, "region", "eu") {
			t.Errorf("SetAttribute of an undeclared key = true")
		}
		if r.Header.Get("X-Fail") != "" {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	return mux
}

// sendAs sends GET path to s with the given tenant header ("" for none),
// and a failure when fail is set.
func (h *harness) sendAs(s *httptest.Server, path, tenant string, fail bool) {
	h.t.Helper()
	req, err := http.NewRequest("GET", s.URL+path, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if tenant != "" {
		req.Header.Set("X-Tenant", tenant)
	}
	if fail {
		req.Header.Set("X-Fail", "1")
	}
	if resp := h.send(s, req); resp == nil {
		h.t.Fatalf("GET %s: no response", path)
	}
}

// TestAttributesSetByHandlers checks that the values handlers set join
// their own request's series, with exact counts: each tenant apart, a
// value outside the allow-list as _OTHER, a request that sets nothing
// without the key, and the writer reused from the pool set afresh.
func TestAttributesSetByHandlers(t *testing.T) {
	h := newHarness(t, otelred.WithAttribute("tenant"), otelred.WithAttribute("plan", "gold", "free"))
	s := h.server(tenantMux(t))
	for range 3 {
		h.sendAs(s, "/orders/1", "acme", false)
	}
	h.sendAs(s, "/orders/1", "globex", false)
	h.sendAs(s, "/orders/7", "acme", false)
	h.sendAs(s, "/orders/1", "", false)
	h.sendAs(s, "/orders/1", "globex", true)

	base := series("GET", "/orders/{id}", 200, "")
	wantCounts(t, h.counts(duration), map[string]uint64{
		base: 1,
		"http.request.method=GET,http.response.status_code=200,http.route=/orders/{id},network.protocol.version=1.1,tenant=acme,url.scheme=http":                  3,
		"http.request.method=GET,http.response.status_code=200,http.route=/orders/{id},network.protocol.version=1.1,tenant=globex,url.scheme=http":                1,
		"http.request.method=GET,http.response.status_code=200,http.route=/orders/{id},network.protocol.version=1.1,plan=gold,tenant=acme,url.scheme=http":        1,
		"error.type=502,http.request.method=GET,http.response.status_code=502,http.route=/orders/{id},network.protocol.version=1.1,tenant=globex,url.scheme=http": 1,
	})

	// An allow-list keeps other values out: plan=platinum is _OTHER.
	h2 := newHarness(t, otelred.WithAttribute("plan", "gold", "free"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		otelred.SetAttribute(w, "plan", r.URL.Query().Get("plan"))
	})
	s2 := h2.server(mux)
	for _, plan := range []string{"gold", "platinum", "diamond", "free", ""} {
		h2.do(s2, "GET", "/?plan="+plan)
	}
	wantCounts(t, h2.counts(duration), map[string]uint64{
		"http.request.method=GET,http.response.status_code=200,http.route=/,network.protocol.version=1.1,plan=_OTHER,url.scheme=http": 2,
		"http.request.method=GET,http.response.status_code=200,http.route=/,network.protocol.version=1.1,plan=free,url.scheme=http":   1,
		"http.request.method=GET,http.response.status_code=200,http.route=/,network.protocol.version=1.1,plan=gold,url.scheme=http":   1,
		series("GET", "/", 200, ""): 1,
	})
}

// TestAttributesClassic checks that Classic labels its counters and its
// histogram with the key, and its in-flight gauge without it.
func TestAttributesClassic(t *testing.T) {
	h := newHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"), otelred.WithAttribute("tenant"))
	s := h.server(tenantMux(t))
	h.sendAs(s, "/orders/1", "acme", false)
	h.sendAs(s, "/orders/1", "acme", true)
	h.sendAs(s, "/orders/1", "", false)

	names := otelred.Classic.Names()
	wantCounts(t, h.counts(names.Duration), map[string]uint64{
		"method=GET,path=/orders/{id},service=shop,status_code=200":             1,
		"method=GET,path=/orders/{id},service=shop,status_code=200,tenant=acme": 1,
		"method=GET,path=/orders/{id},service=shop,status_code=502,tenant=acme": 1,
	})
	testsupport.WantEqual(t, names.Requests, h.sums(names.Requests), map[string]int64{
		"method=GET,path=/orders/{id},service=shop,status_code=200":             1,
		"method=GET,path=/orders/{id},service=shop,status_code=200,tenant=acme": 1,
		"method=GET,path=/orders/{id},service=shop,status_code=502,tenant=acme": 1,
	})
	testsupport.WantEqual(t, names.Errors, h.sums(names.Errors), map[string]int64{
		"method=GET,path=/orders/{id},service=shop,status_code=502,tenant=acme": 1,
	})
	testsupport.WantEqual(t, names.Active, h.sums(names.Active), map[string]int64{
		"method=GET,path=/orders/{id},service=shop": 0,
	})
}

// TestAttributesPastTheLimit checks that combinations of values past the
// cardinality limit go to the overflow series, failures apart, and never
// to a new one; combinations seen before still get their own.
func TestAttributesPastTheLimit(t *testing.T) {
	h := newHarness(t, otelred.WithAttribute("tenant"), otelred.WithCardinalityLimit(3))
	s := h.server(tenantMux(t))
	h.sendAs(s, "/orders/1", "t1", false)
	h.sendAs(s, "/orders/1", "t2", false)
	h.sendAs(s, "/orders/1", "t3", false) // a third combination: the series cache is full
	for i := 4; i <= 9; i++ {
		h.sendAs(s, "/orders/1", fmt.Sprintf("t%d", i), i%2 == 0)
	}
	h.sendAs(s, "/orders/1", "t1", false)
	h.sendAs(s, "/orders/1", "", false) // no combination, but no room for the series either

	tenant := func(v string) string {
		return "http.request.method=GET,http.response.status_code=200,http.route=/orders/{id},network.protocol.version=1.1,tenant=" + v + ",url.scheme=http"
	}
	wantCounts(t, h.counts(duration), map[string]uint64{
		tenant("t1"): 2,
		tenant("t2"): 1,
		tenant("t3"): 1,
		"http.route=overflow,otel.metric.overflow=true":                   4,
		"error.type=_OTHER,http.route=overflow,otel.metric.overflow=true": 3,
	})
}

// TestAttributesOfTheClient checks that a Transport records the values of
// the request's context, the newest of a key winning, and ignores keys it
// did not declare.
func TestAttributesOfTheClient(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(backend.Close)
	r, rt := testsupport.Build(t, otelred.ScopeName, func(mp metric.MeterProvider) (http.RoundTripper, error) {
		return otelred.NewTransport(nil, otelred.WithMeterProvider(mp), otelred.WithAttribute("tenant"), otelred.WithAttribute("api", "v1", "v2"))
	})
	c := &http.Client{Transport: rt}
	get := func(ctx context.Context, path string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, "GET", backend.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ctx := context.Background()
	acme := otelred.ContextWithAttribute(ctx, "tenant", "acme")
	get(acme, "/")
	get(acme, "/fail")
	get(otelred.ContextWithAttribute(acme, "tenant", "globex"), "/") // the newest wins
	get(otelred.ContextWithAttribute(acme, "tenant", ""), "/")       // unset again
	get(otelred.ContextWithAttribute(acme, "api", "v9"), "/")        // not allowed
	get(otelred.ContextWithAttribute(ctx, "region", "eu"), "/")      // not declared
	get(otelred.ContextWithAttribute(otelred.ContextWithAttribute(ctx, "api", "v2"), "tenant", "acme"), "/")

	_, port, _ := strings.Cut(strings.TrimPrefix(backend.URL, "http://"), ":")
	peer := "http.request.method=GET,http.response.status_code=%d,network.protocol.version=1.1,server.address=127.0.0.1,server.port=" + port
	ok, failed := fmt.Sprintf(peer, 200), "error.type=503,"+fmt.Sprintf(peer, 503)
	wantCounts(t, r.Counts(otelred.Semconv.ClientNames().Duration), map[string]uint64{
		ok + ",tenant=acme":                 1,
		failed + ",tenant=acme":             1,
		ok + ",tenant=globex":               1,
		ok:                                  2,
		"api=_OTHER," + ok + ",tenant=acme": 1,
		"api=v2," + ok + ",tenant=acme":     1,
	})
}

// TestWithAttributeErrors checks that each misuse of WithAttribute is
// refused, with an error that names it.
func TestWithAttributeErrors(t *testing.T) {
	five := []otelred.Option{otelred.WithAttribute("a"), otelred.WithAttribute("b"), otelred.WithAttribute("c"), otelred.WithAttribute("d"), otelred.WithAttribute("e")}
	for _, tc := range []struct {
		name string
		new  func() error
		want string
	}{
		{"empty key", func() error { _, err := otelred.New(otelred.WithAttribute("")); return err }, `WithAttribute(""): empty key`},
		{"declared twice", func() error {
			_, err := otelred.New(otelred.WithAttribute("tenant"), otelred.WithAttribute("tenant"))
			return err
		}, `WithAttribute("tenant"): declared twice`},
		{"five keys", func() error { _, err := otelred.New(five...); return err }, `WithAttribute("e"): at most 4 keys`},
		{"empty allowed value", func() error { _, err := otelred.New(otelred.WithAttribute("plan", "gold", "")); return err }, `WithAttribute("plan"): an allowed value is empty`},
		{"a semconv key", func() error { _, err := otelred.New(otelred.WithAttribute("http.route")); return err }, `New: WithAttribute("http.route"): the semconv profile records "http.route" itself`},
		{"a classic label", func() error {
			_, err := otelred.NewTransport(nil, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"), otelred.WithAttribute("host"))
			return err
		}, `NewTransport: WithAttribute("host"): the classic profile records "host" itself`},
		{"operations", func() error { _, err := otelred.NewOperations(otelred.WithAttribute("tenant")); return err }, "WithAttribute does not apply to NewOperations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.new()
			if !errors.Is(err, otelred.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want ErrInvalidOption with %q", err, tc.want)
			}
		})
	}
}

// TestSetAttributeOutsideTheMiddleware checks that SetAttribute reports
// false, and does nothing, on a writer that is not otelred's, on a
// request the filter leaves out, and when no key was declared.
func TestSetAttributeOutsideTheMiddleware(t *testing.T) {
	if otelred.SetAttribute(httptest.NewRecorder(), "tenant", "acme") {
		t.Errorf("SetAttribute on a plain recorder = true")
	}
	var got []bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, _ *http.Request) {
		got = append(got, otelred.SetAttribute(w, "tenant", "acme"))
	})
	for _, opts := range [][]otelred.Option{
		{otelred.WithAttribute("tenant"), otelred.WithFilter(func(*http.Request) bool { return false })},
		{},
	} {
		h := newHarness(t, opts...)
		h.do(h.server(mux), "GET", "/")
	}
	if fmt.Sprint(got) != "[false false]" {
		t.Errorf("SetAttribute on a filtered request and without keys = %v, want [false false]", got)
	}
}
