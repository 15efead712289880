package otelenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestServiceName(t *testing.T) {
	// serviceName is OTEL_SERVICE_NAME, resourceAttr OTEL_RESOURCE_ATTRIBUTES.
	for _, tc := range []struct{ name, serviceName, resourceAttr, want string }{
		{"neither variable names it", "", "team=payments", ""},
		{"OTEL_SERVICE_NAME names it", "checkout", "", "checkout"},
		{"OTEL_SERVICE_NAME wins over service.name", " checkout ", "service.name=cart", "checkout"},
		{"service.name names it otherwise, decoded", "", "team=a, service.name = pay%20ments ", "pay ments"},
		{"OTEL_SERVICE_NAME of spaces does not name it", "  ", "service.name=cart", "cart"},
		{"the last service.name wins", "", "service.name=a,service.name=b", "b"},
		{"a malformed entry leaves the others", "", "oncall,service.name=cart,team=%zz", "cart"},
		{"a malformed service.name does not name it", "", "service.name=%zz", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", tc.serviceName)
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", tc.resourceAttr)
			if got := ServiceName(); got != tc.want {
				t.Errorf("ServiceName() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnknownServiceNamesTheExecutable(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("the executable is not known here: %v", err)
	}
	if got, want := UnknownService(), "unknown_service:"+filepath.Base(exe); got != want {
		t.Errorf("UnknownService() = %q, want %q", got, want)
	}
	if got, want := UnknownService(), "unknown_service:otelenv.test"; got != want {
		t.Errorf("UnknownService() = %q in the test binary, want %q", got, want)
	}
}
