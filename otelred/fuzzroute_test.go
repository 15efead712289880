package otelred_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/otelred/otelred/otelred"
)

// FuzzRoute serves one request of fuzzed method, host and target through
// the middleware around the attacked service's ServeMux (attackPatterns),
// and checks that it is recorded exactly once, with labels from the
// allowed set only: a registered template or "unmatched" as the route.
func FuzzRoute(f *testing.F) {
	for _, s := range []struct {
		method, host, target string
		classic              bool
	}{
		{"GET", "", "/users/42", false},
		{"GET", "example.com", "/hosted", true},
		{"DELETE", "", "/items/7?force=1", false},
		{"get", "", "/users/42", false},
		{"PROPFIND", "", "/static/app.js", true},
		{"GET", "", "/a/../users/1", false},
		{"GET", "", "/%2e%2e/%2e%2e/etc/passwd", false},
		{"GET", "", "/dirs/x", false},
		{"CONNECT", "", "/dirs/x", false}, // the trailing-slash redirect of a CONNECT
		{"CONNECT", "example.org:443", "", true},
		{"OPTIONS", "", "*", false},
		{"GET\x00", "\xff", "/files/a/b/c.txt", false},
		{"POST", "", "/users", true},
		{"GET", "", "//users//1", false},
	} {
		f.Add(s.method, s.host, s.target, s.classic)
	}
	templates := attackTemplates()
	f.Fuzz(func(t *testing.T, method, host, target string, classic bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: target}
		}
		r := &http.Request{
			Method:     method,
			URL:        u,
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{},
			Host:       host,
			RequestURI: target,
		}
		profile := otelred.Semconv
		if classic {
			profile = otelred.Classic
		}
		h := newHarness(t, otelred.WithProfile(profile), otelred.WithService("svc"))
		h.mw(attackMux()).ServeHTTP(httptest.NewRecorder(), r)
		c := checkLabels(h.collect(), profile, templates, "svc")
		if len(c.bad) > 0 {
			t.Fatalf("%q %q (host %q): label values outside the allowed set: %s", method, target, host, strings.Join(c.bad, ", "))
		}
		if c.series != 1 || c.requests != 1 {
			t.Fatalf("%q %q: %d series counting %d requests, want one request", method, target, c.series, c.requests)
		}
	})
}
