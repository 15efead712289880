package otelredgrpc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestStatusNamesAreGRPCs checks the names against grpc-go's own table of
// the names the gRPC specification gives the codes.
func TestStatusNamesAreGRPCs(t *testing.T) {
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		var parsed codes.Code
		if err := parsed.UnmarshalJSON([]byte(`"` + statusNames[c] + `"`)); err != nil || parsed != c {
			t.Errorf("code %d is named %q, which grpc-go reads as %v (%v)", c, statusNames[c], parsed, err)
		}
	}
}

// nilStatus is an error whose GRPCStatus is nil.
type nilStatus struct{}

func (nilStatus) Error() string              { return "nil status" }
func (nilStatus) GRPCStatus() *status.Status { return nil }
func (okStatus) Error() string               { return "OK status" }
func (okStatus) GRPCStatus() *status.Status  { return status.New(codes.OK, "") }

// okStatus is an error whose status is OK.
type okStatus struct{}

// sent is the code grpc-go's server sends for a handler's error
// (processUnaryRPC and processStreamingRPC in server.go).
func sent(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	s, ok := status.FromError(err)
	if !ok {
		s = status.FromContextError(err)
	}
	return s.Code()
}

// TestOutcomeIsWhatGRPCSends compares outcomeOf with grpc-go's own mapping.
func TestOutcomeIsWhatGRPCSends(t *testing.T) {
	notFound := status.Error(codes.NotFound, "no")
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"no error", nil},
		{"a status error", notFound},
		{"a wrapped status error", fmt.Errorf("loading: %w", notFound)},
		{"a status error wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", status.Error(codes.Aborted, "x")))},
		{"a status error joined after a plain one", errors.Join(errors.New("plain"), status.Error(codes.Aborted, "x"))},
		{"two status errors joined", errors.Join(status.Error(codes.Aborted, "x"), notFound)},
		{"a status error joined after a context error", errors.Join(context.Canceled, notFound)},
		{"a status error under fmt's multiple wrapping", fmt.Errorf("%w and %w", errors.New("plain"), notFound)},
		{"an undefined code", status.Error(codes.Code(42), "x")},
		{"a status whose code is OK", okStatus{}},
		{"the context's deadline", context.DeadlineExceeded},
		{"a wrapped deadline", fmt.Errorf("downstream: %w", context.DeadlineExceeded)},
		{"the context's cancellation", context.Canceled},
		{"a plain error", errors.New("plain")},
		{"a nil status", nilStatus{}},
		{"a nil status wrapped with a deadline", errors.Join(nilStatus{}, context.DeadlineExceeded)},
		{"a nil status before a status", errors.Join(nilStatus{}, notFound)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := uint64(sent(tc.err))
			if want >= outcomeOther {
				want = outcomeOther
			}
			if got := outcomeOf(tc.err); got != want {
				t.Errorf("outcome %s, want %s as grpc-go sends", statusNames[got], statusNames[want])
			}
		})
	}
}
