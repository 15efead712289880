package otelred_test

// Hardening: a cardinality attack, and handlers that stream, hijack, send
// large bodies or time out, each through a real server. Panics are covered
// by TestPanics (panic_test.go).

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelred/otelred/otelred"
)

// attackPatterns are the routes of the attacked service. "/dirs/{dir}/" has
// no method and ends in a slash, so ServeMux answers "/dirs/x" with its
// trailing-slash redirect.
var attackPatterns = []string{
	"GET /users/{id}",
	"POST /users",
	"PUT /items/{id}",
	"DELETE /items/{id}",
	"GET /files/{path...}",
	"/static/",
	"/dirs/{dir}/",
	"GET /{$}",
	"example.com/hosted",
	"GET /fail",
}

// handlerStatuses are the codes the attacked handlers answer with, picked
// by the length of the path so that every route sees several of them.
var handlerStatuses = []int{200, 201, 204, 404, 500, 503}

// muxStatuses are the codes ServeMux answers with itself: redirects (to
// the cleaned path, or to the path with a slash), 404 and 405, and 400 for
// "*".
var muxStatuses = []int{301, 307, 308, 400, 404, 405}

// attackTemplates returns the route templates of attackPatterns, as
// otelred records them.
func attackTemplates() []string {
	var ts []string
	for _, p := range attackPatterns {
		t := p[strings.IndexByte(p, '/'):]
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	return ts
}

func attackMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range attackPatterns {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			code := handlerStatuses[len(r.URL.Path)%len(handlerStatuses)]
			if strings.HasSuffix(p, "/fail") {
				code = 500 + 3*(len(r.URL.RawQuery)%2) // 500 or 503
			}
			w.WriteHeader(code)
		})
	}
	return mux
}

// attacker makes requests out of random input: methods (standard,
// lowercase, garbage), paths with ids, traversals and raw bytes, hosts,
// user agents and query strings.
type attacker struct{ r *rand.Rand }

var standardMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}

func (a attacker) bytes(lo, hi int) string {
	b := make([]byte, lo+a.r.IntN(hi-lo+1))
	for i := range b {
		b[i] = byte(a.r.Uint32())
	}
	return string(b)
}

func (a attacker) id() string {
	switch a.r.IntN(5) {
	case 0:
		return strconv.FormatUint(a.r.Uint64(), 10)
	case 1:
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a.r.Uint32(), a.r.Uint32()&0xffff, a.r.Uint32()&0xffff, a.r.Uint32()&0xffff, a.r.Uint64()&0xffffffffffff)
	case 2:
		return fmt.Sprintf("user%d@example.org", a.r.IntN(1e6))
	case 3:
		return base64.RawURLEncoding.EncodeToString([]byte(a.bytes(4, 24)))
	default:
		return a.bytes(1, 16)
	}
}

func (a attacker) method() string {
	m := standardMethods[a.r.IntN(len(standardMethods))]
	switch a.r.IntN(20) {
	case 0, 1, 2:
		return strings.ToLower(m)
	case 3:
		return m + "\x00"
	case 4:
		return " " + m
	case 5:
		return "X-" + strings.ToUpper(base64.RawStdEncoding.EncodeToString([]byte(a.bytes(1, 8))))
	case 6:
		return a.bytes(1, 32)
	case 7:
		return strings.Repeat("M", 1+a.r.IntN(4096))
	case 8:
		return "_OTHER"
	case 9:
		return ""
	}
	return m
}

// target returns a request's path (unescaped), its raw form if it has one,
// and its query.
func (a attacker) target() (path, raw, query string) {
	id := a.id()
	switch a.r.IntN(16) {
	case 0:
		path = "/users/" + id
	case 1:
		path = "/users"
	case 2:
		path = "/items/" + id
	case 3:
		path = "/files/" + id + "/" + a.id() + ".txt"
	case 4:
		path = "/static/" + id
	case 5:
		path = "/dirs/" + id // the trailing-slash redirect
	case 6:
		path = "/dirs/" + id + "/"
	case 7:
		path = "/"
	case 8:
		path = "/hosted"
	case 9:
		path = "/fail"
	case 10:
		path = "/" + id + "/" + a.id()
	case 11:
		path = "/a/../users/" + id // the redirect to the cleaned path
	case 12:
		path, raw = "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"
	case 13:
		path = "/users/" + strings.Repeat(id, 1+a.r.IntN(400)) // very long
	case 14:
		path = "//users//" + id
	default:
		path = "/" + a.bytes(1, 64)
	}
	if a.r.IntN(2) == 0 {
		query = "q=" + url.QueryEscape(a.bytes(0, 32)) + "&session=" + url.QueryEscape(a.id())
	}
	return path, raw, query
}

