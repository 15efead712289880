package exporter_test

import (
	"fmt"

	"github.com/otelred/otelred/exporter"
	"github.com/otelred/otelred/otelred"
	"github.com/otelred/otelred/views"
)

// Objectives declared in code, turned into the bucket boundaries of the
// duration histogram: every latency threshold becomes a boundary.
func ExampleObjectives_Boundaries() {
	o := exporter.Objectives{
		Availability: 0.999, // 99.9% of requests do not fail
		Latency:      &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99},
		Routes: []exporter.RouteObjective{
			{Route: "/slow", Latency: &exporter.LatencyObjective{Threshold: 0.5, Target: 0.95}},
		},
	}
	b, err := o.Boundaries(views.Default(otelred.Semconv))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b)
	fmt.Println(o.Route("/slow").Latency.Target, o.Route("/hello/{name}").Latency.Target)
	// Output:
	// [0.005 0.01 0.025 0.05 0.075 0.1 0.25 0.3 0.5 0.75 1 2.5 5 7.5 10]
	// 0.95 0.99
}

// Boundaries that come from elsewhere must hold every threshold exactly.
func ExampleObjectives_Check() {
	o := exporter.Objectives{Latency: &exporter.LatencyObjective{Threshold: 0.3, Target: 0.99}}
	fmt.Println(o.Check(views.Default(otelred.Semconv)))
	// Output:
	// exporter: invalid objective: latency.threshold = 0.3 is not a bucket boundary (it falls between 0.25 and 0.5): add it to the boundaries, as Objectives.Boundaries does
}

func ExampleObjectives_Validate() {
	o := exporter.Objectives{Routes: []exporter.RouteObjective{
		{Route: "/users/{id}", Availability: 0.99},
		{Route: "/search", Latency: &exporter.LatencyObjective{Threshold: 1, Target: 1.5}},
	}}
	fmt.Println(o.Validate())
	// Output:
	// exporter: invalid objective: routes[1].latency.target = 1.5 is not in (0, 1)
}
