package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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

func TestRoutes(t *testing.T) {
	rec := &sleepRecorder{}
	srv := httptest.NewServer(newMux(rec.sleep))
	t.Cleanup(srv.Close)
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
		})
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
	srv := httptest.NewServer(newMux(sleep))
	t.Cleanup(srv.Close)
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