func (a attacker) host() string {
	switch a.r.IntN(7) {
	case 0:
		return "example.com"
	case 1:
		return "EXAMPLE.com:8443"
	case 2:
		return url.PathEscape(a.id()) + ".example.net"
	case 3:
		return "[::1]:" + strconv.Itoa(a.r.IntN(65536))
	case 4:
		return ""
	case 5:
		return a.bytes(1, 40)
	}
	return "127.0.0.1"
}

// request builds a request directly, so that it may carry what no server
// would let through: any method, any bytes.
func (a attacker) request() *http.Request {
	path, raw, query := a.target()
	u := &url.URL{Path: path, RawPath: raw, RawQuery: query}
	r := &http.Request{
		Method:     a.method(),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"User-Agent":      {a.bytes(0, 64)},
			"X-Forwarded-For": {a.id()},
		},
		Host:       a.host(),
		RequestURI: u.RequestURI(),
		RemoteAddr: "192.0.2.1:1234",
	}
	return r
}

// labelCheck is what a collection holds, checked against the values
// otelred may record.
type labelCheck struct {
	series   int          // attribute sets of the duration histogram
	requests uint64       // the histogram's total count
	statuses map[int]bool // status codes seen
	bad      []string     // label values outside the allowed set
}

// checkLabels walks every data point of otelred's instruments and checks
// every attribute against the only values otelred may record: the route
// templates, Unmatched and Overflow, the eleven method values, status codes,
// error types, the overflow marker and the service.
func checkLabels(rm metricdata.ResourceMetrics, profile otelred.Profile, templates []string, service string) labelCheck {
	n := profile.Names()
	c := labelCheck{statuses: map[int]bool{}}
	routes := append(slices.Clone(templates), otelred.Unmatched, otelred.Overflow)
	methods := append(slices.Clone(standardMethods), "_OTHER")
	allowedStatus := append(slices.Clone(handlerStatuses), muxStatuses...)
	check := func(set attribute.Set) {
		for _, kv := range set.ToSlice() {
			v := kv.Value.String()
			ok := false
			switch kv.Key {
			case n.Method:
				ok = slices.Contains(methods, v)
			case n.Route:
				ok = slices.Contains(routes, v)
			case n.Status:
				code := int(kv.Value.AsInt64())
				c.statuses[code] = true
				ok = kv.Value.Type() == attribute.INT64 && slices.Contains(allowedStatus, code)
			case n.ErrorType:
				code, err := strconv.Atoi(v)
				ok = v == "panic" || v == "_OTHER" || (err == nil && slices.Contains(allowedStatus, code) && code >= 500)
			case n.Service:
				ok = v == service
			case n.Scheme:
				ok = v == "http" || v == "https"
			case n.ProtocolVersion:
				ok = slices.Contains([]string{"1.0", "1.1", "2", "3"}, v)
			case "otel.metric.overflow":
				ok = v == "true"
			}
			if !ok && len(c.bad) < 10 {
				c.bad = append(c.bad, fmt.Sprintf("%s=%.80q", kv.Key, v))
			}
		}
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelred.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					check(dp.Attributes)
					if m.Name == n.Duration {
						c.series++
						c.requests += dp.Count
					}
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					check(dp.Attributes)
				}
			}
		}
	}
	return c
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestCardinalityAttack sends requests made of random input straight to
// the middleware (so that they may carry what no server lets through:
// garbage methods, NUL bytes, any path), then over a real server, and
// checks that every label value is one otelred may record, that the
// number of series stays within routes × methods × statuses + overflow,
// that nothing is lost, and that the live heap stays bounded.
func TestCardinalityAttack(t *testing.T) {
	const maxHeapGrowth = 8 << 20
	templates := attackTemplates()
	for _, tc := range []struct {
		name     string
		profile  otelred.Profile
		limit    int // 0: the default
		requests int
	}{
		{"semconv, 100000 requests", otelred.Semconv, 0, 100_000},
		{"classic, 30000 requests", otelred.Classic, 0, 30_000},
		{"semconv with WithCardinalityLimit(20), 30000 requests", otelred.Semconv, 20, 30_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []otelred.Option{otelred.WithProfile(tc.profile), otelred.WithService("svc")}
			if tc.limit > 0 {
				opts = append(opts, otelred.WithCardinalityLimit(tc.limit))
			}
			h := newHarness(t, opts...)
			handler := h.mw(attackMux())
			handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/users/1", nil)) // warm up
			before := liveHeap()

			const workers = 4
			start := time.Now()
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					a := attacker{rand.New(rand.NewPCG(uint64(tc.profile), uint64(w)))}
					for range tc.requests / workers {
						handler.ServeHTTP(httptest.NewRecorder(), a.request())
					}
				})
			}
			wg.Wait()
			took := time.Since(start)
			after := liveHeap()
			rm := h.collect()

			c := checkLabels(rm, tc.profile, templates, "svc")
			methods, routes := 10, len(templates)+1
			overflow := 2
			bound := routes*methods*len(c.statuses) + overflow
			if tc.limit > 0 {
				bound = tc.limit + overflow
			}
			t.Logf("%d requests in %v: %d series of %s (bound %d: %d routes × %d methods × %d statuses seen + %d overflow, or the limit), live heap %d → %d bytes (%+d)",
				tc.requests+1, took.Round(time.Millisecond), c.series, tc.profile.Names().Duration, bound,
				routes, methods, len(c.statuses), overflow, before, after, int64(after)-int64(before))
			if len(c.bad) > 0 {
				t.Errorf("label values outside the allowed set (raw request input?): %s", strings.Join(c.bad, ", "))
			}
			if c.series > bound {
				t.Errorf("%d series, want at most %d", c.series, bound)
			}
			if c.requests != uint64(tc.requests+1) {
				t.Errorf("the histogram counts %d requests, want %d: none may be lost", c.requests, tc.requests+1)
			}
			if growth := int64(after) - int64(before); growth > maxHeapGrowth {
				t.Errorf("the live heap grew by %d bytes, want at most %d", growth, maxHeapGrowth)
			}
			if tc.limit > 0 {
				got := h.counts(duration)
				if got["http.route=overflow,otel.metric.overflow=true"]+got["error.type=_OTHER,http.route=overflow,otel.metric.overflow=true"] == 0 {
					t.Errorf("nothing went to the overflow series with a limit of %d", tc.limit)
				}
			}
		})
	}

	t.Run("over the wire", func(t *testing.T) {
		// What a server lets through: valid tokens (lowercase and unknown
		// methods among them), any Host, user agent, query and escaped path.
		const requests = 1000
		h := newHarness(t)
		s := h.server(attackMux())
		client := &http.Client{
			Transport:     s.Client().Transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		a := attacker{rand.New(rand.NewPCG(7, 7))}
		wire := []string{"get", "post", "FOO", "PROPFIND", "BREW", "CONNECT", "Get"}
		for i := range requests {
			path, _, query := a.target()
			m := standardMethods[i%len(standardMethods)]
			if i%3 == 0 {
				m = wire[i%len(wire)]
			}
			u := &url.URL{Scheme: "http", Host: s.Listener.Addr().String(), Path: path, RawQuery: query}
			req, err := http.NewRequest(m, u.String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = fmt.Sprintf("%s.example.net", strconv.FormatUint(a.r.Uint64(), 36))
			if i%5 == 0 {
				req.Host = "example.com"
			}
			req.Header.Set("User-Agent", "attack/"+strconv.FormatUint(a.r.Uint64(), 36))
			h.served.Add(1)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", m, u, err)
			}
			resp.Body.Close()
			waitServed(t, h, req)
		}
		c := checkLabels(h.collect(), otelred.Semconv, templates, "")
		bound := (len(templates)+1)*10*len(c.statuses) + 2
		t.Logf("%d requests over the wire: %d series (bound %d), statuses %v", requests, c.series, bound, slices.Sorted(maps.Keys(c.statuses)))
		if c.series > bound {
			t.Errorf("%d series, want at most %d", c.series, bound)
		}
		if len(c.bad) > 0 {
			t.Errorf("label values outside the allowed set (raw request input?): %s", strings.Join(c.bad, ", "))
		}
		if c.requests != requests {
			t.Errorf("the histogram counts %d requests, want %d", c.requests, requests)
		}
	})
}

