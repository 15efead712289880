package red

import (
	"fmt"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// TestAttributesIDs checks that each distinct Values gets one id, under
// concurrent first sightings too, that ids stop at the limit, and that
// Append gives back the values of an id, leaving out unset keys.
func TestAttributesIDs(t *testing.T) {
	a := NewAttributes([]string{"tenant", "plan"}, [][]string{nil, {"gold"}}, 20)
	var wg sync.WaitGroup
	ids := make([][]uint32, 8)
	for g := range ids {
		wg.Go(func() {
			for i := range 30 {
				v := Values{fmt.Sprintf("t%d", i%25)}
				id, ok := a.ID(&v)
				if !ok {
					id = 0
				}
				ids[g] = append(ids[g], id)
			}
		})
	}
	wg.Wait()
	seen := map[uint32]string{}
	for g := range ids {
		for i, id := range ids[g] {
			if id == 0 {
				continue
			}
			v := fmt.Sprintf("t%d", i%25)
			if prev, ok := seen[id]; ok && prev != v {
				t.Fatalf("id %d given to %s and %s", id, prev, v)
			}
			seen[id] = v
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d ids given, want the limit, 20", len(seen))
	}
	for id, v := range seen {
		if got := a.Append(nil, id); len(got) != 1 || got[0] != attribute.String("tenant", v) {
			t.Errorf("Append(id %d) = %v, want tenant=%s", id, got, v)
		}
	}
	if id, ok := a.ID(&Values{}); id != 0 || !ok {
		t.Errorf("ID of no values = %d, %v; want 0, true", id, ok)
	}
	if _, ok := a.ID(&Values{"t99"}); ok {
		t.Errorf("ID of new values past the limit: ok")
	}
	if got := a.Append(nil, 0); got != nil {
		t.Errorf("Append(id 0) = %v, want nothing", got)
	}
	if i := a.Index("plan"); i != 1 || a.Admit(i, "gold") != "gold" || a.Admit(i, "tin") != Other || a.Admit(0, "tin") != "tin" {
		t.Errorf("Index(plan) = %d; Admit(gold, tin, tin of tenant) = %q, %q, %q", i, a.Admit(1, "gold"), a.Admit(1, "tin"), a.Admit(0, "tin"))
	}
	if i := a.Index("region"); i != -1 {
		t.Errorf("Index(region) = %d, want -1", i)
	}
}
