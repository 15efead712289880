package otelredgrpc_test

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/otelred/otelredgrpc"
)

func TestBadOptionsAreErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  otelredgrpc.Option
		want string // in the error's text
	}{
		{"a nil option", nil, "nil otelredgrpc.Option"},
		{"a nil MeterProvider", otelred.WithMeterProvider(nil), "WithMeterProvider(nil)"},
		{"a zero cardinality limit", otelred.WithCardinalityLimit(0), "WithCardinalityLimit(0)"},
		{"a negative cardinality limit", otelred.WithCardinalityLimit(-5), "WithCardinalityLimit(-5)"},
		{"no error code", otelredgrpc.WithErrorCodes(), "WithErrorCodes(): no code"},
		{"OK as an error code", otelredgrpc.WithErrorCodes(codes.NotFound, codes.OK), "WithErrorCodes: OK"},
		{"an undefined error code", otelredgrpc.WithErrorCodes(codes.Code(17)), "WithErrorCodes: Code(17)"},
		{"no method", otelredgrpc.WithMethods(), "WithMethods(): no method"},
		{"an empty method", otelredgrpc.WithMethods(echoMethod, ""), `WithMethods: ""`},
		{"a method without a service", otelredgrpc.WithMethods("/Echo"), `WithMethods: "/Echo"`},
		{"a method without a name", otelredgrpc.WithMethods("/otelred.test.Echo/"), `WithMethods: "/otelred.test.Echo/"`},
		{"a path", otelredgrpc.WithMethods("/a/b/c"), `WithMethods: "/a/b/c"`},
		{"a method that is not UTF-8", otelredgrpc.WithMethods("/otelred.test.Echo/Ec\xffho"), `WithMethods: "otelred.test.Echo/Ec\xffho" is not valid UTF-8`},
		{"a method too long", otelredgrpc.WithMethods("/a.B/" + strings.Repeat("m", otelred.MaxValueLength)),
			`WithMethods: "a.B/mmmmmmmmmmmmmmmmmmmmmmmmmmmm"… is ` + strconv.Itoa(otelred.MaxValueLength+4) + " bytes long"},
		{"otelred's route function", otelred.WithRoute(func(*http.Request) string { return "" }), "WithRoute does not apply to otelredgrpc.NewServer"},
		{"otelred's HTTP error rule", otelred.WithErrorStatus(func(int) bool { return true }), "WithErrorStatus does not apply to otelredgrpc.NewServer"},
		{"otelred's client hosts", otelred.WithHosts("db"), "WithHosts does not apply to otelredgrpc.NewServer"},
		{"a profile: gRPC has the semantic conventions' names only", otelred.WithProfile(otelred.Classic), "WithProfile does not apply to otelredgrpc.NewServer"},
		{"even the Semconv profile", otelred.WithProfile(otelred.Semconv), "WithProfile does not apply to otelredgrpc.NewServer"},
		{"a service label", otelred.WithService("checkout"), "WithService does not apply to otelredgrpc.NewServer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := otelredgrpc.NewServer(tc.opt)
			if s != nil || !errors.Is(err, otelred.ErrInvalidOption) {
				t.Fatalf("NewServer = %v, %v; want nil and an error wrapping otelred.ErrInvalidOption", s, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the option: want %q in it", err, tc.want)
			}
		})
	}
	t.Run("every bad option is reported", func(t *testing.T) {
		_, err := otelredgrpc.NewServer(otelred.WithCardinalityLimit(0), otelredgrpc.WithMethods())
		if err == nil || !strings.Contains(err.Error(), "WithCardinalityLimit(0)") || !strings.Contains(err.Error(), "WithMethods()") {
			t.Errorf("error %v, want both options named", err)
		}
	})
}

func TestGoodOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []otelredgrpc.Option
	}{
		{"none: the global MeterProvider", nil},
		{"a limit of one", []otelredgrpc.Option{otelred.WithCardinalityLimit(1)}},
		{"every failure code", []otelredgrpc.Option{otelredgrpc.WithErrorCodes(codes.Canceled, codes.Unauthenticated)}},
		{"methods with and without the slash", []otelredgrpc.Option{otelredgrpc.WithMethods(echoMethod, "a.b.C/D")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := otelredgrpc.NewServer(tc.opts...); err != nil {
				t.Errorf("NewServer: %v", err)
			}
		})
	}
}
