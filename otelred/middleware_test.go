package otelred_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strings"
	"testing"
)

// TestStatusRules sends each case through a real server and checks the
// status the client saw, the status recorded, and every WriteHeader call
// that reached the server's own writer.
func TestStatusRules(t *testing.T) {
	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc
		wantClient int
		wantCalls  []int // WriteHeader codes that reached the server's writer
		wantSeries string
	}{
		{
			name:       "status defaults to 200 when the handler writes nothing",
			handler:    func(http.ResponseWriter, *http.Request) {},
			wantClient: 200,
			wantSeries: series("GET", "/x", 200, ""),
		},
		{
			name: "first final WriteHeader wins and later ones are still forwarded",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusCreated)
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantClient: 201,
			wantCalls:  []int{201, 500},
			wantSeries: series("GET", "/x", 201, ""),
		},
		{
			name: "1xx codes are ignored",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Link", "</style.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			wantClient: 503,
			wantCalls:  []int{103, 503},
			wantSeries: series("GET", "/x", 503, "503"),
		},
		{
			name: "1xx followed by nothing records 200",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusEarlyHints)
			},
			wantClient: 200,
			wantCalls:  []int{103},
			wantSeries: series("GET", "/x", 200, ""),
		},
		{
			name: "101 is final",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Connection", "Upgrade")
				w.Header().Set("Upgrade", "test")
				w.WriteHeader(http.StatusSwitchingProtocols)
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantClient: 101,
			wantCalls:  []int{101, 500},
			wantSeries: series("GET", "/x", 101, ""),
		},
		{
			name: "Write before WriteHeader fixes the code at 200",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Write([]byte("body"))
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantClient: 200,
			wantCalls:  []int{500},
			wantSeries: series("GET", "/x", 200, ""),
		},
		{
			name: "WriteString before WriteHeader fixes the code at 200",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				io.WriteString(w, "body")
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantClient: 200,
			wantCalls:  []int{500},
			wantSeries: series("GET", "/x", 200, ""),
		},
		{
			name: "ReadFrom before WriteHeader fixes the code at 200",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.(io.ReaderFrom).ReadFrom(strings.NewReader("body"))
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantClient: 200,
			wantCalls:  []int{500},
			wantSeries: series("GET", "/x", 200, ""),
		},
		{
			name: "Flush before WriteHeader fixes the code at 200",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.(http.Flusher).Flush()
				w.WriteHeader(http.StatusInternalServerError)
			},
			wantClient: 200,
			wantCalls:  []int{500},
			wantSeries: series("GET", "/x", 200, ""),
		},
		{
			name: "a 4xx is not a failure in the semconv profile",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.NotFound(w, nil)
			},
			wantClient: 404,
			wantCalls:  []int{404},
			wantSeries: series("GET", "/x", 404, ""),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var calls []int
			mux := http.NewServeMux()
			mux.Handle("GET /x", tc.handler)
			// spy sits between the server and the middleware and sees what
			// the middleware forwards.
			spy := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(headerSpy{w, &calls}, r)
				})
			}
			s := h.serverAround(spy, mux)
			var got1xx []int
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
				got1xx = append(got1xx, code)
				return nil
			}}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", s.URL+"/x", nil)
			if tc.wantClient == 101 {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", "test")
			}
			resp := h.send(s, req)
			if resp == nil {
				t.Fatal("no response")
			}
			if resp.StatusCode != tc.wantClient {
				t.Errorf("client got %d, want %d", resp.StatusCode, tc.wantClient)
			}
			if !slices.Equal(calls, tc.wantCalls) {
				t.Errorf("WriteHeader calls forwarded = %v, want %v", calls, tc.wantCalls)
			}
			if slices.Contains(tc.wantCalls, 103) && !slices.Equal(got1xx, []int{103}) {
				t.Errorf("client saw 1xx %v, want [103]", got1xx)
			}
			wantCounts(t, h.counts(duration), map[string]uint64{tc.wantSeries: 1})
		})
	}
}

// headerSpy notes WriteHeader calls and keeps the writer's interfaces that
// these tests use.
type headerSpy struct {
	http.ResponseWriter
	calls *[]int
}

func (s headerSpy) WriteHeader(code int) {
	*s.calls = append(*s.calls, code)
	s.ResponseWriter.WriteHeader(code)
}
func (s headerSpy) Flush() { s.ResponseWriter.(http.Flusher).Flush() }
func (s headerSpy) ReadFrom(r io.Reader) (int64, error) {
	return s.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
}
func (s headerSpy) WriteString(v string) (int, error) { return io.WriteString(s.ResponseWriter, v) }
func (s headerSpy) Unwrap() http.ResponseWriter       { return s.ResponseWriter }
