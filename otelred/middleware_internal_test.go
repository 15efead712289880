package otelred

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otelred/otelred/otelred/internal/red"
)

// TestSeriesCodeRoundTrips checks that unpackSeries undoes seriesCode,
// for odd statuses too, and for every scheme and protocol version.
func TestSeriesCodeRoundTrips(t *testing.T) {
	for _, status := range []int{0, 101, 200, 599, 999, -1, 1 << 20} {
		for method := range uint8(maxKnownMethods + 1) {
			for c := range conn(2 * len(protoVersions)) {
				for _, panicked := range []bool{false, true} {
					for _, id := range []uint64{0, 1, red.MaxAttrIDs} {
						code := seriesCode(status, method, c, panicked) | id<<serverAttrShift
						s, m, gotC, p := unpackSeries(code)
						if s != status || m != method || gotC != c || p != panicked || uint64(attrID(code, serverAttrShift)) != id {
							t.Errorf("seriesCode(%d, %d, %d, %v) with attributes %d unpacks to (%d, %d, %d, %v, %d)",
								status, method, c, panicked, id, s, m, gotC, p, attrID(code, serverAttrShift))
						}
					}
				}
			}
		}
	}
}

// TestClientCodeRoundTrips checks that unpackClient undoes clientCode for
// every method, error kind and protocol version, with the id of attribute
// values beside them.
func TestClientCodeRoundTrips(t *testing.T) {
	for _, status := range []int{0, 200, 503, -1, 1 << 20} {
		for method := range uint8(maxKnownMethods + 1) {
			for kind := range uint8(len(transportErrors)) {
				for c := conn(0); c < conn(2*len(protoVersions)); c += 2 { // no scheme bit
					for _, id := range []uint64{0, 1, red.MaxAttrIDs} {
						code := clientCode(status, method, kind, c) | id<<clientAttrShift
						s, m, k, gotC := unpackClient(code)
						if s != status || m != method || k != kind || gotC != c || uint64(attrID(code, clientAttrShift)) != id {
							t.Errorf("clientCode(%d, %d, %d, %d) with attributes %d unpacks to (%d, %d, %d, %d, %d)",
								status, method, kind, c, id, s, m, k, gotC, attrID(code, clientAttrShift))
						}
					}
				}
			}
		}
	}
}

// TestConnOf checks the values of url.scheme and network.protocol.version
// a request is recorded with: the scheme from r.TLS alone, the version
// from the bounded set or not at all.
func TestConnOf(t *testing.T) {
	sem, classic := profiles[Semconv].server.names, profiles[Classic].server.names
	for _, tc := range []struct {
		name         string
		major, minor int
		tls          bool
		scheme, ver  string
	}{
		{"HTTP/1.1 in the clear", 1, 1, false, "http", "1.1"},
		{"HTTP/1.0 in the clear", 1, 0, false, "http", "1.0"},
		{"HTTP/2 over TLS", 2, 0, true, "https", "2"},
		{"HTTP/3", 3, 0, true, "https", "3"},
		{"HTTP/1.1 over TLS", 1, 1, true, "https", "1.1"},
		{"an unknown version is left out", 1, 2, false, "http", ""},
		{"version 0.9 is left out", 0, 9, false, "http", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest(tc.major, tc.minor, tc.tls)
			c := connOf(&sem, r)
			if c.scheme() != tc.scheme || c.version() != tc.ver {
				t.Errorf("semconv: scheme %q, version %q; want %q, %q", c.scheme(), c.version(), tc.scheme, tc.ver)
			}
			if c := connOf(&classic, r); c != 0 {
				t.Errorf("classic: conn = %d, want 0", c)
			}
		})
	}
}

func newRequest(major, minor int, withTLS bool) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.ProtoMajor, r.ProtoMinor = major, minor
	if withTLS {
		r.TLS = &tls.ConnectionState{}
	} else {
		r.TLS = nil
	}
	return r
}
