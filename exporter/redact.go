package exporter

import (
	"cmp"
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/status"
)

// minSecret is the length under which a header value, or a word of one,
// is not redacted from export errors: so short a string would match
// anywhere (a header "x-shard: 1" would mangle every "1"), and is no
// credential.
const minSecret = 4

// secrets are the strings that the errors of an OTLP exporter must not
// carry, longest first: the header values, each word of them (a collector
// may echo the token of "Bearer <token>" alone) and the endpoint's
// password, each also as a collector may echo it, quoted or
// percent-encoded.
type secrets []string

// secrets returns o's secrets; o must be valid.
func (o OTLP) secrets() secrets {
	var raw []string
	for _, v := range o.Headers {
		raw = append(raw, v)
		raw = append(raw, strings.Fields(v)...)
	}
	if u, err := url.Parse(o.Endpoint); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			raw = append(raw, pw)
		}
	}
	var s secrets
	for _, r := range raw {
		if r = strings.TrimSpace(r); len(r) < minSecret {
			continue
		}
		quoted := strconv.Quote(r)
		s = append(s, r, quoted[1:len(quoted)-1], url.PathEscape(r), url.QueryEscape(r))
	}
	slices.SortFunc(s, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return slices.Compact(s)
}

// redactString replaces every secret in m with REDACTED.
func (s secrets) redactString(m string) string {
	for _, secret := range s {
		m = strings.ReplaceAll(m, secret, redactedValue)
	}
	return m
}

// redact returns err as it is if its message carries no secret, and
// otherwise a [redactedError]: the message with every secret replaced,
// which unwraps to the parts of err that carry none.
func (s secrets) redact(err error) error {
	if err == nil || len(s) == 0 {
		return err
	}
	msg := err.Error()
	clean := s.redactString(msg)
	if clean == msg && s.holdNone(err) {
		return err
	}
	r := &redactedError{msg: clean, parts: s.cleanParts(err)}
	var withStatus interface{ GRPCStatus() *status.Status }
	if errors.As(err, &withStatus) {
		if st := withStatus.GRPCStatus(); st != nil {
			r.status = status.New(st.Code(), s.redactString(st.Message()))
		}
	}
	return r
}

// holdNone reports whether neither err's message nor that of any error it
// wraps carries a secret.
func (s secrets) holdNone(err error) bool {
	if m := err.Error(); s.redactString(m) != m {
		return false
	}
	for _, e := range unwrap(err) {
		if !s.holdNone(e) {
			return false
		}
	}
	return true
}

// cleanParts returns the errors err wraps that carry no secret, all the
// way down, and for the others their own such parts.
func (s secrets) cleanParts(err error) []error {
	var parts []error
	for _, e := range unwrap(err) {
		if s.holdNone(e) {
			parts = append(parts, e)
		} else {
			parts = append(parts, s.cleanParts(e)...)
		}
	}
	return parts
}

// unwrap returns the errors err wraps, if any.
func unwrap(err error) []error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			return []error{e}
		}
	case interface{ Unwrap() []error }:
		return slices.DeleteFunc(slices.Clone(u.Unwrap()), func(e error) bool { return e == nil })
	}
	return nil
}

// redactedError is an export error whose message carried a secret, such
// as a credential a collector echoed in its refusal. Its message has each
// secret replaced with REDACTED. It unwraps to the parts of the original
// error that carry no secret, so that errors.Is finds the sentinels among
// them (context.DeadlineExceeded, say), but never to one that does. A gRPC
// status is kept, with its message redacted, for status.Code and
// status.FromError.
type redactedError struct {
	msg    string
	parts  []error
	status *status.Status // nil without one
}

func (e *redactedError) Error() string   { return e.msg }
func (e *redactedError) Unwrap() []error { return e.parts }

// GRPCStatus returns the gRPC status of the original error, with its
// message redacted, or nil.
func (e *redactedError) GRPCStatus() *status.Status { return e.status }

// redactingExporter is the OTLP exporter the periodic reader is given: the
// errors of Export, ForceFlush and Shutdown, which reach otel.Handle or
// the callers of the MeterProvider's ForceFlush and Shutdown, come back
// through secrets.redact.
type redactingExporter struct {
	sdkmetric.Exporter
	secrets secrets
}

func (e redactingExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	return e.secrets.redact(e.Exporter.Export(ctx, rm))
}

func (e redactingExporter) ForceFlush(ctx context.Context) error {
	return e.secrets.redact(e.Exporter.ForceFlush(ctx))
}

func (e redactingExporter) Shutdown(ctx context.Context) error {
	return e.secrets.redact(e.Exporter.Shutdown(ctx))
}
