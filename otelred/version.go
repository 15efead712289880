package otelred

// ScopeName is the instrumentation scope of every instrument otelred
// creates. Views that must touch only otelred's instruments, and not
// same-named ones from otelhttp, match on it.
const ScopeName = "github.com/otelred/otelred/otelred"

// Version is the version of otelred, reported as the instrumentation scope
// version.
const Version = "0.1.0"
