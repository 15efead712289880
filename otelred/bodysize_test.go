package otelred_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// sizes returns the sum and count of an Int64 histogram per route.
func sizes(t *testing.T, rm metricdata.ResourceMetrics, name string, key string) map[string][2]int64 {
	t.Helper()
	hist, ok := find(t, rm, name).Data.(metricdata.Histogram[int64])
	if !ok {
		t.Fatalf("%s is not an int64 histogram", name)
	}
	got := map[string][2]int64{}
	for _, dp := range hist.DataPoints {
		v, _ := dp.Attributes.Value(otelred.Semconv.Names().Route)
		if key == "host" {
			v, _ = dp.Attributes.Value(otelred.Semconv.ClientNames().ServerAddress)
		}
		g := got[v.String()]
		got[v.String()] = [2]int64{g[0] + dp.Sum, g[1] + int64(dp.Count)}
	}
	return got
}

// TestBodySizesAreExact serves requests with bodies of known sizes, read
// and written every way a handler does, and checks that each size
// histogram holds exactly the bytes read and written.
func TestBodySizesAreExact(t *testing.T) {
	file := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(file, bytes.Repeat([]byte("f"), 70_000), 0o644); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(make([]byte, 123))
	})
	mux.HandleFunc("POST /partial", func(w http.ResponseWriter, r *http.Request) {
		r.Body.Read(make([]byte, 10)) // one read, of at most 10 bytes
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /readfrom", func(w http.ResponseWriter, _ *http.Request) {
		io.Copy(w, strings.NewReader(strings.Repeat("s", 5000)))
	})
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, _ *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		io.Copy(w, f) // the sendfile path of ReadFrom
	})
	mux.HandleFunc("GET /empty", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/head", func(w http.ResponseWriter, _ *http.Request) { w.Write(make([]byte, 42)) })

	h := newHarness(t, otelred.WithBodySizes())
	s := h.server(mux)
	send := func(method, path string, body io.Reader) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		h.served.Add(1)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h.served.Wait()
	}
	send("POST", "/echo", strings.NewReader(strings.Repeat("b", 1000)))
	send("POST", "/echo", io.MultiReader(strings.NewReader(strings.Repeat("c", 3000)))) // chunked: length unknown
	send("POST", "/partial", strings.NewReader(strings.Repeat("p", 1000)))
	send("GET", "/readfrom", nil)
	send("GET", "/file", nil)
	send("GET", "/empty", nil)
	send("HEAD", "/head", nil)

	rm := h.collect()
	names := otelred.Semconv.Names()
	for _, tc := range []struct {
		name string
		want map[string][2]int64 // route => sum, count
	}{
		{names.RequestBodySize, map[string][2]int64{
			"/echo": {4000, 2}, "/partial": {10, 1}, "/readfrom": {0, 1}, "/file": {0, 1}, "/empty": {0, 1}, "/head": {0, 1},
		}},
		{names.ResponseBodySize, map[string][2]int64{
			"/echo": {246, 2}, "/partial": {2, 1}, "/readfrom": {5000, 1}, "/file": {70_000, 1}, "/empty": {0, 1}, "/head": {0, 1},
		}},
	} {
		if got := sizes(t, rm, tc.name, ""); render(got) != render(tc.want) {
			t.Errorf("%s (sum, count by route) = %s, want %s", tc.name, render(got), render(tc.want))
		}
		if m := find(t, rm, tc.name); m.Unit != "By" {
			t.Errorf("%s unit = %q, want By", tc.name, m.Unit)
		}
	}
}

// TestBodySizesOffByDefault checks that without WithBodySizes no size is
// recorded and the handler reads the request body it was sent, not a
// wrapper; and that with it, the body is put back once the handler returns.
func TestBodySizesOffByDefault(t *testing.T) {
	for _, on := range []bool{false, true} {
		var opts []otelred.Option
		if on {
			opts = append(opts, otelred.WithBodySizes())
		}
		h := newHarness(t, opts...)
		var inside, after, original io.ReadCloser
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inside = r.Body; io.Copy(io.Discard, r.Body) })
		outer := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				original = r.Body
				next.ServeHTTP(w, r)
				after = r.Body
			})
		}
		s := h.serverAround(outer, inner)
		h.served.Add(1)
		resp, err := s.Client().Post(s.URL+"/", "text/plain", strings.NewReader("hello"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h.served.Wait()
		if after != original {
			t.Errorf("body sizes %v: r.Body after the middleware is %T, want the original %T", on, after, original)
		}
		if (inside != original) != on {
			t.Errorf("body sizes %v: the handler read %T, the server sent %T", on, inside, original)
		}
		var got []string
		for _, sm := range h.collect().ScopeMetrics {
			for _, m := range sm.Metrics {
				if strings.Contains(m.Name, "body.size") {
					got = append(got, m.Name)
				}
			}
		}
		want := 0
		if on {
			want = 2
		}
		if len(got) != want {
			t.Errorf("body sizes %v: size instruments collected: %q", on, got)
		}
	}
}

// TestClientBodySizes checks the client's sizes: those a request and a
// response declare, and none where the length is unknown.
func TestClientBodySizes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/stream" {
			w.Write(make([]byte, 10))
			w.(http.Flusher).Flush() // chunked: no Content-Length
			return
		}
		w.Write(make([]byte, 555))
	}))
	t.Cleanup(srv.Close)
	c := newClientHarness(t, nil, otelred.WithBodySizes())
	for _, tc := range []struct {
		method, path string
		body         io.Reader
	}{
		{"POST", "/known", strings.NewReader(strings.Repeat("k", 777))},
		{"POST", "/stream", io.MultiReader(strings.NewReader("unknown length"))},
		{"GET", "/known", nil},
		{"HEAD", "/known", nil},
	} {
		req, err := http.NewRequestWithContext(context.Background(), tc.method, srv.URL+tc.path, tc.body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	rm := c.collect()
	names := otelred.Semconv.ClientNames()
	for _, tc := range []struct {
		name string
		want [2]int64
	}{
		{names.RequestBodySize, [2]int64{777, 3}},   // 777 + GET's 0 + HEAD's 0; the stream's is unknown
		{names.ResponseBodySize, [2]int64{1110, 3}}, // 555 twice and HEAD's 0; the stream's is unknown
	} {
		if got := sizes(t, rm, tc.name, "host")["127.0.0.1"]; got != tc.want {
			t.Errorf("%s (sum, count) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