// waitServed waits until the middleware has recorded req, and fails the
// test if that takes long: the server answered without reaching it.
func waitServed(t *testing.T, h *harness, req *http.Request) {
	t.Helper()
	done := make(chan struct{})
	go func() { h.served.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s never reached the middleware", req.Method, req.URL)
	}
}

// TestConnectRedirectNeverNamesARoute sends, over a real connection, a
// CONNECT request in path form to a method-less pattern that ends in a
// slash. ServeMux answers with its trailing-slash redirect and, for CONNECT
// only, sets r.Pattern to the path it redirects to (net/http findHandler):
// request input, which must not become a route.
func TestConnectRedirectNeverNamesARoute(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(p), otelred.WithService("svc"))
			s := h.server(attackMux())
			for _, id := range []string{"secret-1", "secret-2", "secret-3"} {
				conn, err := net.Dial("tcp", s.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				h.served.Add(1)
				fmt.Fprintf(conn, "CONNECT /dirs/%s HTTP/1.1\r\nHost: example.org\r\n\r\n", id)
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				conn.Close()
				h.served.Wait()
				t.Logf("CONNECT /dirs/%s: %s, Location %s", id, resp.Status, resp.Header.Get("Location"))
			}
			c := checkLabels(h.collect(), p, attackTemplates(), "svc")
			if len(c.bad) > 0 {
				t.Errorf("label values outside the allowed set: %s", strings.Join(c.bad, ", "))
			}
		})
	}
}

