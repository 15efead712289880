package testsupport

import (
	"context"
	"fmt"
	"slices"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Points collects reader and returns one line per point, sorted: a
// histogram's "name{attributes} count=N" and an int64 sum's
// "name{attributes} V", with the attributes as k=v pairs sorted by key.
// Other kinds of data are left out. It panics if the collection fails, as
// an Example would.
func Points(reader sdkmetric.Reader) []string {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(fmt.Sprintf("collecting: %v", err))
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} count=%d", m.Name, Attrs(dp.Attributes), dp.Count))
				}
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, Attrs(dp.Attributes), dp.Value))
				}
			}
		}
	}
	slices.Sort(lines)
	return lines
}

// PrintPoints prints the [Points] of reader, one a line, for an Example's
// output.
func PrintPoints(reader sdkmetric.Reader) {
	for _, line := range Points(reader) {
		fmt.Println(line)
	}
}
