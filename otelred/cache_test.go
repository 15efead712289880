package otelred_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/otelred/otelred/otelred"
)

// TestCardinalityLimit fills the cache and checks what does not fit lands
// in the overflow series, failures apart, with nothing lost.
func TestCardinalityLimit(t *testing.T) {
	t.Run("semconv", func(t *testing.T) {
		h := newHarness(t, otelred.WithCardinalityLimit(2))
		mux := http.NewServeMux()
		for i := range 5 {
			mux.HandleFunc(fmt.Sprintf("GET /r%d", i), func(http.ResponseWriter, *http.Request) {})
		}
		mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) })
		s := h.server(mux)
		for _, p := range []string{"/r0", "/r1", "/r2", "/r3", "/r4", "/r0", "/fail", "/fail"} {
			h.do(s, "GET", p)
		}
		wantCounts(t, h.counts(duration), map[string]uint64{
			series("GET", "/r0", 200, ""):                                     2,
			series("GET", "/r1", 200, ""):                                     1,
			"http.route=overflow,otel.metric.overflow=true":                   3,
			"error.type=_OTHER,http.route=overflow,otel.metric.overflow=true": 2,
		})
	})
	t.Run("classic", func(t *testing.T) {
		h := newHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("s"), otelred.WithCardinalityLimit(1))
		mux := http.NewServeMux()
		mux.HandleFunc("GET /a", func(http.ResponseWriter, *http.Request) {})
		mux.HandleFunc("GET /b", func(http.ResponseWriter, *http.Request) {})
		mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
		s := h.server(mux)
		for _, p := range []string{"/a", "/b", "/fail", "/fail"} {
			h.do(s, "GET", p)
		}
		want := map[string]int64{
			"method=GET,path=/a,service=s,status_code=200":      1,
			"otel.metric.overflow=true,path=overflow,service=s": 3,
		}
		if got := h.sums("http_requests_total"); render(got) != render(want) {
			t.Errorf("http_requests_total = %s, want %s", render(got), render(want))
		}
		wantErr := map[string]int64{"otel.metric.overflow=true,path=overflow,service=s": 2}
		if got := h.sums("http_errors_total"); render(got) != render(wantErr) {
			t.Errorf("http_errors_total = %s, want %s", render(got), render(wantErr))
		}
		wantActive := map[string]int64{
			"method=GET,path=/a,service=s":                      0,
			"otel.metric.overflow=true,path=overflow,service=s": 0,
		}
		if got := h.sums("http_requests_active"); render(got) != render(wantActive) {
			t.Errorf("http_requests_active = %s, want %s", render(got), render(wantActive))
		}
	})
}

// TestConcurrentRequestsAreCountedExactly runs requests from many
// goroutines, with collections in between, and checks the totals.
func TestConcurrentRequestsAreCountedExactly(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(p), otelred.WithService("s"))
			handler := h.mw(usersAndFail())
			const workers, each = 8, 250
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						path := "/users/1"
						if (w+i)%5 == 0 {
							path = "/fail"
						}
						handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
					}
				}()
			}
			for range 10 {
				h.collect() // collections race with recording on purpose
			}
			wg.Wait()
			total := map[int]uint64{}
			got := h.counts(p.Names().Duration)
			for k, n := range got {
				switch {
				case len(k) > 0 && contains(k, "=500"):
					total[500] += n
				default:
					total[200] += n
				}
			}
			if total[500] != workers*each/5 || total[200] != workers*each*4/5 {
				t.Errorf("totals = %v, want 500:%d 200:%d (series %s)", total, workers*each/5, workers*each*4/5, render(got))
			}
		})
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestCollectingWhileNewRuns collects without pause while middleware is
// built on the same provider, as a periodic reader may: the callback must
// never see half-built state (the race detector checks it).
func TestCollectingWhileNewRuns(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		t.Run(p.String(), func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(p), otelred.WithService("shop"))
			mp := h.Provider
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
						h.collect()
					}
				}
			}()
			for range 50 {
				if _, err := otelred.New(otelred.WithMeterProvider(mp), otelred.WithProfile(p), otelred.WithService("shop")); err != nil {
					t.Error(err)
				}
			}
			close(stop)
			<-done
		})
	}
}

// TestClassicSeriesOfTheRightRoute checks that Classic, which finds a
// request's series through its route's in-flight gauge, records every
// request under its own route, in both layouts, also once the gauges
// overflow: the overflow gauge is shared by routes, and must not lead one
// route's request to another route's series.
func TestClassicSeriesOfTheRightRoute(t *testing.T) {
	patterns := []string{"GET /x", "POST /x", "GET /a", "GET /b", "GET /c"}
	for _, layout := range []string{"around the mux", "inside each route"} {
		t.Run(layout, func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("s"), otelred.WithCardinalityLimit(3))
			mux := http.NewServeMux()
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Has("fail") {
					w.WriteHeader(http.StatusInternalServerError)
				}
			})
			var s *httptest.Server
			if layout == "around the mux" {
				for _, p := range patterns {
					mux.Handle(p, ok)
				}
				s = h.server(mux)
			} else {
				for _, p := range patterns {
					mux.Handle(p, h.mw(ok))
				}
				s = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					defer h.served.Done()
					mux.ServeHTTP(w, r)
				}))
				t.Cleanup(s.Close)
			}
			// Three gauges and three series fill the cache; then POST /x and
			// GET /c use the overflow gauge, while /x already has series.
			for _, req := range [][2]string{
				{"GET", "/x"}, {"GET", "/a"}, {"GET", "/b"},
				{"POST", "/x"}, {"GET", "/c"}, {"GET", "/x"}, {"GET", "/x?fail"}, {"GET", "/c"},
			} {
				h.do(s, req[0], req[1])
			}
			want := map[string]int64{
				"method=GET,path=/x,service=s,status_code=200":      2,
				"method=GET,path=/a,service=s,status_code=200":      1,
				"method=GET,path=/b,service=s,status_code=200":      1,
				"otel.metric.overflow=true,path=overflow,service=s": 4,
			}
			if got := h.sums("http_requests_total"); render(got) != render(want) {
				t.Errorf("http_requests_total = %s, want %s", render(got), render(want))
			}
			wantErr := map[string]int64{"otel.metric.overflow=true,path=overflow,service=s": 1}
			if got := h.sums("http_errors_total"); render(got) != render(wantErr) {
				t.Errorf("http_errors_total = %s, want %s", render(got), render(wantErr))
			}
		})
	}
}
