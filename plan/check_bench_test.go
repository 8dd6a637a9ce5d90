package plan

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchPlan is scripts/bench/plans.sh's plan: 50 events of six checked
// properties, and a common schema.
func benchPlan(b *testing.B) *Plan {
	props := `{"type": "object", "required": ["id", "price", "currency"], "properties": {
	  "id": {"type": "string", "minLength": 1}, "price": {"type": "number", "minimum": 0},
	  "currency": {"enum": ["USD", "EUR", "GBP", "PLN"]}, "qty": {"type": "integer", "minimum": 1},
	  "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10}, "color": {"type": "string"}}}`
	events := map[string]json.RawMessage{}
	for n := 1; n <= 50; n++ {
		events[fmt.Sprintf("Event %02d", n)] = json.RawMessage(`{"properties":` + props + `}`)
	}
	ev, _ := json.Marshal(events)
	p, err := Parse([]byte(`{"version":"bench","mode":"audit","unplanned":"block","common":{"type":"object","required":["visitor_id","url"]},"events":`+string(ev)+`}`), "shop")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkCheck: one valid event against the benchmark's plan, as spoor
// checks it, and through the validator alone (fast off).
func BenchmarkCheck(b *testing.B) {
	e := newEvent("Event 07", "", `{"id":"sku-1","price":12.5,"currency":"USD","qty":2,"tags":["summer","sale"],"color":"red"}`)
	e.VisitorID, e.URL = "016f2740-6e8c-11ea-9f0b-5d70c6685101", "https://shop.example/rooms"
	for _, withFast := range []bool{true, false} {
		name := "fast"
		p := benchPlan(b)
		if !withFast {
			name = "validator_only"
			p.common.fast = nil
			for _, ev := range p.events {
				ev.props.fast = nil
			}
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := p.Check(e); len(r.Violations) > 0 {
					b.Fatal(r.Violations)
				}
			}
		})
	}
}

func BenchmarkCheckParts(b *testing.B) {
	e := newEvent("Event 07", "", `{"id":"sku-1","price":12.5,"currency":"USD","qty":2,"tags":["summer","sale"],"color":"red"}`)
	e.VisitorID, e.URL = "016f2740-6e8c-11ea-9f0b-5d70c6685101", "https://shop.example/rooms"
	p := benchPlan(b)
	b.Run("instance", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range e.Props {
				instance(raw)
			}
		}
	})
	b.Run("encode+instance", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			enc, _ := e.Encode()
			instanceOfEvent(enc, nil)
		}
	})
	b.Run("validate props", func(b *testing.B) {
		inst := map[string]any{}
		for k, raw := range e.Props {
			inst[k], _ = instance(raw)
		}
		s := p.events["Event 07"].props.s
		b.ReportAllocs()
		for b.Loop() {
			s.Validate(inst)
		}
	})
}