// trackedServer starts a real server (HTTP/2 over TLS when h2) whose
// handler is outer(mw(next)), and marks each request done in h.served
// once the middleware has returned.
func trackedServer(t *testing.T, h *harness, h2 bool, next http.Handler) *httptest.Server {
	t.Helper()
	inner := h.mw(next)
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer h.served.Done()
		inner.ServeHTTP(w, r)
	}))
	s.Config.ErrorLog = quietLog()
	if h2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// TestServerSentEventsStream streams events that the handler flushes one
// at a time, a few hundred milliseconds apart, over HTTP/1.1 and HTTP/2.
// The handler writes the next event only after the client has received
// the previous one, so the test proves streaming without timing
// assumptions; the request is then recorded once, with 200 and the whole
// stream's duration.
func TestServerSentEventsStream(t *testing.T) {
	const (
		events = 6
		gap    = 400 * time.Millisecond
	)
	for _, h2 := range []bool{false, true} {
		name := "HTTP/1.1"
		if h2 {
			name = "HTTP/2"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			received := make([]chan struct{}, events)
			for i := range received {
				received[i] = make(chan struct{})
			}
			mux := http.NewServeMux()
			mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
				f, ok := w.(http.Flusher)
				if !ok {
					t.Error("the handler sees no http.Flusher")
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				tick := time.NewTicker(gap)
				defer tick.Stop()
				for i := range events {
					if i > 0 {
						<-tick.C
					}
					fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", i, i)
					f.Flush()
					select {
					case <-received[i]:
					case <-r.Context().Done():
						return
					case <-time.After(10 * time.Second):
						t.Errorf("the client never received event %d: it was not flushed", i)
						return
					}
				}
			})
			s := trackedServer(t, h, h2, mux)
			h.served.Add(1)
			start := time.Now()
			resp, err := s.Client().Get(s.URL + "/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || (resp.ProtoMajor == 2) != h2 {
				t.Fatalf("response %s %s, Content-Type %q", resp.Proto, resp.Status, resp.Header.Get("Content-Type"))
			}
			br := bufio.NewReader(resp.Body)
			var arrivals []string
			for i := range events {
				var ev []string
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						t.Fatalf("reading event %d: %v", i, err)
					}
					if line == "\n" {
						break
					}
					ev = append(ev, strings.TrimSuffix(line, "\n"))
				}
				if want := []string{"id: " + strconv.Itoa(i), "data: event " + strconv.Itoa(i)}; !slices.Equal(ev, want) {
					t.Fatalf("event %d = %q, want %q", i, ev, want)
				}
				arrivals = append(arrivals, time.Since(start).Round(time.Millisecond).String())
				close(received[i])
			}
			if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
				t.Errorf("after the last event: %q, %v", rest, err)
			}
			h.served.Wait()
			t.Logf("events received at %s", strings.Join(arrivals, ", "))

			want := series("GET", "/events", 200, "")
			if h2 { // over TLS, as browsers speak HTTP/2
				want = seriesOver("https", "2", "GET", "/events", 200, "")
			}
			wantCounts(t, h.counts(duration), map[string]uint64{want: 1})
			hist := find(t, h.collect(), duration).Data.(metricdata.Histogram[float64])
			if d := time.Duration(hist.DataPoints[0].Sum * float64(time.Second)); d < (events-1)*gap {
				t.Errorf("recorded duration %v, want at least the stream's %v", d, (events-1)*gap)
			}
		})
	}
}

