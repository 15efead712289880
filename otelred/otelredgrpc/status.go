package otelredgrpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// An outcome is how a call ended: a gRPC code from OK (0) to
// UNAUTHENTICATED (16), or one of the two outcomes past them. It is the code
// of a series in the cache, next to the method's name.
const (
	// outcomeOther is a code outside the seventeen gRPC defines, which a
	// handler can return (status.Error(codes.Code(42), ...)).
	outcomeOther = uint64(codes.Unauthenticated) + 1 + iota
	// outcomePanic is a handler that panicked.
	outcomePanic
	numOutcomes
)

// statusNames maps an outcome to its rpc.response.status_code: the code's
// name as the gRPC specification spells it (upper snake case, with
// "CANCELLED" spelled with two Ls, unlike Go's codes.Canceled), "_OTHER"
// for codes gRPC does not define, and INTERNAL for a panic, the code a
// recovering interceptor usually answers with.
var statusNames = [numOutcomes]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
	outcomeOther:             OtherMethod,
	outcomePanic:             "INTERNAL",
}

// errorTypes maps an outcome to the error.type of a failed call: the status
// code's name, or "panic".
var errorTypes = func() [numOutcomes]string {
	t := statusNames
	t[outcomePanic] = "panic"
	return t
}()

// outcomeOf returns the outcome of a call whose handler returned err, with
// the code grpc-go sends the client for it: the code of the first error in
// err's tree that has a gRPC status (status.FromError), otherwise
// DEADLINE_EXCEEDED or CANCELLED for the context's errors
// (status.FromContextError), otherwise UNKNOWN.
//
// Unlike status.Code, it allocates nothing, whatever err is: status.Code
// builds a new Status for every error that is not a status error itself.
func outcomeOf(err error) uint64 {
	if err == nil {
		return uint64(codes.OK)
	}
	if c, found := statusCode(err); found == statusFound {
		if uint64(c) >= outcomeOther {
			return outcomeOther
		}
		return uint64(c)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return uint64(codes.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return uint64(codes.Canceled)
	}
	return uint64(codes.Unknown)
}

// grpcStatus is the interface status.FromError looks for.
type grpcStatus interface{ GRPCStatus() *status.Status }

// What statusCode found.
const (
	statusNone  = iota // no error with a gRPC status
	statusFound        // a gRPC status, with its code
	statusNil          // an error whose GRPCStatus is nil
)

// statusCode walks err's tree in the order errors.As does and returns the
// code of the first error that has a gRPC status. An error whose
// GRPCStatus is nil ends the walk without a code, as in status.FromError.
func statusCode(err error) (codes.Code, int) {
	for err != nil {
		if gs, ok := err.(grpcStatus); ok {
			if s := gs.GRPCStatus(); s != nil {
				return s.Code(), statusFound
			}
			return 0, statusNil
		}
		switch e := err.(type) {
		case interface{ Unwrap() error }:
			err = e.Unwrap()
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if c, found := statusCode(inner); found != statusNone {
					return c, found
				}
			}
			return 0, statusNone
		default:
			return 0, statusNone
		}
	}
	return 0, statusNone
}
