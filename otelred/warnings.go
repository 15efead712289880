package otelred

import "github.com/otelred/otelred/otelred/internal/red"

// The warnings: what otelred reports through [otel.Handle], once, when it
// is set up in a way that records nothing, too little or too much, and
// what each report's error wraps. Each report names the fix and a section
// of docs/middleware.md ("Warnings"). Install an error handler with
// otel.SetErrorHandler to route them to your logger; by default they are
// logged.
var (
	// ErrNoMeterProvider is reported by [New], [NewServer],
	// [NewTransport] and [NewOperations] (and otelredgrpc.NewServer) when
	// no [WithMeterProvider] is given while the global MeterProvider is
	// still OpenTelemetry's default, which records nothing until
	// otel.SetMeterProvider is called. Once it is, otelred records into
	// the provider set.
	ErrNoMeterProvider = red.ErrNoMeterProvider

	// ErrNoRoute is reported, once per middleware of [New], when 100
	// successful (2xx) responses have come back with no route while no
	// request has matched one: a middleware between otelred and the
	// router replaced the request, so the router's match never reached
	// otelred, or there is no router at all. A router's own 404 and 405
	// are not successes, and a single request that matches a route stops
	// the count for good. A middleware with a [WithRoute] function names
	// its own routes, and never reports it: that is how a handler without
	// a router, which has no route to record, silences it.
	ErrNoRoute = red.ErrNoRoute

	// ErrCountedTwice is reported by [New] and [NewTransport] when
	// otelhttp is built into the program and the MeterProvider otelred
	// records into would record otelhttp's duration histogram too: if
	// otelhttp records into the same provider, both count each request in
	// one Prometheus family. otelred cannot see which provider otelhttp
	// was given, so the report says which case is likely.
	ErrCountedTwice = red.ErrCountedTwice

	// ErrCardinalityLimit is reported, once per instrument, the first
	// time the cardinality limit ([WithCardinalityLimit]) folds a new
	// attribute set into the overflow series.
	ErrCardinalityLimit = red.ErrCardinalityLimit
)

// noRouteReport is how many successful responses with no route, while no
// request has matched one, make a middleware report [ErrNoRoute].
const noRouteReport = 100

// raiseLimit names the options that raise the cardinality limit of the
// instrumentations of this package.
const raiseLimit = "WithCardinalityLimit, or exporter Config.CardinalityLimit (OTELRED_CARDINALITY_LIMIT), which the Provider of exporter.Setup hands to otelred"
