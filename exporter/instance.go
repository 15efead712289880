package exporter

import (
	"fmt"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/sdk/resource"
)

// instanceIDKey is the resource attribute that tells the instances of one
// service apart. The semantic conventions require it to be unique for each
// instance of a (service.namespace, service.name) pair; Prometheus's OTLP
// receiver makes it the instance label.
const instanceIDKey = "service.instance.id"

// instanceID is the detector of [Setup]'s default service.instance.id, a
// random (version 4) UUID, as the semantic conventions advise when a
// service has no inherent unique id. It is drawn at every Setup, so two
// providers in one process are two instances too, and never collide in a
// backend. It has the lowest precedence: OTEL_RESOURCE_ATTRIBUTES and
// [Config.ResourceAttributes] replace it.
var instanceID = resource.StringDetector("", instanceIDKey, newInstanceID)

// newInstanceID returns a new random UUID, such as
// "f81d4fae-7dec-41d0-a765-00a0c91e6bf6".
func newInstanceID() (string, error) {
	id, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("exporter: drawing a random service.instance.id: %w", err)
	}
	return id.String(), nil
}
