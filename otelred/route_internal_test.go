package otelred

import (
	"net/http"
	"net/url"
	"testing"
)

func TestConnectRedirectIsNotARoute(t *testing.T) {
	for _, tc := range []struct {
		method, target, pattern string
		want                    bool
	}{
		{"CONNECT", "/dirs/secret-1", "/dirs/secret-1/", true},
		{"CONNECT", "/a/../dirs/x", "/dirs/x/", true},
		{"CONNECT", "/dirs/x/", "/dirs/x/", false}, // served, not redirected
		{"CONNECT", "/dirs/x", "/dirs/{id}/", false},
		{"GET", "/dirs/x", "/dirs/x/", false}, // other methods redirect with the pattern
		{"CONNECT", "/dirs/x", "", false},
	} {
		r := &http.Request{Method: tc.method, URL: &url.URL{Path: tc.target}}
		if got := connectRedirect(r, tc.pattern); got != tc.want {
			t.Errorf("connectRedirect(%s %s, %q) = %v, want %v", tc.method, tc.target, tc.pattern, got, tc.want)
		}
	}
}
