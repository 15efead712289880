// Package otelredgrpc records RED metrics (rate, errors and duration) and
// the number of calls in progress for gRPC servers, through the
// OpenTelemetry metric API, as package otelred does for HTTP. It is a
// package of its own so that otelred never imports gRPC.
//
// A [Server] holds the instruments; its interceptors are methods:
//
//	red, err := otelredgrpc.NewServer(otelred.WithMeterProvider(provider))
//	if err != nil {
//		return err
//	}
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(red.UnaryInterceptor()),
//		grpc.ChainStreamInterceptor(red.StreamInterceptor()),
//	)
//
// # Metrics
//
// The names follow the OpenTelemetry RPC semantic conventions:
//
//   - rpc.server.call.duration, a histogram in seconds, with
//     rpc.system.name ("grpc"), rpc.method (the full method without its
//     leading slash, "pkg.Service/Method"), rpc.response.status_code (the
//     code's name: "OK", "NOT_FOUND", "DEADLINE_EXCEEDED", …) and, on
//     failures only, error.type (the same name, or "panic");
//   - rpc.server.active_calls, the calls in progress, with rpc.system.name
//     and rpc.method: the saturation signal, an up-down counter read from
//     the Server's own atomic counts at collection time. The semantic
//     conventions have no such instrument; its name is otelred's.
//
// Rate is the histogram's count, errors are the count where error.type is
// set, duration comes from its buckets. By default every code but OK is a
// failure; [WithErrorCodes] narrows that, for example to the codes the
// semantic conventions count as server errors. The bucket advice is
// otelred's Semconv boundaries, 5 ms to 10 s; views.RED gives this
// histogram the same buckets as otelred's own.
//
// The histogram is the only SDK call per request, with options built once
// per attribute set, so a call allocates nothing in steady state.
//
// # Cardinality
//
// rpc.method comes from the request. grpc-go calls the interceptors only
// for methods registered on the server, unless it has an
// UnknownServiceHandler: then calls of any method a client invents reach
// the stream interceptor, as bidirectional streams. So the interceptors
// recognise a method at once when its call is unary or a one-way stream,
// and a bidirectional method only once one of its calls has ended with a
// code other than UNIMPLEMENTED, the answer to a method the server does not
// have. Calls of methods not recognised (yet) are recorded as
// [OtherMethod], "_OTHER". An UnknownServiceHandler that answers methods
// it does not know with UNIMPLEMENTED keeps invented names out; one that
// answers them with any other code (a proxy passing on its backend's
// errors) makes each name it answers a method, up to the cardinality
// limit. Such a server must set [WithMethods], which replaces this with a
// fixed list.
//
// A method name from the wire that is not valid UTF-8 is recorded with
// U+FFFD in place of the invalid bytes, and one longer than
// [otelred.MaxValueLength] bytes is never recognised: its calls are
// recorded as OtherMethod.
//
// Status codes are a fixed set: the seventeen gRPC defines, and "_OTHER"
// for any other number a handler returns. Each attribute set is built once
// and kept in a cache with a hard limit ([otelred.WithCardinalityLimit]); calls
// that do not fit are recorded with rpc.method "overflow"
// ([otelred.Overflow]) and otel.metric.overflow=true, keeping their status and error.type, so
// nothing is lost and memory stays bounded.
//
// # Interceptor ordering
//
// The first interceptor given to grpc.ChainUnaryInterceptor is the
// outermost. Put a panic-recovering interceptor before otelredgrpc's: the
// interceptor records a panicking handler (INTERNAL, error.type "panic")
// and lets the panic continue, so the recoverer still sees it; a recoverer
// after it would turn the panic into whatever status it returns. Put
// otelredgrpc's before interceptors that reject calls, such as
// authentication, so that rejected calls are counted with their codes
// (UNAUTHENTICATED); after them, it measures only the calls they let
// through.
//
// For traces, contrib's otelgrpc is a stats handler, not an interceptor:
//
//	grpc.NewServer(
//		grpc.StatsHandler(otelgrpc.NewServerHandler()),
//		grpc.ChainUnaryInterceptor(recovery, red.UnaryInterceptor()),
//		grpc.ChainStreamInterceptor(recoveryStream, red.StreamInterceptor()),
//	)
//
// grpc-go runs stats handlers before any interceptor, so the server span
// is already in the call's context when otelredgrpc records, and the SDK
// attaches it, with its trace id, as an exemplar of the duration histogram.
// otelgrpc also records RPC metrics of its own, in its own scope: drop
// them with a view on that scope, or give otelgrpc a no-op MeterProvider
// (otelgrpc.WithMeterProvider), so that each call is not counted twice.
//
// The duration starts when the interceptor is called, after grpc-go has
// read a unary call's request message, and ends when the handler returns,
// before the response is written.
//
// # Exporters
//
// otelredgrpc creates instruments only, with the OpenTelemetry API. The
// exporter package turns configuration into metric readers (Prometheus,
// OTLP, console), and views.RED sets the histogram's buckets. Through the
// Prometheus exporter the instruments become
// rpc_server_call_duration_seconds_{bucket,sum,count}, labelled
// rpc_system_name, rpc_method, rpc_response_status_code and error_type,
// and rpc_server_active_calls, labelled rpc_system_name and rpc_method.
package otelredgrpc
