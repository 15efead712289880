package exporter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestRedactKeepsWhatIsNoSecret redacts errors shaped like the SDK's
// export errors: every secret is gone from the message and from every
// error reachable by unwrapping, while errors.Is still finds the
// sentinels among the clean parts and status.Code the gRPC code.
func TestRedactKeepsWhatIsNoSecret(t *testing.T) {
	o := OTLP{
		Endpoint: "http://otel:pa%40ss-w0rd@collector:4318",
		Headers:  map[string]string{"authorization": "Bearer tok3n-abc", "x-api-key": "k\"ey-123", "x-shard": "7"},
	}
	s := o.secrets()
	echo := status.Error(codes.Unauthenticated, `invalid credentials "Bearer tok3n-abc"`)
	for _, tc := range []struct {
		name     string
		err      error
		want     string // the redacted message
		is       error  // errors.Is must still find it; nil: none
		code     codes.Code
		wrapped  bool // a redactedError, rather than err itself
		notFound []string
	}{
		{
			name: "an error without a secret is returned as it is",
			err:  fmt.Errorf("failed to upload metrics: %w", context.DeadlineExceeded),
			want: "failed to upload metrics: context deadline exceeded", is: context.DeadlineExceeded, code: codes.Unknown,
		},
		{
			name: "a header value echoed whole", err: fmt.Errorf("failed to upload metrics: %w", echo),
			want: `failed to upload metrics: rpc error: code = Unauthenticated desc = invalid credentials "REDACTED"`, code: codes.Unauthenticated, wrapped: true,
		},
		{
			name: "the token of a header value echoed alone, joined with a sentinel",
			err:  errors.Join(errors.New(`401 Unauthorized (body: bad token tok3n-abc)`), context.Canceled),
			want: "401 Unauthorized (body: bad token REDACTED)\ncontext canceled", is: context.Canceled, code: codes.Unknown, wrapped: true,
		},
		{
			name: "values echoed quoted or percent-encoded",
			err:  fmt.Errorf("body: %q and %s", "k\"ey-123", "Bearer%20tok3n-abc"),
			want: `body: "REDACTED" and REDACTED`, code: codes.Unknown, wrapped: true,
		},
		{
			name: "the endpoint's password, decoded or not",
			err:  errors.New("dial otel:pa@ss-w0rd, otel:pa%40ss-w0rd"),
			want: "dial otel:REDACTED, otel:REDACTED", code: codes.Unknown, wrapped: true,
		},
		{
			name: "a value too short to be a credential is left alone",
			err:  errors.New("shard 7 of 70"),
			want: "shard 7 of 70", code: codes.Unknown,
		},
		{
			name: "a secret hidden in a wrapped error is unreachable",
			err:  &hiding{inner: errors.Join(errors.New("tok3n-abc"), context.DeadlineExceeded)},
			want: "export failed", is: context.DeadlineExceeded, code: codes.Unknown, wrapped: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.redact(tc.err)
			if got.Error() != tc.want {
				t.Errorf("redacted message %q, want %q", got, tc.want)
			}
			var r *redactedError
			if errors.As(got, &r) != tc.wrapped {
				t.Errorf("redact returned %T, want a redactedError: %v", got, tc.wrapped)
			}
			if tc.is != nil && !errors.Is(got, tc.is) {
				t.Errorf("errors.Is(%q, %v) = false", got, tc.is)
			}
			if c := status.Code(got); c != tc.code {
				t.Errorf("status.Code = %v, want %v", c, tc.code)
			}
			var walk func(error)
			walk = func(e error) {
				for _, secret := range []string{"tok3n", "pa@ss", "pa%40ss", `k"ey`, `k\"ey`} {
					if strings.Contains(e.Error(), secret) || strings.Contains(fmt.Sprintf("%+v", e), secret) {
						t.Errorf("%T %q, reachable from the redacted error, carries %q", e, e, secret)
					}
				}
				for _, e := range unwrap(e) {
					walk(e)
				}
			}
			walk(got)
			if st, ok := status.FromError(got); ok && strings.Contains(st.Message(), "tok3n") {
				t.Errorf("status.FromError's message %q carries the secret", st.Message())
			}
		})
	}
}

// hiding is an error whose message hides what it wraps.
type hiding struct{ inner error }

func (h *hiding) Error() string { return "export failed" }
func (h *hiding) Unwrap() error { return h.inner }
