package otelred

import (
	"context"
	"net/http"

	"github.com/otelred/otelred/otelred/internal/red"
)

// MaxValueLength is the longest value, in bytes, that otelred records for
// an attribute whose value comes from outside the program: the values of
// [SetAttribute] and [ContextWithAttribute], client hosts, route
// templates, operation names and gRPC method names. 128 bytes hold route
// templates, method names, tenant ids and all but the longest host names
// (DNS allows 253). A longer value is recorded as "_OTHER", never cut
// short, so that two long values never merge into a misleading one.
//
// A value that is not valid UTF-8 is recorded with each run of invalid
// bytes replaced by U+FFFD, as OpenTelemetry's UTF-8 policy proposal
// (OTEP 257) asks: protobuf refuses invalid UTF-8, and a single such value
// would make every OTLP export fail.
//
// A configured value (an option's, or the service name Classic labels
// with) that breaks either rule is an error that wraps [ErrInvalidOption].
const MaxValueLength = red.MaxValueLength

// SetAttribute sets the per-request attribute key to value on the
// measurement of the request being served through w, for a key declared
// with [WithAttribute]: a handler or a middleware inside otelred's calls it
// once it knows the tenant, say. The last value set wins; "" unsets the
// key. A value the key's allow-list leaves out is recorded as "_OTHER",
// and so is one longer than [MaxValueLength]; invalid UTF-8 is recorded
// with U+FFFD in place of the invalid bytes.
//
// Like [SetRoute], it follows w's Unwrap chain to the writer otelred gave
// the handler. It reports false, and does nothing, when there is none (the
// request is not recorded, see [WithFilter]) or when key was not declared.
// It allocates nothing, unless value is not valid UTF-8.
func SetAttribute(w http.ResponseWriter, key, value string) bool {
	rw := writerOf(w)
	if rw == nil || rw.attrs == nil {
		return false
	}
	i := rw.attrs.Index(key)
	if i < 0 {
		return false
	}
	rw.values[i], rw.hasValues = rw.attrs.Admit(i, value), true
	return true
}

// ContextWithAttribute returns a copy of ctx in which the per-request
// attribute key has value, for the client requests sent with it through a
// [NewTransport] that declared key with [WithAttribute]: the Transport
// reads it from the request's context when it records. The value set last
// wins; "" unsets the key. Keys the Transport did not declare are ignored.
// As with [SetAttribute], a value the key's allow-list leaves out, or one
// longer than [MaxValueLength], is recorded as "_OTHER", and invalid UTF-8
// with U+FFFD in place of the invalid bytes.
func ContextWithAttribute(ctx context.Context, key, value string) context.Context {
	parent, _ := ctx.Value(attrsKey{}).(*attrNode)
	return context.WithValue(ctx, attrsKey{}, &attrNode{key: key, value: value, parent: parent})
}

// attrsKey is the context key of the attributes of ContextWithAttribute.
type attrsKey struct{}

// attrNode is one ContextWithAttribute call: a list, newest first.
type attrNode struct {
	key, value string
	parent     *attrNode
}

// contextValues fills v with the values ctx holds for the keys of a, and
// reports whether it holds any. The newest value of a key wins.
func contextValues(ctx context.Context, a *red.Attributes, v *red.Values) bool {
	var done [red.MaxAttributes]bool
	found := false
	for n, _ := ctx.Value(attrsKey{}).(*attrNode); n != nil; n = n.parent {
		if i := a.Index(n.key); i >= 0 && !done[i] {
			v[i], done[i], found = a.Admit(i, n.value), true, true
		}
	}
	return found
}

// withValues adds the id of the attribute values v to the series code at
// shift, and reports false when they do not fit under the cardinality
// limit: the request then goes to the overflow series.
func withValues(a *red.Attributes, v *red.Values, code *uint64, shift uint) bool {
	id, ok := a.ID(v)
	*code |= uint64(id) << shift
	return ok
}

// attrID is the id of attribute values that withValues put in code.
func attrID(code uint64, shift uint) uint32 {
	return uint32(code>>shift) & red.MaxAttrIDs
}
