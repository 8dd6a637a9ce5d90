package plan

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

const shopPlan = `{
  "version": "7",
  "mode": "audit",
  "unplanned": "audit",
  "common": {"type": "object", "required": ["user_id"]},
  "events": {
    "Order Completed": {
      "mode": "block",
      "properties": {
        "type": "object",
        "required": ["order_id", "total"],
        "properties": {
          "order_id": {"type": "string"},
          "total": {"type": "number", "minimum": 0},
          "currency": {"enum": ["USD", "EUR"]},
          "products": {"type": "array", "items": {"type": "object", "properties": {"price": {"type": "number"}}}}
        }
      }
    },
    "Product Viewed": {
      "mode": "drop_properties",
      "properties": {
        "type": "object",
        "properties": {"product_id": {"type": "string"}, "name": {"type": "string", "maxLength": 10}},
        "additionalProperties": false
      }
    },
    "Signed In": {"mode": "off"}
  }
}`

func newEvent(name, user string, props string) *schema.Event {
	e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: time.Now(), App: "shop", EventName: name, UserID: user}
	if props != "" {
		if err := json.Unmarshal([]byte(props), &e.Props); err != nil {
			panic(err)
		}
	}
	return e
}

func TestCheck(t *testing.T) {
	p, err := Parse([]byte(shopPlan), "shop")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		e     *schema.Event
		mode  Mode
		want  []string // type path, in order
		drop  []string
		props string // props after the check (audit, drop)
	}{
		{"valid", newEvent("Order Completed", "u1", `{"order_id":"o1","total":10,"currency":"EUR"}`), Off, nil, nil, ""},
		{"wrong type, missing, enum, range, nested", newEvent("Order Completed", "u1",
			`{"total":-1,"currency":"GBP","products":[{"price":"9.99"}]}`), Block,
			[]string{"missing_required /props/order_id", "not_in_enum /props/currency", "out_of_range /props/total", "wrong_type /props/products/0/price"}, nil, ""},
		{"the common schema", newEvent("Order Completed", "", `{"order_id":"o1","total":1}`), Block, []string{"missing_required /user_id"}, nil, ""},
		{"unplanned properties dropped", newEvent("Product Viewed", "u1", `{"product_id":"p1","color":"red","a/b":1}`), DropProperties,
			nil, []string{"a/b", "color"}, `{"product_id":"p1","spoor_dropped":["a/b","color"]}`},
		{"dropped, and the rest audited", newEvent("Product Viewed", "u1", `{"name":"a very long name","x":1}`), DropProperties,
			[]string{"out_of_range /props/name"}, []string{"x"}, ""},
		{"unplanned event", newEvent("Made Up", "u1", ``), Audit, []string{"unplanned_event /event_name"}, nil, ""},
		{"mode off", newEvent("Signed In", "", `{"anything":true}`), Off, nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := json.Marshal(c.e.Props)
			r := p.Check(c.e)
			if r.Mode != c.mode {
				t.Fatalf("mode %q, want %q (%+v)", r.Mode, c.mode, r)
			}
			var got []string
			for _, v := range r.Violations {
				got = append(got, v.Type+" "+v.Path)
				if v.Plan != "7" || v.Message == "" {
					t.Errorf("violation %+v", v)
				}
			}
			sortStrings(got)
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("violations %v\n          want %v", got, c.want)
			}
			if strings.Join(r.Dropped, ",") != strings.Join(c.drop, ",") {
				t.Errorf("dropped %v, want %v", r.Dropped, c.drop)
			}
			after, _ := json.Marshal(c.e.Props)
			switch {
			case c.mode == Block || c.mode == Off:
				if string(after) != string(before) {
					t.Errorf("props changed: %s → %s", before, after)
				}
			case c.props != "":
				if string(after) != c.props {
					t.Errorf("props %s, want %s", after, c.props)
				}
			}
			if len(c.want) > 0 && c.mode != Block {
				var vs []Violation
				if err := json.Unmarshal(c.e.Props[ViolationsProp], &vs); err != nil || len(vs) != len(c.want) {
					t.Errorf("props.%s: %s", ViolationsProp, c.e.Props[ViolationsProp])
				}
			}
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct{ name, plan, want string }{
		{"unknown key", `{"events":{},"colour":1}`, "colour"},
		{"bad mode", `{"mode":"strict"}`, "mode"},
		{"bad event mode", `{"events":{"a":{"mode":"x"}}}`, "event \"a\""},
		{"schema that does not compile", `{"events":{"a":{"properties":{"type":"nothing"}}}}`, "events/a"},
		{"another app's", `{"app":"blog"}`, "blog"},
	} {
		if _, err := Parse([]byte(c.plan), "shop"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
}

// A plan file changed is read again; a broken one keeps the last good plan
// in force, said by Statuses and OnReload until fixed; a file gone takes
// its plan away.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	write := func(app, body string, mod time.Time) {
		path := filepath.Join(dir, app+".json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, mod, mod)
	}
	t0 := time.Now().Add(-time.Hour)
	write("shop", `{"version":"1","events":{}}`, t0)
	var heard []string
	ps, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ps.OnReload = func(app, version string, err error) { heard = append(heard, app+"@"+version+" "+errText(err)) }
	if p := ps.For("shop"); p == nil || p.Version != "1" {
		t.Fatalf("shop's plan: %+v", p)
	}
	write("shop", `{"version":"2",`, t0.Add(time.Minute))
	if errs := ps.Reload(); len(errs) != 1 {
		t.Fatalf("a broken plan: %v", errs)
	}
	if p := ps.For("shop"); p == nil || p.Version != "1" {
		t.Fatalf("the last good plan is not in force: %+v", p)
	}
	if st := ps.Statuses(); len(st) != 1 || st[0].Version != "1" || st[0].Error == "" {
		t.Fatalf("statuses %+v", st)
	}
	write("shop", `{"version":"3","events":{}}`, t0.Add(2*time.Minute))
	ps.Reload()
	if p := ps.For("shop"); p == nil || p.Version != "3" || ps.Statuses()[0].Error != "" {
		t.Fatalf("the fixed plan: %+v %+v", p, ps.Statuses())
	}
	if _, err := ps.Set("blog", []byte(`{"version":"b1","events":{}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Set("blog", []byte(`{"version":`)); err == nil || ps.For("blog").Version != "b1" {
		t.Fatalf("a broken plan through Set: %v", err)
	}
	os.Remove(filepath.Join(dir, "shop.json"))
	ps.Reload()
	if ps.For("shop") != nil || ps.For("blog") == nil {
		t.Fatal("a removed file's plan is still in force, or another went")
	}
	if len(heard) < 3 || !strings.HasPrefix(heard[0], "shop@1 ") || heard[0] == "shop@1 " {
		t.Fatalf("heard %v", heard)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A plan kept as a directory: plan.json with the plan's keys, one file per
// event; read like a file, reloaded when any of its files changes, refused
// with the file at fault, and not replaceable through Set.
func TestPlanDirectory(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "shop")
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(app, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	write("plan.json", `{"version": "d1", "unplanned": "block", "events": {"Signed In": {"mode": "off"}}}`)
	write("Order Completed.json", `{"mode": "block", "properties": {"type": "object", "required": ["order_id"]}}`)
	ps, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := ps.For("shop")
	if p == nil || p.Version != "d1" || p.EventModes()["Order Completed"] != Block || p.EventModes()["Signed In"] != Off || p.Unplanned() != Block {
		t.Fatalf("plan from a directory: %+v", p)
	}
	if r := p.Check(newEvent("Order Completed", "u", `{}`)); r.Mode != Block {
		t.Fatalf("an event file's schema is not in force: %+v", r)
	}
	if rp, err := ReadPath(app); err != nil || rp.Version != "d1" {
		t.Fatalf("ReadPath: %v", err)
	}
	// One event file changes: the plan is read again.
	time.Sleep(10 * time.Millisecond)
	write("Order Completed.json", `{"mode": "audit", "properties": {"type": "object", "required": ["order_id"]}}`)
	later := time.Now().Add(time.Second)
	os.Chtimes(filepath.Join(app, "Order Completed.json"), later, later)
	if errs := ps.Reload(); len(errs) > 0 || ps.For("shop").EventModes()["Order Completed"] != Audit {
		t.Fatalf("reload after an event file changed: %v, %v", errs, ps.For("shop").EventModes())
	}
	// A broken event file names itself, and the last good plan stays.
	write("Product Viewed.json", `{"mode": "sometimes"}`)
	errs := ps.Reload()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Product Viewed") || ps.For("shop") == nil {
		t.Fatalf("a broken event file: %v", errs)
	}
	os.Remove(filepath.Join(app, "Product Viewed.json"))
	write("Signed In.json", `{"mode": "audit"}`) // also in plan.json
	if _, err := ReadPath(app); err == nil || !strings.Contains(err.Error(), `"Signed In"`) {
		t.Fatalf("an event in both places: %v", err)
	}
	if _, err := ps.Set("shop", []byte(`{"version":"x","events":{}}`)); !errors.Is(err, ErrDirectory) {
		t.Fatalf("Set over a directory plan: %v", err)
	}
}
