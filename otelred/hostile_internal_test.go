package otelred

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/otelred/otelred/otelred/internal/red"
)

// okTransport answers every request with 200.
type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: http.NoBody, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// TestHostileValuesAreNeverCacheKeys checks that values are cleaned before
// the caches that keep their keys: a long host, operation name or route
// is never kept, and a value that is not valid UTF-8 is kept only as its
// cleaned form.
func TestHostileValuesAreNeverCacheKeys(t *testing.T) {
	mp := noop.NewMeterProvider()
	huge := strings.Repeat("h", 60_000)
	bad, cleaned := "b\xffd", "b\uFFFDd"

	rt, err := NewTransport(okTransport{}, WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	tr := rt.(*transport)
	for _, host := range []string{huge, bad} {
		req := (&http.Request{Method: "GET", URL: &url.URL{Scheme: "http", Host: host, Path: "/"}, Header: http.Header{}}).WithContext(context.Background())
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	wantKeys(t, "the Transport's hosts", tr.hosts, huge, bad, cleaned)
	wantKeys(t, "the Transport's series", tr.series, huge, bad, cleaned+":80")

	ops, err := NewOperations(WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	ops.Start(context.Background(), huge).End(nil)
	ops.Start(context.Background(), bad).End(nil)
	wantKeys(t, "the operations", ops.ops, huge, bad, cleaned)

	m, err := newMiddleware("New", []Option{WithMeterProvider(mp), WithProfile(Classic), WithService("shop"),
		WithRoute(func(r *http.Request) string { return r.Header.Get("X-Route") })})
	if err != nil {
		t.Fatal(err)
	}
	h := m.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, route := range []string{"/" + huge, "/" + bad} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header = http.Header{"X-Route": {route}}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	wantKeys(t, "the middleware's series", m.series, "/"+huge, "/"+bad, "/"+cleaned)
	wantKeys(t, "Classic's in-flight gauges", m.routes, "/"+huge, "/"+bad, "/"+cleaned)
}

// wantKeys checks that c holds the key kept and neither long nor raw.
func wantKeys[V any](t *testing.T, what string, c *red.Cache[V], long, raw, kept string) {
	t.Helper()
	if c.Route(long) != nil {
		t.Errorf("%s keep a key of %d bytes", what, len(long))
	}
	if c.Route(raw) != nil {
		t.Errorf("%s keep the raw key %q", what, raw)
	}
	if c.Route(kept) == nil {
		t.Errorf("%s do not keep %q", what, kept)
	}
}
