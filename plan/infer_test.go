package plan

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A draft inferred from stored events: types as seen (an integer that is
// sometimes a fraction is a number), properties in ≥ 99% of occurrences
// required, a small set of strings an enum, nested objects and arrays
// described; the draft parses, passes the events it came from but the one
// that lacks a property 99.5% have, and catches what breaks the pattern.
func TestInfer(t *testing.T) {
	in := NewInferrer("shop")
	var evs = make([]string, 0, 200)
	for i := range 200 {
		props := map[string]any{"currency": []string{"USD", "EUR"}[i%2], "total": float64(i) + 0.5*float64(i%2),
			"products": []any{map[string]any{"sku": fmt.Sprintf("p%d", i), "price": i}}}
		if i != 7 {
			props["order_id"] = fmt.Sprintf("o%d", i)
		}
		if i%2 == 0 {
			props["coupon"] = "C" + fmt.Sprint(i)
		}
		b, _ := json.Marshal(props)
		evs = append(evs, string(b))
		in.Add(newEvent("Order Completed", "u1", string(b)))
	}
	in.Add(newEvent("Signed In", "u1", ""))
	blog := newEvent("Anything", "u2", `{"x":1}`)
	blog.App = "blog"
	in.Add(blog)
	if in.Events() != 201 {
		t.Fatalf("events: %d", in.Events())
	}
	f, err := in.File("inferred")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.MarshalIndent(f, "", "  ")
	p, err := Parse(raw, "shop")
	if err != nil {
		t.Fatalf("the draft does not parse: %v\n%s", err, raw)
	}
	var oc map[string]any
	json.Unmarshal(f.Events["Order Completed"].Properties, &oc)
	got, _ := json.Marshal(oc)
	want := `{"properties":{"coupon":{"type":"string"},"currency":{"enum":["EUR","USD"],"type":"string"},"order_id":{"type":"string"},` +
		`"products":{"items":{"properties":{"price":{"type":"integer"},"sku":{"type":"string"}},"required":["price","sku"],"type":"object"},"type":"array"},` +
		`"total":{"type":"number"}},"required":["currency","order_id","products","total"],"type":"object"}`
	if string(got) != want {
		t.Fatalf("Order Completed:\n got %s\nwant %s", got, want)
	}
	if string(f.Common) != `{"required":["user_id"],"type":"object"}` || f.Mode != Audit || f.Unplanned != Audit || len(f.Events) != 2 {
		t.Fatalf("draft: common %s, mode %s, unplanned %s, %d events", f.Common, f.Mode, f.Unplanned, len(f.Events))
	}
	bad := 0
	for _, props := range evs {
		if r := p.Check(newEvent("Order Completed", "u1", props)); len(r.Violations) > 0 {
			bad++
			if r.Violations[0].Type != MissingRequired || r.Violations[0].Path != "/props/order_id" {
				t.Errorf("violations of a source event: %+v", r.Violations)
			}
		}
	}
	if bad != 1 {
		t.Fatalf("%d source events break the draft, want the one without order_id", bad)
	}
	r := p.Check(newEvent("Order Completed", "u1", `{"order_id":"o","currency":"GBP","total":"ten","products":[]}`))
	types := map[string]string{}
	for _, v := range r.Violations {
		types[v.Path] = v.Type
	}
	if types["/props/currency"] != NotInEnum || types["/props/total"] != WrongType || len(r.Violations) != 2 {
		t.Fatalf("an event off the pattern: %+v", r.Violations)
	}
}
