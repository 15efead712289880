package red

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxValueLength is the longest string, in bytes, that an instrumentation
// stores as an attribute value. otelred.MaxValueLength is the same bound.
//
// 128 bytes hold route templates, RPC method names, tenant ids and all but
// the longest host names, and keep the worst case bounded: at the
// cardinality limit, with every value at the bound, the scrape, one OTLP
// export and the heap stay under the figures of docs/reliability.md
// (exporter's TestWorstCaseStaysBounded checks them). Twice as much would
// about double the scrape and the export.
const MaxValueLength = 128

// replacement is what a run of bytes that is not valid UTF-8 becomes:
// U+FFFD, as OpenTelemetry's UTF-8 policy proposal (OTEP 257) asks.
const replacement = "\uFFFD"

// Clean returns the value under which s, a string from outside the
// program (a request's attribute, a host, a method or operation name, a
// route), is stored as an attribute value: protobuf refuses strings that
// are not valid UTF-8, and one such value would stop every OTLP export.
//
//   - s itself, without allocating, when it is valid UTF-8 and at most
//     MaxValueLength bytes long;
//   - [Other] when it is longer than MaxValueLength, before or after the
//     replacement below: a long value is never truncated, so two of them
//     never merge into a misleading one;
//   - otherwise s with each run of invalid bytes replaced by U+FFFD.
//
// Call it where a value enters, before it is used as a cache key, so that
// values that clean to the same one share a series and a huge value is
// never kept.
func Clean(s string) string {
	if len(s) <= MaxValueLength && utf8.ValidString(s) {
		return s
	}
	return clean(s)
}

// clean is Clean for a value that is too long or not valid UTF-8.
func clean(s string) string {
	if len(s) > MaxValueLength { // before the replacement, which would copy it
		return Other
	}
	if s = strings.ToValidUTF8(s, replacement); len(s) > MaxValueLength {
		return Other
	}
	return s
}

// CheckValue returns an error that says why v, a configured value that is
// to become an attribute value or key, cannot be stored as it is: it is
// not valid UTF-8, or longer than MaxValueLength. It returns nil when
// Clean(v) is v. The error shows v quoted, or its beginning and its length
// when it is long.
func CheckValue(v string) error {
	switch {
	case len(v) > MaxValueLength:
		head := v[:32]
		for len(head) > 0 && !utf8.RuneStart(v[len(head)]) { // do not cut a character
			head = head[:len(head)-1]
		}
		return fmt.Errorf("%q… is %d bytes long, longer than an attribute value may be (%d bytes)", head, len(v), MaxValueLength)
	case !utf8.ValidString(v):
		return fmt.Errorf("%q is not valid UTF-8", v)
	}
	return nil
}
