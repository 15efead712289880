package otelred_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/otelred/otelred/otelred"
)

// recoverInto is an outer middleware that catches what the middleware lets
// through, so the test can check the panic continued unchanged.
func recoverInto(got *any) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				*got = recover()
				if *got != nil {
					panic(*got) // let net/http handle it as it would have
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

func TestPanics(t *testing.T) {
	errBoom := errors.New("boom")
	for _, tc := range []struct {
		name     string
		profile  otelred.Profile
		panicked any
		before   func(http.ResponseWriter)
		want     map[string]uint64
		// wantErrors is the Classic errors counter, when checked.
		wantErrors map[string]int64
	}{
		{
			name:     "a panicking handler is recorded as a panic with no status, and the panic continues",
			panicked: errBoom,
			want:     map[string]uint64{series("GET", "/p", noStatus, "panic"): 1},
		},
		{
			name:     "http.ErrAbortHandler propagates and is recorded with no status",
			panicked: http.ErrAbortHandler,
			want:     map[string]uint64{series("GET", "/p", noStatus, "panic"): 1},
		},
		{
			name:     "a panic after the status was sent keeps that status",
			panicked: "late",
			before:   func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK); w.(http.Flusher).Flush() },
			want:     map[string]uint64{series("GET", "/p", 200, "panic"): 1},
		},
		{
			name:       "a panic before any status is a 500 in the classic profile",
			profile:    otelred.Classic,
			panicked:   http.ErrAbortHandler,
			want:       map[string]uint64{"method=GET,path=/p,service=svc,status_code=500": 1},
			wantErrors: map[string]int64{"method=GET,path=/p,service=svc,status_code=500": 1},
		},
		{
			name:       "a panic is counted as an error in the classic profile",
			profile:    otelred.Classic,
			panicked:   errBoom,
			before:     func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK); w.(http.Flusher).Flush() },
			want:       map[string]uint64{"method=GET,path=/p,service=svc,status_code=200": 1},
			wantErrors: map[string]int64{"method=GET,path=/p,service=svc,status_code=200": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(tc.profile), otelred.WithService("svc"))
			mux := http.NewServeMux()
			mux.HandleFunc("GET /p", func(w http.ResponseWriter, _ *http.Request) {
				if tc.before != nil {
					tc.before(w)
				}
				panic(tc.panicked)
			})
			var got any
			s := h.serverAround(recoverInto(&got), mux)
			if resp := h.do(s, "GET", "/p"); resp != nil && tc.before == nil {
				t.Errorf("client got a response (%d) from a handler that panicked before writing", resp.StatusCode)
			}
			if got != tc.panicked {
				t.Errorf("panic seen outside the middleware = %v, want %v", got, tc.panicked)
			}
			wantCounts(t, h.counts(tc.profile.Names().Duration), tc.want)
			if tc.wantErrors != nil {
				if got := h.sums(otelred.Classic.Names().Errors); render(got) != render(tc.wantErrors) {
					t.Errorf("errors counter = %s, want %s", render(got), render(tc.wantErrors))
				}
			}
		})
	}
}

// TestClientCancelRecordedOnce cancels the request while the handler runs;
// the handler notices through its context. One request, one record.
func TestClientCancelRecordedOnce(t *testing.T) {
	h := newHarness(t)
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wait", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
			t.Error("the handler never saw the client go away")
		}
	})
	s := h.server(mux)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/wait", nil)
	h.served.Add(1)
	go func() { <-started; cancel() }()
	if _, err := s.Client().Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("client error = %v, want context.Canceled", err)
	}
	h.served.Wait()
	wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/wait", 200, ""): 1})
}
