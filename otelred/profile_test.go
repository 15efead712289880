package otelred_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelred/otelred/internal/testsupport"
	"github.com/otelred/otelred/otelred"
)

// usersAndFail is the mux both profiles are checked with.
func usersAndFail() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	return mux
}

func TestSemconvProfile(t *testing.T) {
	h := newHarness(t)
	s := h.server(usersAndFail())
	for _, p := range []string{"/users/1", "/users/2", "/users/0", "/fail", "/fail", "/fail"} {
		h.do(s, "GET", p)
	}
	wantCounts(t, h.counts("http.server.request.duration"), map[string]uint64{
		series("GET", "/users/{id}", 200, ""): 2,
		series("GET", "/users/{id}", 404, ""): 1,
		series("GET", "/fail", 500, "500"):    3,
	})
	m := find(t, h.collect(), "http.server.request.duration")
	if m.Unit != "s" {
		t.Errorf("duration unit = %q, want s", m.Unit)
	}
	if got := render(h.sums("http.server.active_requests")); got != render(map[string]int64{"http.request.method=GET,url.scheme=http": 0}) {
		t.Errorf("active requests = %s", got)
	}
}

func TestClassicProfileHasTheTutorialsNamesExactly(t *testing.T) {
	h := newHarness(t, otelred.WithProfile(otelred.Classic), otelred.WithService("shop"))
	s := h.server(usersAndFail())
	for _, p := range []string{"/users/1", "/users/2", "/users/0", "/fail", "/fail", "/fail"} {
		h.do(s, "GET", p)
	}
	want := map[string]int64{
		"method=GET,path=/users/{id},service=shop,status_code=200": 2,
		"method=GET,path=/users/{id},service=shop,status_code=404": 1,
		"method=GET,path=/fail,service=shop,status_code=500":       3,
	}
	if got := h.sums("http_requests_total"); render(got) != render(want) {
		t.Errorf("http_requests_total = %s, want %s", render(got), render(want))
	}
	wantErr := map[string]int64{
		"method=GET,path=/users/{id},service=shop,status_code=404": 1,
		"method=GET,path=/fail,service=shop,status_code=500":       3,
	}
	if got := h.sums("http_errors_total"); render(got) != render(wantErr) {
		t.Errorf("http_errors_total = %s, want %s", render(got), render(wantErr))
	}
	wantCounts(t, h.counts("http_request_duration_seconds"), map[string]uint64{
		"method=GET,path=/users/{id},service=shop,status_code=200": 2,
		"method=GET,path=/users/{id},service=shop,status_code=404": 1,
		"method=GET,path=/fail,service=shop,status_code=500":       3,
	})
	wantActive := map[string]int64{
		"method=GET,path=/users/{id},service=shop": 0,
		"method=GET,path=/fail,service=shop":       0,
	}
	if got := h.sums("http_requests_active"); render(got) != render(wantActive) {
		t.Errorf("http_requests_active = %s, want %s", render(got), render(wantActive))
	}
}

func TestErrorStatusRule(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile otelred.Profile
		rule    func(int) bool
		want    map[string]uint64
		errors  map[string]int64
	}{
		{
			name: "semconv can count 404 as a failure",
			rule: func(code int) bool { return code >= 400 },
			want: map[string]uint64{
				series("GET", "/users/{id}", 200, ""):    1,
				series("GET", "/users/{id}", 404, "404"): 1,
				series("GET", "/fail", 500, "500"):       1,
			},
		},
		{
			name:    "classic can count only 5xx as failures",
			profile: otelred.Classic,
			rule:    func(code int) bool { return code >= 500 },
			errors:  map[string]int64{"method=GET,path=/fail,service=s,status_code=500": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, otelred.WithProfile(tc.profile), otelred.WithService("s"), otelred.WithErrorStatus(tc.rule))
			s := h.server(usersAndFail())
			for _, p := range []string{"/users/1", "/users/0", "/fail"} {
				h.do(s, "GET", p)
			}
			if tc.want != nil {
				wantCounts(t, h.counts(duration), tc.want)
			}
			if tc.errors != nil {
				if got := h.sums("http_errors_total"); render(got) != render(tc.errors) {
					t.Errorf("http_errors_total = %s, want %s", render(got), render(tc.errors))
				}
			}
		})
	}
}

