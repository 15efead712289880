package otelenv

import (
	"os"
	"path/filepath"
	"strings"
)

// ServiceNameVariable is the variable that names the service.
const ServiceNameVariable = "OTEL_SERVICE_NAME"

// ServiceName returns the service name the environment gives, as the SDK
// reads it for its default resource: OTEL_SERVICE_NAME, else the last
// service.name of OTEL_RESOURCE_ATTRIBUTES, whose malformed entries are
// left out as the SDK leaves them out. It returns "" when neither names
// the service.
func ServiceName() string {
	if s := strings.TrimSpace(os.Getenv(ServiceNameVariable)); s != "" {
		return s
	}
	attrs, _ := ResourceAttributes.Read()
	return attrs["service.name"]
}

// UnknownService returns the service name the SDK gives a resource that
// has none: "unknown_service:" and the executable's name, or
// "unknown_service:go" when that is not known.
func UnknownService() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown_service:go"
	}
	return "unknown_service:" + filepath.Base(exe)
}
