package otelredgin

import (
	"github.com/gin-gonic/gin"

	"github.com/otelred/otelred/otelred"
)

// Middleware returns gin middleware that records RED metrics and
// in-flight requests for every request that passes through it. It takes
// the options of [otelred.New].
//
// Bad options make Middleware panic, once, with the error [otelred.New]
// would return (it wraps [otelred.ErrInvalidOption]), as a server that
// cannot record what it was told to should not start; build the handler
// at start-up. The request path itself never panics because of it.
func Middleware(opts ...otelred.Option) gin.HandlerFunc {
	s, err := otelred.NewServer(opts...)
	if err != nil {
		panic(err)
	}
	return func(c *gin.Context) {
		q := s.Start(c.Request, c.FullPath())
		served := false
		defer func() {
			// gin keeps the status it will send in its writer; a handler
			// that panicked before writing sent none, which the core
			// records as the profile says (no status in Semconv, 500 in
			// Classic).
			status := c.Writer.Status()
			if !served && !c.Writer.Written() {
				status = 0
			}
			q.End(c.FullPath(), status, !served)
		}()
		c.Next()
		served = true
	}
}
