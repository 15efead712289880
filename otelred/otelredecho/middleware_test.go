package otelredecho_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/internal/redtest"
	"github.com/otelred/otelred/otelred/otelredecho"
)

// newEcho is an echo server with, optionally, middleware.Recover outside
// otelred, and routes for each case the tests send.
func newEcho(recovery bool, opts ...otelred.Option) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(discardWriter{})
	if recovery {
		e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	}
	e.Use(otelredecho.Middleware(opts...))
	e.GET("/users/:id", func(c echo.Context) error { return c.String(http.StatusOK, "user "+c.Param("id")) })
	e.POST("/users/:id", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
	e.GET("/quiet", func(echo.Context) error { return nil }) // sends nothing: 200
	e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	e.GET("/fail", func(echo.Context) error { return errors.New("database down") }) // echo answers 500
	e.GET("/boom", func(echo.Context) error { panic("boom") })
	e.GET("/late/boom", func(c echo.Context) error {
		c.Response().WriteHeader(http.StatusAccepted)
		panic("boom after the header")
	})
	e.GET("/healthz", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	// A Group with middleware makes echo register "/admin" and "/admin/*"
	// as RouteNotFound routes.
	admin := e.Group("/admin", func(next echo.HandlerFunc) echo.HandlerFunc { return next })
	admin.GET("/stats", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	return e
}

type discardWriter struct{}

func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestMiddlewareRecordsEchoRoutesStatusesAndPanics sends the same requests
// to real echo servers, for each profile, with middleware.Recover outside
// otelred and without any recovery, and checks every series exactly.
func TestMiddlewareRecordsEchoRoutesStatusesAndPanics(t *testing.T) {
	requests := []struct {
		method, path string
		recovered    int // the status the client gets with middleware.Recover
	}{
		{"GET", "/users/1", 200},
		{"GET", "/users/2", 200},
		{"POST", "/users/3", 201},
		{"GET", "/quiet", 200},
		{"GET", "/teapot", 418},
		{"GET", "/fail", 500},
		{"GET", "/nowhere/42", 404},
		{"DELETE", "/users/4", 405},
		{"OPTIONS", "/users/5", 204},
		{"GET", "/admin/stats", 200},
		{"GET", "/admin/nowhere", 404},
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
			redtest.Semconv("GET", "/teapot", 418, ""):                 1,
			redtest.Semconv("GET", "/fail", 500, "500"):                1,
			redtest.Semconv("GET", redtest.NoRoute, 404, ""):           1,
			redtest.Semconv("DELETE", redtest.NoRoute, 405, ""):        1,
			redtest.Semconv("OPTIONS", redtest.NoRoute, 204, ""):       1,
			redtest.Semconv("GET", "/admin/stats", 200, ""):            1,
			redtest.Semconv("GET", "/admin/*", 404, ""):                1,
			redtest.Semconv("GET", "/boom", redtest.NoStatus, "panic"): 1,
			redtest.Semconv("GET", "/late/boom", 202, "panic"):         1,
		}},
		{otelred.Classic, []otelred.Option{otelred.WithProfile(otelred.Classic), otelred.WithService(redtest.ClassicService)}, map[string]uint64{
			redtest.Classic("GET", "/users/:id", 200):          2,
			redtest.Classic("POST", "/users/:id", 201):         1,
			redtest.Classic("GET", "/quiet", 200):              1,
			redtest.Classic("GET", "/teapot", 418):             1,
			redtest.Classic("GET", "/fail", 500):               1,
			redtest.Classic("GET", otelred.Unmatched, 404):     1,
			redtest.Classic("DELETE", otelred.Unmatched, 405):  1,
			redtest.Classic("OPTIONS", otelred.Unmatched, 204): 1,
			redtest.Classic("GET", "/admin/stats", 200):        1,
			redtest.Classic("GET", "/admin/*", 404):            1,
			redtest.Classic("GET", "/boom", 500):               1,
			redtest.Classic("GET", "/late/boom", 202):          1,
		}},
	} {
		for _, recovery := range []bool{true, false} {
			name := profile.p.String() + ", middleware.Recover outside"
			if !recovery {
				name = profile.p.String() + ", no recovery"
			}
			t.Run(name, func(t *testing.T) {
				mp, reader := redtest.Provider(t)
				filter := otelred.WithFilter(func(r *http.Request) bool {
					return r.URL.Path != "/healthz" && r.URL.Path != "/metrics"
				})
				opts := append([]otelred.Option{otelred.WithMeterProvider(mp), filter}, profile.opts...)
				s := redtest.Serve(t, newEcho(recovery, opts...))
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

// TestMiddlewareRecordsTheStatusOfACustomErrorHandler checks that the
// status recorded for a handler's error is the one the service's own
// HTTPErrorHandler sends, not the one the error carries.
func TestMiddlewareRecordsTheStatusOfACustomErrorHandler(t *testing.T) {
	mp, reader := redtest.Provider(t)
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		c.NoContent(http.StatusServiceUnavailable) // every error is a 503 here
	}
	var outer error
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { outer = next(c); return outer }
	})
	e.Use(otelredecho.Middleware(otelred.WithMeterProvider(mp)))
	e.GET("/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
	s := redtest.Serve(t, e)
	if got := s.Do("GET", "/teapot"); got != http.StatusServiceUnavailable {
		t.Errorf("client got %d, want 503", got)
	}
	var he *echo.HTTPError
	if !errors.As(outer, &he) || he.Code != http.StatusTeapot {
		t.Errorf("middleware outside got error %v, want the handler's", outer)
	}
	redtest.WantCounts(t, redtest.Counts(t, reader, otelred.Semconv), map[string]uint64{
		redtest.Semconv("GET", "/teapot", 503, "503"): 1,
	})
}

func TestMiddlewarePanicsOnceOnBadOptions(t *testing.T) {
	defer func() {
		err, _ := recover().(error)
		if err == nil || err.Error() != "otelred: invalid option: WithHosts does not apply to NewServer" {
			t.Errorf("Middleware(WithHosts) panicked with %v", err)
		}
	}()
	otelredecho.Middleware(otelred.WithHosts("api.example"))
	t.Error("Middleware(WithHosts) did not panic")
}
