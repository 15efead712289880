package exporter_test

import (
	"context"
	"fmt"
	"log"

	"github.com/google/uuid"

	"github.com/otelred/otelred/exporter"
)

// A stable service.instance.id, so that a replica restarted under the same
// name (a Kubernetes pod whose container restarts, a StatefulSet's pod)
// keeps its series: a version 5 UUID of the pod's namespace and name, in
// the namespace the semantic conventions give for it, rather than the
// name itself, which they advise to keep private. In a pod, the downward
// API gives the name (env: POD_NAME from fieldRef metadata.name).
func ExampleSetup_stableInstanceID() {
	podNamespace, podName := "shop", "checkout-0" // os.Getenv("POD_NAMESPACE"), os.Getenv("POD_NAME")

	conventions := uuid.MustParse("4d63009a-8d0f-11ee-aad7-4c796ed8e320")
	id := uuid.NewSHA1(conventions, []byte(podNamespace+"/"+podName)).String()
	p, err := exporter.Setup(context.Background(), exporter.Config{
		Exporters:          []string{"none"},
		ServiceName:        "checkout",
		ResourceAttributes: map[string]string{"service.instance.id": id},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	v, _ := p.Resource.Set().Value("service.instance.id")
	fmt.Println(v.AsString())
	// Output:
	// 3d85ed6d-c47a-575f-a4e3-c24e6742f596
}