// spy sits between the server and the middleware and counts how the body
// reaches the connection: through ReadFrom, or through Write.
type spy struct {
	http.ResponseWriter
	readFrom, written atomic.Int64
}

func (s *spy) Write(b []byte) (int, error) {
	s.written.Add(int64(len(b)))
	return s.ResponseWriter.Write(b)
}

func (s *spy) ReadFrom(r io.Reader) (int64, error) {
	s.readFrom.Add(1)
	return s.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
}

// TestLargeBodyThroughReadFrom serves an 8 MiB file with io.Copy, with and
// without the middleware: the body must reach the connection through
// ReadFrom (so net/http can use sendfile), arrive whole, and be recorded
// once with 200.
func TestLargeBodyThroughReadFrom(t *testing.T) {
	const size = 8 << 20
	content := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < size; i += 8 {
		binary.LittleEndian.PutUint64(content[i:], rng.Uint64())
	}
	file := filepath.Join(t.TempDir(), "large.bin")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)

	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprintf("wrapped=%v", wrapped), func(t *testing.T) {
			h := newHarness(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /download/{name}", func(w http.ResponseWriter, _ *http.Request) {
				f, err := os.Open(file)
				if err != nil {
					t.Error(err)
					return
				}
				defer f.Close()
				if _, ok := w.(io.ReaderFrom); !ok {
					t.Error("the handler sees no io.ReaderFrom")
				}
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Header().Set("Content-Length", strconv.Itoa(size))
				if n, err := io.Copy(w, f); n != size || err != nil {
					t.Errorf("io.Copy = %d, %v", n, err)
				}
			})
			var next http.Handler = mux
			if wrapped {
				next = h.mw(mux)
			}
			sp := new(spy)
			done := make(chan struct{}, 1)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() { done <- struct{}{} }()
				sp.ResponseWriter = w
				next.ServeHTTP(sp, r)
			}))
			t.Cleanup(s.Close)
			resp, err := s.Client().Get(s.URL + "/download/large.bin")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			<-done
			if err != nil || resp.StatusCode != 200 || len(got) != size || sha256.Sum256(got) != want {
				t.Fatalf("client got %s, %d bytes (err %v), want 200 and the %d bytes of the file", resp.Status, len(got), err, size)
			}
			if sp.readFrom.Load() == 0 || sp.written.Load() != 0 {
				t.Errorf("the body reached the connection through %d ReadFrom calls and %d bytes of Write, want ReadFrom only", sp.readFrom.Load(), sp.written.Load())
			}
			if wrapped {
				wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/download/{name}", 200, ""): 1})
			}
		})
	}
}

