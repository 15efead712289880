package redpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelred/otelred/otelred"
)

// TestPagePinsItsScriptAndStyle checks that the Content-Security-Policy
// names the hashes of exactly the inline script and style the page
// carries: were they to differ, the browser would run neither.
func TestPagePinsItsScriptAndStyle(t *testing.T) {
	h := New(sdkmetric.NewManualReader(), otelred.Semconv)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/red", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	page, policy := rec.Body.String(), rec.Header().Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		_, rest, ok := strings.Cut(page, "<"+tag+">")
		inline, _, ok2 := strings.Cut(rest, "</"+tag+">")
		if !ok || !ok2 {
			t.Fatalf("the page has no inline %s", tag)
		}
		if want := tag + "-src '" + hash(inline) + "'"; !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	for _, want := range []string{"default-src 'none'", "connect-src 'self'"} {
		if !strings.Contains(policy, want) {
			t.Errorf("policy %q lacks %q", policy, want)
		}
	}
	// The SVG namespace is a name, not an address it loads.
	if rest := strings.ReplaceAll(page, `"http://www.w3.org/2000/svg"`, ""); strings.Contains(rest, "http://") || strings.Contains(rest, "https://") {
		t.Errorf("the page refers to another origin")
	}
}

func TestHandlerAnswers(t *testing.T) {
	h := New(sdkmetric.NewManualReader(), otelred.Classic)
	for _, tc := range []struct {
		name, method, target string
		code                 int
		contentType          string
	}{
		{"GET serves the page", http.MethodGet, "/debug/red", 200, "text/html; charset=utf-8"},
		{"format=json serves the feed", http.MethodGet, "/debug/red?format=json", 200, "application/json"},
		{"HEAD is allowed", http.MethodHead, "/debug/red", 200, "text/html; charset=utf-8"},
		{"POST is refused", http.MethodPost, "/debug/red", 405, "text/plain; charset=utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
			if rec.Code != tc.code || rec.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.target, rec.Code, rec.Header().Get("Content-Type"), tc.code, tc.contentType)
			}
		})
	}
}