func TestUnknownMethodsBecomeOther(t *testing.T) {
	h := newHarness(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/any", func(http.ResponseWriter, *http.Request) {})
	s := h.server(mux)
	for _, m := range []string{"GET", "get", "PROPFIND", "X-ATTACK-1", "PATCH"} {
		h.do(s, m, "/any")
	}
	wantCounts(t, h.counts(duration), map[string]uint64{
		series("GET", "/any", 200, ""):    1,
		series("PATCH", "/any", 200, ""):  1,
		series("_OTHER", "/any", 200, ""): 3,
	})
}

func TestFilteredRequestsRecordNothing(t *testing.T) {
	ok := func(http.ResponseWriter, *http.Request) {}
	t.Run("by default the metrics path records nothing", func(t *testing.T) {
		h := newHarness(t)
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", ok)
		mux.HandleFunc("/healthz", ok)
		s := h.server(mux)
		h.do(s, "GET", "/metrics")
		h.do(s, "GET", "/healthz")
		wantCounts(t, h.counts(duration), map[string]uint64{series("GET", "/healthz", 200, ""): 1})
	})
	t.Run("a filter replaces the default", func(t *testing.T) {
		h := newHarness(t, otelred.WithFilter(func(r *http.Request) bool {
			return !strings.HasPrefix(r.URL.Path, "/health") && r.Header.Get("X-Probe") == ""
		}))
		mux := http.NewServeMux()
		mux.HandleFunc("/metrics", ok)
		mux.HandleFunc("/healthz", ok)
		mux.HandleFunc("/health/ready", ok)
		mux.HandleFunc("/readyz", ok)
		s := h.server(mux)
		for _, p := range []string{"/metrics", "/healthz", "/health/ready", "/readyz"} {
			h.do(s, "GET", p)
		}
		req, err := http.NewRequest("GET", s.URL+"/readyz", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Probe", "1")
		if h.send(s, req) == nil {
			t.Fatal("no response to the probe")
		}
		wantCounts(t, h.counts(duration), map[string]uint64{
			series("GET", "/metrics", 200, ""): 1,
			series("GET", "/readyz", 200, ""):  1,
		})
		if got := h.sums(otelred.Semconv.Names().Active); len(got) != 1 || got["http.request.method=GET"] != 0 {
			t.Errorf("in flight after the requests = %v, want only GET at 0", got)
		}
	})
}

func TestDefaultServiceName(t *testing.T) {
	for _, tc := range []struct {
		name, serviceName, resourceAttrs, want string
	}{
		{"OTEL_SERVICE_NAME names the service", "checkout", "service.name=ignored", "checkout"},
		{"service.name in OTEL_RESOURCE_ATTRIBUTES names it otherwise", "", "team=a, service.name=pay%20ments", "pay ments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", tc.serviceName)
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", tc.resourceAttrs)
			h := newHarness(t, otelred.WithProfile(otelred.Classic))
			s := h.server(usersAndFail())
			h.do(s, "GET", "/users/1")
			wantCounts(t, h.counts("http_request_duration_seconds"), map[string]uint64{
				"method=GET,path=/users/{id},service=" + tc.want + ",status_code=200": 1,
			})
		})
	}
}

// TestClassicWithoutAServiceNameFails checks that Classic never labels a
// series with a made-up service: on a provider that does not report its
// resource, with nothing in the environment, every constructor fails and
// says what to do.
func TestClassicWithoutAServiceNameFails(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "team=a")
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	classic := []otelred.Option{otelred.WithMeterProvider(mp), otelred.WithProfile(otelred.Classic)}
	for _, tc := range []struct {
		ctor string
		err  error
	}{
		{"New", second(otelred.New(classic...))},
		{"NewServer", second(otelred.NewServer(classic...))},
		{"NewTransport", second(otelred.NewTransport(nil, classic...))},
		{"NewOperations", second(otelred.NewOperations(classic...))},
	} {
		want := "otelred: invalid option: " + tc.ctor + ": the classic profile labels every series with the service, and its name is not known: pass WithService"
		if !errors.Is(tc.err, otelred.ErrInvalidOption) || !strings.HasPrefix(fmt.Sprint(tc.err), want) {
			t.Errorf("%s error = %v, want one beginning %q", tc.ctor, tc.err, want)
		}
	}
	// A resource's stand-in for a missing name is no name either.
	if _, err := otelred.New(otelred.WithMeterProvider(namedProvider{mp, "unknown_service:shop"}), otelred.WithProfile(otelred.Classic)); !errors.Is(err, otelred.ErrInvalidOption) {
		t.Errorf("Classic New on a provider named unknown_service: error = %v, want ErrInvalidOption", err)
	}
	// Semconv has no service label: nothing to know.
	if _, err := otelred.New(otelred.WithMeterProvider(mp)); err != nil {
		t.Errorf("Semconv New error = %v", err)
	}
	// WithService names it.
	if _, err := otelred.New(append(classic, otelred.WithService("shop"))...); err != nil {
		t.Errorf("Classic New with WithService error = %v", err)
	}
}

func TestParseProfile(t *testing.T) {
	for _, p := range []otelred.Profile{otelred.Semconv, otelred.Classic} {
		got, err := otelred.ParseProfile(p.String())
		if err != nil || got != p {
			t.Errorf("ParseProfile(%q) = %v, %v", p.String(), got, err)
		}
	}
	_, err := otelred.ParseProfile("prometheus")
	if !errors.Is(err, otelred.ErrInvalidOption) || !strings.Contains(err.Error(), `"prometheus"`) {
		t.Errorf("ParseProfile(\"prometheus\") error = %v", err)
	}
}

func TestBoundariesAreFreshCopies(t *testing.T) {
	b := otelred.Semconv.Boundaries()
	b[0] = 99
	if otelred.Semconv.Boundaries()[0] != 0.005 {
		t.Error("changing the returned boundaries changed the profile")
	}
	if got := otelred.Classic.Boundaries(); len(got) != 12 || got[11] != 5 {
		t.Errorf("classic boundaries = %v, want the tutorial's 12 up to 5 s", got)
	}
}

// namedProvider is a MeterProvider that knows its service, as
// exporter.Provider does.
type namedProvider struct {
	*sdkmetric.MeterProvider
	name string
}

func (p namedProvider) ServiceName() string { return p.name }

func TestServiceNameFromTheProvider(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "from-env")
	for _, tc := range []struct {
		name string
		opts []otelred.Option
		want string
	}{
		{"the provider's service wins over the environment", nil, "from-resource"},
		{"WithService wins over the provider's", []otelred.Option{otelred.WithService("explicit")}, "explicit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testsupport.NewReader(t, otelred.ScopeName)
			opts := append([]otelred.Option{
				otelred.WithMeterProvider(namedProvider{r.Provider, "from-resource"}),
				otelred.WithProfile(otelred.Classic),
			}, tc.opts...)
			mw, err := otelred.New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			mw(usersAndFail()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/fail", nil))
			got := r.Sums("http_requests_total")
			if got["method=GET,path=/fail,service="+tc.want+",status_code=500"] != 1 {
				t.Errorf("http_requests_total = %s, want service=%s", render(got), tc.want)
			}
		})
	}
}