// TestTimeoutHandler runs http.TimeoutHandler with otelred outside it and
// inside it. Outside, otelred records what the client gets: 503 on a
// timeout, the handler's own status otherwise. Inside, it records what the
// handler did by the time it returned, which is not what the client got on
// a timeout: put otelred outside TimeoutHandler.
func TestTimeoutHandler(t *testing.T) {
	const timeout = 50 * time.Millisecond
	// app waits for its context on /slow and answers 201 at once on /fast.
	app := func() *http.ServeMux {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			w.WriteHeader(http.StatusOK) // too late: TimeoutHandler drops it
		})
		mux.HandleFunc("GET /fast", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "created")
		})
		return mux
	}
	type result struct {
		code int
		body string
	}
	fetch := func(t *testing.T, url string) result {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{resp.StatusCode, string(b)}
	}
	want := map[string]result{"/slow": {503, "timeout"}, "/fast": {201, "created"}}

	t.Run("unwrapped: what clients get", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/", http.TimeoutHandler(app(), timeout, "timeout"))
		s := httptest.NewServer(mux)
		t.Cleanup(s.Close)
		for path, w := range want {
			if got := fetch(t, s.URL+path); got != w {
				t.Errorf("GET %s = %v, want %v", path, got, w)
			}
		}
	})

	t.Run("otelred outside TimeoutHandler records what clients get", func(t *testing.T) {
		h := newHarness(t)
		mux := http.NewServeMux()
		inner := app()
		mux.Handle("GET /slow", http.TimeoutHandler(inner, timeout, "timeout"))
		mux.Handle("GET /fast", http.TimeoutHandler(inner, timeout, "timeout"))
		s := h.server(mux)
		for path, w := range want {
			h.served.Add(1)
			if got := fetch(t, s.URL+path); got != w {
				t.Errorf("GET %s = %v, want %v: the middleware changed the behaviour", path, got, w)
			}
			h.served.Wait()
		}
		wantCounts(t, h.counts(duration), map[string]uint64{
			series("GET", "/slow", 503, "503"): 1,
			series("GET", "/fast", 201, ""):    1,
		})
	})

	t.Run("otelred inside TimeoutHandler records what the handler did", func(t *testing.T) {
		h := newHarness(t)
		recorded := make(chan struct{}, 2)
		inner := h.mw(app())
		// TimeoutHandler runs the handler in a goroutine of its own and
		// does not wait for it after the timeout: wait for the record.
		tracked := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() { recorded <- struct{}{} }()
			inner.ServeHTTP(w, r)
		})
		s := httptest.NewServer(http.TimeoutHandler(tracked, timeout, "timeout"))
		t.Cleanup(s.Close)
		for path, w := range want {
			if got := fetch(t, s.URL+path); got != w {
				t.Errorf("GET %s = %v, want %v: the middleware changed the behaviour", path, got, w)
			}
			<-recorded
		}
		wantCounts(t, h.counts(duration), map[string]uint64{
			series("GET", "/slow", 200, ""): 1, // the client got 503
			series("GET", "/fast", 201, ""): 1,
		})
	})
}

