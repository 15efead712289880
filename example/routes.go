package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The /slow route's delay, in milliseconds.
const (
	defaultSlowMS = 250
	maxSlowMS     = 5000
)

// errBadMS is returned by parseMS for a value that is not a whole,
// non-negative number of milliseconds.
var errBadMS = errors.New("ms must be a whole number of milliseconds, 0 or more")

// sleepFunc waits for d, or until ctx ends.
type sleepFunc func(ctx context.Context, d time.Duration)

// sleep is the real sleepFunc.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// newMux returns the demo's routes, without instrumentation and without
// /metrics:
//
//	GET /hello/{name}  200, at once
//	GET /fail          500
//	GET /slow?ms=N     200 after N ms (default 250, capped at 5000); a bad ms is 400
//	POST /orders       201 after calling its dependency with o.client and
//	                   processing the order (o.track); 502 if the call fails
//
// Any other path is 404, and another method on these paths 405, as
// http.ServeMux answers. wait is how /slow and the processing of an order
// wait.
func newMux(wait sleepFunc, o *orders) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) { o.create(w, r, wait) })
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("name"))
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failed, on purpose", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ms, err := parseMS(r.URL.Query().Get("ms"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		wait(r.Context(), time.Duration(ms)*time.Millisecond)
		if r.Context().Err() != nil {
			return // the client has gone
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "slept %dms\n", ms)
	})
	return mux
}

// parseMS reads the ms parameter of /slow: empty means 250, a value above
// 5000 is capped at 5000, and anything but a whole number 0 or more is
// errBadMS.
func parseMS(s string) (int, error) {
	if s == "" {
		return defaultSlowMS, nil
	}
	ms, err := strconv.Atoi(s)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) && s[0] != '-' {
			return maxSlowMS, nil // a huge number is still a number: cap it
		}
		return 0, errBadMS
	}
	if ms < 0 {
		return 0, errBadMS
	}
	return min(ms, maxSlowMS), nil
}
