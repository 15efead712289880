package otelredgin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
	"github.com/otelred/otelred/otelred/otelredgin"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// newEngine is a gin engine with 405s on, optionally gin.Recovery outside
// otelred, and routes for each case the tests send.
func newEngine(recovery bool, opts ...otelred.Option) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if recovery {
		r.Use(gin.RecoveryWithWriter(discardWriter{}))
	}
	r.Use(otelredgin.Middleware(opts...))
	r.GET("/users/:id", func(c *gin.Context) { c.String(http.StatusOK, "user %s", c.Param("id")) })
	r.POST("/users/:id", func(c *gin.Context) { c.Status(http.StatusCreated) })
	r.GET("/quiet", func(*gin.Context) {}) // sends nothing: 200
	r.GET("/fail", func(c *gin.Context) { c.AbortWithStatus(http.StatusServiceUnavailable) })
	r.GET("/boom", func(*gin.Context) { panic("boom") })
	r.GET("/late/boom", func(c *gin.Context) {
		c.Status(http.StatusAccepted)
		c.Writer.WriteHeaderNow()
		panic("boom after the header")
	})
	r.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	return r
}

type discardWriter struct{}

func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestMiddlewareRecordsGinRoutesStatusesAndPanics sends the same requests
// to real gin servers, for each profile, with gin.Recovery outside otelred
// and without any recovery, and checks every series exactly.
func TestMiddlewareRecordsGinRoutesStatusesAndPanics(t *testing.T) {
	requests := []struct {
		method, path string
		recovered    int // the status the client gets with gin.Recovery
	}{
		{"GET", "/users/1", 200},
		{"GET", "/users/2", 200},
		{"POST", "/users/3", 201},
		{"GET", "/quiet", 200},
		{"GET", "/fail", 503},
		{"GET", "/nowhere/42", 404},
		{"DELETE", "/users/4", 405},
		{"GET", "/boom", 500},
		{"GET", "/late/boom", 202},
		{"GET", "/healthz", 204},
		{"GET", "/metrics", 404}, // left out by default, and here by the filter
	}
	for _, profile := range []struct {
		p    otelred.Profile
		opts []otelred.Option
		want map[string]uint64
	}{
		{otelred.Semconv, nil, map[string]uint64{
			redtest.Semconv("GET", "/users/:id", 200, ""):              2,
			redtest.Semconv("POST", "/users/:id", 201, ""):             1,
			redtest.Semconv("GET", "/quiet", 200, ""):                  1,
			redtest.Semconv("GET", "/fail", 503, "503"):                1,
			redtest.Semconv("GET", redtest.NoRoute, 404, ""):           1,
			redtest.Semconv("DELETE", redtest.NoRoute, 405, ""):        1,
			redtest.Semconv("GET", "/boom", redtest.NoStatus, "panic"): 1,
			redtest.Semconv("GET", "/late/boom", 202, "panic"):         1,
		}},
		{otelred.Classic, []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}, map[string]uint64{
			redtest.Classic("GET", "/users/:id", 200):         2,
			redtest.Classic("POST", "/users/:id", 201):        1,
			redtest.Classic("GET", "/quiet", 200):             1,
			redtest.Classic("GET", "/fail", 503):              1,
			redtest.Classic("GET", otelred.Unmatched, 404):    1,
			redtest.Classic("DELETE", otelred.Unmatched, 405): 1,
			redtest.Classic("GET", "/boom", 500):              1,
			redtest.Classic("GET", "/late/boom", 202):         1,
		}},
	} {
		for _, recovery := range []bool{true, false} {
			name := profile.p.String() + ", gin.Recovery outside"
			if !recovery {
				name = profile.p.String() + ", no recovery"
			}
			t.Run(name, func(t *testing.T) {
				mp, reader := redtest.Provider(t)
				filter := otelred.WithFilter(func(r *http.Request) bool {
					return r.URL.Path != "/healthz" && r.URL.Path != "/metrics"
				})
				opts := append([]otelred.Option{otelred.WithMeterProvider(mp), filter}, profile.opts...)
				s := redtest.Serve(t, newEngine(recovery, opts...))
				for _, rq := range requests {
					want := rq.recovered
					if !recovery && strings.HasSuffix(rq.path, "boom") {
						want = 0 // the panic reaches net/http, which drops the connection
					}
					if got := s.Do(rq.method, rq.path); got != want {
						t.Errorf("%s %s: client got %d, want %d", rq.method, rq.path, got, want)
					}
				}
				redtest.WantCounts(t, redtest.Counts(t, reader, profile.p), profile.want)
			})
		}
	}
}

func TestMiddlewarePanicsOnceOnBadOptions(t *testing.T) {
	defer func() {
		err, _ := recover().(error)
		if err == nil || err.Error() != "otelred: invalid option: WithHosts does not apply to NewServer" {
			t.Errorf("Middleware(WithHosts) panicked with %v", err)
		}
	}()
	otelredgin.Middleware(otelred.WithHosts("api.example"))
	t.Error("Middleware(WithHosts) did not panic")
}
