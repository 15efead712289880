package otelred

import "net/http"

// conn packs what a request's connection adds to its attributes in the
// Semconv profile: bit 0 is url.scheme (set for "https"), and the bits
// above are network.protocol.version, an index into protoVersions. It is
// 0 in profiles that record neither, so their series are keyed as before.
type conn uint8

// connBits is how many bits of a series code conn takes.
const connBits = 4

// protoVersions are the values of network.protocol.version otelred
// records, by index; index 0 means the attribute is left out. HTTP has no
// other versions, so any other ProtoMajor and ProtoMinor (which only a
// hand-built request carries) leaves the attribute out, rather than make
// it a label value.
var protoVersions = [...]string{"", "1.0", "1.1", "2", "3"}

// The values of url.scheme. A server request is "https" when it came over
// TLS (r.TLS is set), and "http" otherwise; headers such as
// X-Forwarded-Proto are never read, as a client could set them to anything.
const (
	schemeHTTPValue  = "http"
	schemeHTTPSValue = "https"
)

// protoIndex maps an HTTP version to its index in protoVersions, 0 when it
// is not one of them.
func protoIndex(major, minor int) uint8 {
	switch {
	case major == 1 && minor == 1:
		return 2
	case major == 2 && minor == 0:
		return 3
	case major == 1 && minor == 0:
		return 1
	case major == 3 && minor == 0:
		return 4
	}
	return 0
}

// connOf returns the conn of a server request, for a signal with the given
// names: 0 when they record neither attribute.
func connOf(n *Names, r *http.Request) conn {
	var c conn
	if n.Scheme != "" && r.TLS != nil {
		c = 1
	}
	if n.ProtocolVersion != "" {
		c |= conn(protoIndex(r.ProtoMajor, r.ProtoMinor)) << 1
	}
	return c
}

// https reports whether the request came over TLS.
func (c conn) https() bool { return c&1 != 0 }

// version returns the network.protocol.version value, "" for none.
func (c conn) version() string { return protoVersions[c>>1] }

// scheme returns the url.scheme value.
func (c conn) scheme() string {
	if c.https() {
		return schemeHTTPSValue
	}
	return schemeHTTPValue
}
