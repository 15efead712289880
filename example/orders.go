package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// POST /orders: what it calls and what it tracks.
const (
	// dependencyPath is the route of the demo's own that POST /orders calls
	// as its outbound dependency: GET /hello/{name}, a different route, so
	// the call neither recurses nor waits on itself.
	dependencyPath = "/hello/orders"
	// orderOperation names the tracked processing step of an order.
	orderOperation = "orders.process"
	// orderStep is how long the simulated processing takes.
	orderStep = 2 * time.Millisecond
	// dependencyTimeout bounds the outbound call.
	dependencyTimeout = 5 * time.Second
)

// trackFunc runs fn as an operation named name, as
// otelred.Operations.Track does.
type trackFunc func(ctx context.Context, name string, fn func(context.Context) error) error

// untracked is the trackFunc of the bare demo: it runs fn, and records
// nothing.
func untracked(ctx context.Context, _ string, fn func(context.Context) error) error { return fn(ctx) }

// orders is what POST /orders needs: the HTTP client that calls its
// dependency (through otelred's Transport, unless bare), the dependency's
// URL, and the tracker of its processing step.
type orders struct {
	client     *http.Client
	dependency string
	track      trackFunc
}

// errDependency wraps every failure of the outbound call.
var errDependency = errors.New("dependency failed")

// create handles POST /orders: it calls the dependency, then runs the
// processing step as the operation orders.process, and answers 201. A
// dependency that fails (no answer, or a status other than 200) is a 502,
// and the step is not run.
func (o *orders) create(w http.ResponseWriter, r *http.Request, wait sleepFunc) {
	ctx := r.Context()
	if err := o.callDependency(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	err := o.track(ctx, orderOperation, func(ctx context.Context) error {
		wait(ctx, orderStep)
		return ctx.Err()
	})
	if err != nil {
		if ctx.Err() != nil {
			return // the client has gone
		}
		http.Error(w, "processing the order failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, "order created\n")
}

// callDependency sends GET to the dependency, reads the answer and
// returns nil if it is a 200.
func (o *orders) callDependency(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.dependency, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errDependency, err)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", errDependency, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: status %d", errDependency, o.dependency, resp.StatusCode)
	}
	return nil
}

// newClientTransport is the base transport of the outbound calls: the
// demo's own, so that shutdown can close its idle connections.
func newClientTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil, // the dependency is on this machine
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
}

// selfURL is the base URL the demo calls itself at: its listener's
// address, with an unspecified IP (":8080" listens on every address)
// replaced by the loopback address.
func selfURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