// A minimal WebSocket (RFC 6455): the handshake, and unfragmented text
// and close frames, masked from the client.
const (
	wsText  = 0x1
	wsClose = 0x8
	wsGUID  = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

func wsAccept(key string) string {
	sum := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func wsWrite(w io.Writer, op byte, payload []byte, mask bool) error {
	var b bytes.Buffer
	b.WriteByte(0x80 | op)
	m := byte(0)
	if mask {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(m | byte(n))
	case n <= 0xffff:
		b.WriteByte(m | 126)
		binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(m | 127)
		binary.Write(&b, binary.BigEndian, uint64(n))
	}
	if mask {
		key := [4]byte{0x12, 0x34, 0x56, 0x78}
		b.Write(key[:])
		for i, c := range payload {
			b.WriteByte(c ^ key[i%4])
		}
	} else {
		b.Write(payload)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func wsRead(r *bufio.Reader) (op byte, payload []byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	if hdr[0]&0x80 == 0 {
		return 0, nil, errors.New("fragmented frame")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var v uint16
		err = binary.Read(r, binary.BigEndian, &v)
		n = uint64(v)
	case 127:
		err = binary.Read(r, binary.BigEndian, &n)
	}
	if err != nil || n > 1<<20 {
		return 0, nil, fmt.Errorf("frame length %d: %v", n, err)
	}
	var key [4]byte
	if hdr[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	if hdr[1]&0x80 != 0 {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return hdr[0] & 0x0f, payload, nil
}

// TestWebSocketThroughTheMiddleware upgrades a connection to WebSocket
// through the middleware and exchanges messages both ways, the client
// writing while it reads: the server greets, echoes each message (one of
// them larger than a short frame), and answers the close. The request is
// recorded once, as 101, and the in-flight gauge returns to zero.
func TestWebSocketThroughTheMiddleware(t *testing.T) {
	const messages = 8
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Header.Get("Sec-WebSocket-Version") != "13" {
			http.Error(w, "not a WebSocket handshake", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack through the middleware: %v", err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		wsWrite(brw, wsText, []byte("hello"), false)
		brw.Flush()
		for {
			op, msg, err := wsRead(brw.Reader)
			if err != nil {
				t.Errorf("server read: %v", err)
				return
			}
			if op == wsClose {
				wsWrite(brw, wsClose, msg, false)
				brw.Flush()
				return
			}
			wsWrite(brw, wsText, append([]byte("echo: "), msg...), false)
			brw.Flush()
		}
	})
	s := h.server(mux)

	key := base64.StdEncoding.EncodeToString([]byte("otelred-ws-key16"))
	req, _ := http.NewRequest("GET", s.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	h.served.Add(1)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("handshake: %s, Sec-WebSocket-Accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	conn := resp.Body.(io.ReadWriteCloser)
	defer conn.Close()
	br := bufio.NewReader(conn)
	if op, msg, err := wsRead(br); err != nil || op != wsText || string(msg) != "hello" {
		t.Fatalf("greeting: %d %q %v", op, msg, err)
	}
	// The client writes every message before it reads an echo, while the
	// server already answers: traffic flows both ways at once.
	sent := make([]string, messages)
	writeErr := make(chan error, 1)
	for i := range sent {
		sent[i] = fmt.Sprintf("message %d %s", i, strings.Repeat("x", i*40))
	}
	go func() {
		for _, m := range sent {
			if err := wsWrite(conn, wsText, []byte(m), true); err != nil {
				conn.Close() // unblocks the reader below
				writeErr <- err
				return
			}
		}
		writeErr <- wsWrite(conn, wsClose, []byte{0x03, 0xe8}, true)
	}()
	for i := range messages {
		op, msg, err := wsRead(br)
		if err != nil || op != wsText {
			t.Fatalf("echo %d: %d %q %v (write: %v)", i, op, msg, err, <-writeErr)
		}
		if want := "echo: " + sent[i]; string(msg) != want {
			t.Errorf("echo %d = %q, want %q", i, msg, want)
		}
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	if op, msg, err := wsRead(br); err != nil || op != wsClose || !bytes.Equal(msg, []byte{0x03, 0xe8}) {
		t.Errorf("close: %d %q %v", op, msg, err)
	}
	h.served.Wait()
	wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/ws", 101, ""): 1})
	if got := h.sums(otelred.Semconv.Names().Active); got["http.request.method=GET"] != 0 {
		t.Errorf("in flight after the close: %v", got)
	}
}

// TestTimeoutHandlerAroundTheMux pins why TimeoutHandler goes on each
// route: around the whole mux it hands the mux a copy of the request, the
// route is set on the copy, and otelred, outside, records unmatched. Per
// route, the route is seen.
func TestTimeoutHandlerAroundTheMux(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	t.Run("around the mux the route is lost", func(t *testing.T) {
		h := newHarness(t)
		mux := http.NewServeMux()
		mux.Handle("GET /users/{id}", ok)
		s := h.server(http.TimeoutHandler(mux, time.Second, "timeout"))
		h.do(s, "GET", "/users/1")
		wantCounts(t, h.counts(duration), map[string]uint64{series("GET", noRoute, 200, ""): 1})
	})
	t.Run("on each route the route is seen", func(t *testing.T) {
		h := newHarness(t)
		mux := http.NewServeMux()
		mux.Handle("GET /users/{id}", http.TimeoutHandler(ok, time.Second, "timeout"))
		s := h.server(mux)
		h.do(s, "GET", "/users/1")
		wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/users/{id}", 200, ""): 1})
	})
}
