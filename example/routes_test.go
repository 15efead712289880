package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// sleepRecorder stands in for sleep, so that the cap of /slow is tested
// without waiting 5 s.
type sleepRecorder struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (s *sleepRecorder) sleep(_ context.Context, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slept = append(s.slept, d)
}

func (s *sleepRecorder) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.slept
	s.slept = nil
	return d
}

// trackRecorder stands in for otelred's Operations.Track: it runs fn and
// keeps the operation's name, and returns err instead of fn's error when
// err is set.
type trackRecorder struct {
	mu    sync.Mutex
	names []string
	err   error
}

func (tr *trackRecorder) track(ctx context.Context, name string, fn func(context.Context) error) error {
	err := fn(ctx)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.names = append(tr.names, name)
	if tr.err != nil {
		return tr.err
	}
	return err
}

func (tr *trackRecorder) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := tr.names
	tr.names = nil
	return n
}

// newRoutesServer serves newMux on a test server whose POST /orders calls
// dependency, a path of the same server (as the demo calls itself) or, if
// it is a URL, that URL.
func newRoutesServer(t *testing.T, wait sleepFunc, tr *trackRecorder, dependency string) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	if strings.HasPrefix(dependency, "/") {
		dependency = "http://" + srv.Listener.Addr().String() + dependency
	}
	o := &orders{client: newClient(t), dependency: dependency, track: tr.track}
	srv.Config.Handler = newMux(wait, o)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestRoutes(t *testing.T) {
	rec := &sleepRecorder{}
	tracked := &trackRecorder{}
	srv := newRoutesServer(t, rec.sleep, tracked, dependencyPath)
	c := newClient(t)

	tests := []struct {
		name   string
		method string
		path   string
		status int
		body   string        // a substring of the body
		slept  time.Duration // what /slow waited; -1 for no wait
	}{
		{"hello greets by name", "GET", "/hello/alice", 200, "hello, alice", -1},
		{"hello answers HEAD too", "HEAD", "/hello/alice", 200, "", -1},
		{"fail fails with 500", "GET", "/fail", 500, "failed, on purpose", -1},
		{"slow waits 250 ms by default", "GET", "/slow", 200, "slept 250ms", 250 * time.Millisecond},
		{"slow waits the ms asked", "GET", "/slow?ms=300", 200, "slept 300ms", 300 * time.Millisecond},
		{"slow with ms=0 answers at once", "GET", "/slow?ms=0", 200, "slept 0ms", 0},
		{"slow with ms=5000 waits 5 s", "GET", "/slow?ms=5000", 200, "slept 5000ms", 5 * time.Second},
		{"slow caps ms at 5000", "GET", "/slow?ms=5001", 200, "slept 5000ms", 5 * time.Second},
		{"slow caps a number too big for an int", "GET", "/slow?ms=99999999999999999999999", 200, "slept 5000ms", 5 * time.Second},
		{"slow with a word for ms is 400", "GET", "/slow?ms=soon", 400, "whole number", -1},
		{"slow with a fraction for ms is 400", "GET", "/slow?ms=1.5", 400, "whole number", -1},
		{"slow with a negative ms is 400", "GET", "/slow?ms=-1", 400, "whole number", -1},
		{"slow with a huge negative ms is 400", "GET", "/slow?ms=-99999999999999999999999", 400, "whole number", -1},
		{"slow with a unit in ms is 400", "GET", "/slow?ms=300ms", 400, "whole number", -1},
		{"an unknown path is 404", "GET", "/nope", 404, "", -1},
		{"hello without a name is 404", "GET", "/hello/", 404, "", -1},
		{"hello with two segments is 404", "GET", "/hello/alice/bob", 404, "", -1},
		{"the root is 404", "GET", "/", 404, "", -1},
		{"metrics is 404 without an exporter", "GET", "/metrics", 404, "", -1},
		{"POST on a GET route is 405", "POST", "/fail", 405, "", -1},
		{"orders creates one after calling its dependency and processing it", "POST", "/orders", 201, "order created", orderStep},
		{"GET on orders is 405", "GET", "/orders", 405, "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			_, _ = io.Copy(&b, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s: status %d, want %d (body %q)", tt.method, tt.path, resp.StatusCode, tt.status, b.String())
			}
			if !strings.Contains(b.String(), tt.body) {
				t.Errorf("%s %s: body %q, want it to contain %q", tt.method, tt.path, b.String(), tt.body)
			}
			slept := rec.take()
			switch {
			case tt.slept < 0 && len(slept) != 0:
				t.Errorf("%s %s: slept %v, want no wait", tt.method, tt.path, slept)
			case tt.slept >= 0 && (len(slept) != 1 || slept[0] != tt.slept):
				t.Errorf("%s %s: slept %v, want [%v]", tt.method, tt.path, slept, tt.slept)
			}
			var want []string
			if tt.status == http.StatusCreated {
				want = []string{orderOperation}
			}
			if got := tracked.take(); !slices.Equal(got, want) {
				t.Errorf("%s %s: tracked %q, want %q", tt.method, tt.path, got, want)
			}
		})
	}
}

func TestOrders(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	refused := closed.URL + dependencyPath
	closed.Close()
	for _, tt := range []struct {
		name       string
		dependency string
		stepErr    error
		status     int
		body       string
		tracked    bool
	}{
		{"a dependency that answers 200 makes a 201", dependencyPath, nil, 201, "order created", true},
		{"a dependency that answers 500 makes a 502, and nothing is processed", "/fail", nil, 502, "status 500", false},
		{"a dependency that answers 404 makes a 502", "/nowhere", nil, 502, "status 404", false},
		{"a dependency that refuses the connection makes a 502", refused, nil, 502, "dependency failed", false},
		{"a failed processing step makes a 500", dependencyPath, errors.New("out of stock"), 500, "processing the order failed", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &sleepRecorder{}
			tracked := &trackRecorder{err: tt.stepErr}
			srv := newRoutesServer(t, rec.sleep, tracked, tt.dependency)
			resp, err := newClient(t).Post(srv.URL+"/orders", "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
				t.Errorf("POST /orders: %d %q, want %d with %q", resp.StatusCode, b, tt.status, tt.body)
			}
			var want []string
			if tt.tracked {
				want = []string{orderOperation}
			}
			if got := tracked.take(); !slices.Equal(got, want) {
				t.Errorf("tracked %q, want %q", got, want)
			}
		})
	}
}

func TestSelfURL(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://127.0.0.1:8080"},
		{"[::1]:9000", "http://[::1]:9000"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := selfURL(addr); got != tt.want {
			t.Errorf("selfURL(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

func TestParseMS(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"", 250, false},
		{"0", 0, false},
		{"1", 1, false},
		{"+7", 7, false},
		{"4999", 4999, false},
		{"5000", 5000, false},
		{"5001", 5000, false},
		{"18446744073709551616", 5000, false},
		{"-1", 0, true},
		{"-18446744073709551616", 0, true},
		{"1e3", 0, true},
		{" 5", 0, true},
		{"0x10", 0, true},
		{"NaN", 0, true},
	}
	for _, tt := range tests {
		got, err := parseMS(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseMS(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSlowStopsWhenTheClientLeaves(t *testing.T) {
	srv := newRoutesServer(t, sleep, &trackRecorder{}, dependencyPath)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow?ms=5000", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if resp, err := newClient(t).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /slow?ms=5000 with a 50 ms deadline: status %d, want the deadline", resp.StatusCode)
	}
	// Closing the server waits for the handler: it returns soon after the
	// client has gone, not 5 s later.
	srv.Close()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the handler ran %v after the client left", d)
	}
}
