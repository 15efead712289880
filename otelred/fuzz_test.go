package otelred

import (
	"slices"
	"strings"
	"testing"
)

// FuzzMethodIndex checks that any method maps onto the bounded set of
// values of the default table and of a table built from a list of known
// methods: the listed (or standard) methods to themselves, exactly
// (methods are case-sensitive), everything else to _OTHER.
func FuzzMethodIndex(f *testing.F) {
	for _, m := range defaultMethods.names {
		f.Add(m)
		f.Add(strings.ToLower(m))
		f.Add(m + "\x00")
	}
	for _, m := range []string{"", " GET", "GET ", "PROPFIND", "FOO", "get", "Get", "G\u0130T", strings.Repeat("X", 5000)} {
		f.Add(m)
	}
	listed, err := parseMethods("test", "GET,FOO,QUERY,PROPFIND")
	if err != nil {
		f.Fatal(err)
	}
	tables := []struct {
		t     *methodTable
		known []string
	}{
		{defaultMethods, standardMethods[:]},
		{listed, []string{"GET", "FOO", "QUERY", "PROPFIND"}},
	}
	for _, tc := range tables {
		if n := len(tc.t.names); n != len(tc.known)+1 || tc.t.names[n-1] != "_OTHER" {
			f.Fatalf("table %q: want %q and _OTHER", tc.t.names, tc.known)
		}
	}
	f.Fuzz(func(t *testing.T, m string) {
		for _, tc := range tables {
			i := tc.t.index(m)
			if int(i) >= len(tc.t.names) {
				t.Fatalf("index(%q) = %d, want < %d", m, i, len(tc.t.names))
			}
			switch known := slices.Contains(tc.known, m); {
			case known && tc.t.names[i] != m:
				t.Fatalf("index(%q) names %q in %q", m, tc.t.names[i], tc.t.names)
			case !known && i != tc.t.other():
				t.Fatalf("index(%q) = %d (%q) in %q, want _OTHER", m, i, tc.t.names[i], tc.t.names)
			}
		}
	})
}

// FuzzTemplate checks that reducing a pattern to its path template only
// ever removes a prefix (the method and host), never adds anything, and is
// idempotent.
func FuzzTemplate(f *testing.F) {
	for _, p := range []string{
		"", "/", "GET /users/{id}", "GET example.com/files/{path...}", "example.com/hosted",
		"/static/", "GET /{$}", "no-slash", "POST  /double/space", "/a/b/../c", "\x00/x", "//",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := template(p)
		if len(got) > len(p) || !strings.HasSuffix(p, got) {
			t.Fatalf("template(%q) = %q, not a suffix of the pattern", p, got)
		}
		switch {
		case p == "":
			if got != "" {
				t.Fatalf("template(\"\") = %q, want \"\"", got)
			}
		case strings.Contains(p, "/"):
			if !strings.HasPrefix(got, "/") || strings.Contains(p[:len(p)-len(got)], "/") {
				t.Fatalf("template(%q) = %q, want the pattern from its first \"/\"", p, got)
			}
		default:
			if got != p {
				t.Fatalf("template(%q) = %q, want the pattern kept whole", p, got)
			}
		}
		if again := template(got); again != got {
			t.Fatalf("template is not idempotent: template(%q) = %q, template of that = %q", p, got, again)
		}
	})
}
