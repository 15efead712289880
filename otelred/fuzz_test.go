package otelred

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzMethodIndex checks that any method maps onto the fixed set of ten
// values: the nine standard methods to themselves, exactly (methods are
// case-sensitive), everything else to _OTHER.
func FuzzMethodIndex(f *testing.F) {
	for _, m := range methodNames {
		f.Add(m)
		f.Add(strings.ToLower(m))
		f.Add(m + "\x00")
	}
	for _, m := range []string{"", " GET", "GET ", "PROPFIND", "get", "Get", "G\u0130T", strings.Repeat("X", 5000)} {
		f.Add(m)
	}
	standard := []string{
		http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace, http.MethodPatch,
	}
	f.Fuzz(func(t *testing.T, m string) {
		i := methodIndex(m)
		if i >= numMethods {
			t.Fatalf("methodIndex(%q) = %d, want < %d", m, i, numMethods)
		}
		isStandard := false
		for _, s := range standard {
			isStandard = isStandard || s == m
		}
		switch {
		case isStandard && methodNames[i] != m:
			t.Fatalf("methodIndex(%q) names %q", m, methodNames[i])
		case !isStandard && i != methodOther:
			t.Fatalf("methodIndex(%q) = %d (%q), want _OTHER", m, i, methodNames[i])
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
