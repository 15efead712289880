package otelredecho

import (
	"github.com/labstack/echo/v4"

	"github.com/otelred/otelred/otelred"
)

// Middleware returns echo middleware that records RED metrics and
// in-flight requests for every request that passes through it. It takes
// the options of [otelred.New].
//
// Bad options make Middleware panic, once, with the error [otelred.New]
// would return (it wraps [otelred.ErrInvalidOption]), as a server that
// cannot record what it was told to should not start; build the
// middleware at start-up. The request path itself never panics because
// of it.
func Middleware(opts ...otelred.Option) echo.MiddlewareFunc {
	s, err := otelred.NewServer(opts...)
	if err != nil {
		panic(err)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			q := s.Start(c.Request(), route(c))
			served := false
			defer func() {
				res := c.Response()
				status := res.Status
				if !served && !res.Committed {
					status = 0 // nothing sent before the panic: recorded as the profile says
				}
				q.End(route(c), status, !served)
			}()
			err := next(c)
			if err != nil {
				// Send the response echo's error handler makes of err now,
				// so that its status is the one recorded.
				c.Error(err)
			}
			served = true
			return err
		}
	}
}

// route is the template of the route echo matched for c's method, or ""
// when it matched none: echo leaves the path empty for a 404, and sets
// the Allow value for a 405 or its own OPTIONS answer, where the path
// names the resource of other methods.
func route(c echo.Context) string {
	if c.Get(echo.ContextKeyHeaderAllow) != nil {
		return ""
	}
	return c.Path()
}
