// Package otelenv reads the environment variables the OpenTelemetry
// specification defines, where more than one package of this module reads
// them: the key=value lists of OTEL_RESOURCE_ATTRIBUTES and
// OTEL_EXPORTER_OTLP_HEADERS, and the service name of
// OTEL_SERVICE_NAME. It imports the standard library only, so that the
// instrumentation can use it without the SDK.
package otelenv
