package exporter

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/otelred/otelred/internal/otelenv"
)

// FuzzParseHeaders parses a fuzzed OTEL_EXPORTER_OTLP_HEADERS list. The
// parser must not panic; it either returns an error wrapping
// ErrInvalidConfig or headers with valid names and values, which survive
// being encoded and parsed again. A secret appended to the last entry
// (which, after an "=", is part of a header value) never appears in an
// error.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{
		"authorization=Bearer%20abc,x-tenant=blue",
		"", ",", " , ", "=x", "k", "k=", "k=%zz", "k=a%0Ab", " k = v ", "k=v=w", "a=1,a=2",
		"%41=1", "k=%C3%A9", "bad key=v", "k%2Cx=v", "k=%", "x-api-key=", "k=\t",
	} {
		f.Add(s)
	}
	const name = envHeaders
	const marker = "SECRETMARK"
	f.Fuzz(func(t *testing.T, v string) {
		h, err := parseHeaders(name, v)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("parseHeaders(%q) error %q does not wrap ErrInvalidConfig", v, err)
			}
		} else {
			for k, val := range h {
				if !otelenv.IsToken(k) || !validHeaderValue(val) {
					t.Fatalf("parseHeaders(%q) accepted header %q: %q", v, k, val)
				}
			}
			var entries []string
			for _, k := range slices.Sorted(maps.Keys(h)) {
				entries = append(entries, k+"="+url.PathEscape(h[k]))
			}
			again, err := parseHeaders(name, strings.Join(entries, ","))
			if err != nil || !maps.Equal(again, h) {
				t.Fatalf("parseHeaders(%q) = %q, which encodes to %q and parses back to %q, %v", v, h, strings.Join(entries, ","), again, err)
			}
		}

		// Header names may be printed, so the secret must not be one.
		for _, entry := range strings.Split(v, ",") {
			if k, _, _ := strings.Cut(entry, "="); strings.Contains(k, marker) {
				t.Skip("the fuzzed names hold the marker")
			}
		}
		if _, err := parseHeaders(name, v+marker); err != nil && strings.Contains(err.Error(), marker) {
			t.Fatalf("parseHeaders(%q) error prints a header value: %v", v+marker, err)
		}
	})
}
