// Package red holds what otelred's instrumentations share: the bounded
// cache of prebuilt attribute sets, the series and in-flight gauges read at
// collection time, and the creation of one signal's instruments. It imports
// the OpenTelemetry metric API only.
package red
