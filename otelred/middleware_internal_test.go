package otelred

import "testing"

// TestSeriesCodeRoundTrips checks that unpackSeries undoes seriesCode,
// for odd statuses too.
func TestSeriesCodeRoundTrips(t *testing.T) {
	for _, status := range []int{0, 101, 200, 599, 999, -1, 1 << 20} {
		for method := range uint8(numMethods) {
			for _, panicked := range []bool{false, true} {
				s, m, p := unpackSeries(seriesCode(status, method, panicked))
				if s != status || m != method || p != panicked {
					t.Errorf("seriesCode(%d, %d, %v) unpacks to (%d, %d, %v)", status, method, panicked, s, m, p)
				}
			}
		}
	}
}
