package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/plan"
	"github.com/spoor-dev/spoor/schema"
)

const shopPlanV1 = `{
  "version": "v1",
  "mode": "audit",
  "unplanned": "block",
  "events": {
    "Order Completed": {"mode": "block", "properties": {"type": "object", "required": ["order_id"],
      "properties": {"order_id": {"type": "string"}, "total": {"type": "number"}}}},
    "Product Viewed": {"mode": "drop_properties", "properties": {"type": "object",
      "properties": {"product_id": {"type": "string"}}, "additionalProperties": false}},
    "Search": {"properties": {"type": "object", "properties": {"query": {"type": "string", "maxLength": 5}}}}
  }
}`

// A tracking plan on every path in: valid events stored untouched, audit
// notes the violations in the event, drop_properties removes unplanned
// properties, block keeps the event as a failed event with its violations
// and the message as sent (in a batch the others go on; alone it is a 400
// plan_violation); a changed plan file is in force within a reload.
func TestTrackingPlans(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Plans.ReloadInterval = 100 * time.Millisecond
	cfg.Segment.WriteKeys = map[string]string{writeKey: "shop"}
	if err := os.MkdirAll(cfg.Plans.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.Plans.Dir, "shop.json"), []byte(shopPlanV1), 0o644); err != nil {
		t.Fatal(err)
	}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	hdr := map[string]string{"Content-Type": "application/json"}

	r := do(t, "POST", base+"/tr/v1/", []byte(`[
	  {"app":"shop","ename":"Order Completed","vid":"v1","props":{"order_id":"o1","total":10}},
	  {"app":"shop","ename":"Order Completed","vid":"v1","props":{"total":"ten"}},
	  {"app":"shop","ename":"Product Viewed","vid":"v1","props":{"product_id":"p1","color":"red"}},
	  {"app":"shop","ename":"Search","vid":"v1","props":{"query":"blue roses"}},
	  {"app":"shop","ename":"Made Up","vid":"v1"},
	  {"app":"blog","ename":"Anything","vid":"v2","props":{"x":1}}]`), hdr)
	var ans struct {
		Accepted, Failed int
		Failures         []struct {
			Index  int
			Reason string
		}
	}
	if r.status != 200 || json.Unmarshal(r.body, &ans) != nil || ans.Accepted != 4 || ans.Failed != 2 ||
		ans.Failures[0].Index != 1 || ans.Failures[0].Reason != "plan_violation" || ans.Failures[1].Index != 4 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"app":"shop","ename":"Order Completed","vid":"v3"}`), hdr); r.status != 400 || reason(t, r) != "plan_violation" {
		t.Fatalf("a single blocked event: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/v1/batch", []byte(`{"batch":[{"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":"o2"}},
	  {"type":"track","userId":"u1","event":"Order Completed","properties":{"order_id":7}}]}`), basic(writeKey)); r.status != 200 || !strings.Contains(string(r.body), `"failed":1`) {
		t.Fatalf("Segment batch: %d %s", r.status, r.body)
	}

	stored := byName(waitStored(t, dir, 5, 10*time.Second))
	if p := props(stored["Order Completed"]); strings.Contains(p, plan.ViolationsProp) {
		t.Errorf("a valid event was tagged: %s", p)
	}
	if e := stored["Product Viewed"]; e == nil || e.Props["color"] != nil || string(e.Props[plan.DroppedProp]) != `["color"]` {
		t.Errorf("drop_properties: %s", props(e))
	}
	if e := stored["Search"]; e == nil || !strings.Contains(string(e.Props[plan.ViolationsProp]), `"type":"out_of_range","path":"/props/query"`) ||
		!strings.Contains(string(e.Props[plan.ViolationsProp]), `"plan":"v1"`) {
		t.Errorf("audit: %s", props(e))
	}
	if e := stored["Anything"]; e == nil || e.App != "blog" {
		t.Errorf("an app without a plan: %v", e)
	}
	fs := waitFailed(t, dir, 4)
	types := map[string]int{}
	for _, f := range fs {
		if f.Reason != "plan_violation" || len(f.Violations) == 0 || len(f.Payload) == 0 {
			t.Errorf("failed event %+v", f)
			continue
		}
		var vs []plan.Violation
		if err := json.Unmarshal(f.Violations, &vs); err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			types[v.Type]++
		}
	}
	// total "ten"; Made Up unplanned; the single one's order_id missing; the Segment one's order_id 7.
	if types[plan.WrongType] != 2 || types[plan.MissingRequired] != 2 || types[plan.UnplannedEvent] != 1 {
		t.Errorf("violations by type %v", types)
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	for series, want := range map[string]float64{
		`spoor_plan_events_total{app="shop",verdict="blocked"}`:                                    4,
		`spoor_plan_violations_total{app="shop",event="(unplanned)",type="unplanned_event"}`:       1,
		`spoor_plan_violations_total{app="shop",event="Product Viewed",type="unplanned_property"}`: 1,
		`spoor_plan_info{app="shop",version="v1"}`:                                                 1,
	} {
		if !metricIs(m.body, series, want) {
			t.Errorf("metrics lack %s %v", series, want)
		}
	}

	// A new version of the file is in force within a reload; a broken one
	// leaves it in force.
	v2 := strings.Replace(strings.Replace(shopPlanV1, `"v1"`, `"v2"`, 1), `"unplanned": "block"`, `"unplanned": "off"`, 1)
	os.WriteFile(filepath.Join(cfg.Plans.Dir, "shop.json"), []byte(v2), 0o644)
	deadline := time.Now().Add(5 * time.Second)
	for !metricIs(do(t, "GET", base+"/metrics", nil, nil).body, `spoor_plan_info{app="shop",version="v2"}`, 1) {
		if time.Now().After(deadline) {
			t.Fatal("plan v2 not in force")
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.WriteFile(filepath.Join(cfg.Plans.Dir, "shop.json"), []byte(`{"version":`), 0o644)
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"app":"shop","ename":"Made Up Too","vid":"v4"}`), hdr); r.status != 200 {
		t.Fatalf("an unplanned event under v2 (unplanned: off): %d %s", r.status, r.body)
	}
	deadline = time.Now().Add(5 * time.Second)
	for !metricIs(do(t, "GET", base+"/metrics", nil, nil).body, `spoor_plan_reload_errors_total{app="shop"}`, 1) {
		if time.Now().After(deadline) {
			t.Fatal("the broken plan was not reported")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !metricIs(do(t, "GET", base+"/metrics", nil, nil).body, `spoor_plan_info{app="shop",version="v2"}`, 1) {
		t.Fatal("a broken file took the last good plan away")
	}
}

// The plans' admin API: a plan put is in force for the next event and
// written to plans.dir (it survives a restart); a plan that does not parse
// is a 400 with the reason and changes nothing; no token, no change.
func TestPlansAdminAPI(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Admin.Tokens = []string{adminToken}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	auth := map[string]string{"Authorization": "Bearer " + adminToken, "Content-Type": "application/json"}
	if r := do(t, "PUT", base+"/admin/api/plans/shop", []byte(shopPlanV1), nil); r.status != 401 {
		t.Fatalf("without a token: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"app":"shop","ename":"Made Up","vid":"v1"}`), nil); r.status != 200 {
		t.Fatalf("before the plan: %d %s", r.status, r.body)
	}
	if r := do(t, "PUT", base+"/admin/api/plans/shop", []byte(`{"version":"bad","mode":"sometimes"}`), auth); r.status != 400 || reason(t, r) != "invalid_plan" {
		t.Fatalf("a broken plan: %d %s", r.status, r.body)
	}
	if r := do(t, "PUT", base+"/admin/api/plans/shop", []byte(shopPlanV1), auth); r.status != 200 || !strings.Contains(string(r.body), `"version":"v1"`) {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/tr/v1/", []byte(`{"app":"shop","ename":"Made Up","vid":"v1"}`), nil); r.status != 400 || reason(t, r) != "plan_violation" {
		t.Fatalf("an unplanned event right after the put (unplanned: block): %d %s", r.status, r.body)
	}
	if r := do(t, "GET", base+"/admin/api/plans", nil, auth); r.status != 200 || !strings.Contains(string(r.body), `{"app":"shop","version":"v1"}`) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if b, err := os.ReadFile(filepath.Join(cfg.Plans.Dir, "shop.json")); err != nil || string(b) != shopPlanV1 {
		t.Fatalf("the plan file: %v %s", err, b)
	}
}

// spoor plan infer's reading: the app's stored events since a time, and
// only its, make the draft.
func TestPlanInferFromTheStore(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	var batch []string
	for i := range 30 {
		batch = append(batch, fmt.Sprintf(`{"app":"shop","ename":"Order Completed","vid":"v%d","props":{"order_id":"o%d","currency":%q}}`,
			i, i, []string{"USD", "EUR"}[i%2]))
	}
	batch = append(batch, `{"app":"blog","ename":"Read","vid":"v1","props":{"words":300}}`)
	if r := do(t, "POST", base+"/tr/v1/", []byte("["+strings.Join(batch, ",")+"]"), nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	waitStored(t, dir, 31, 10*time.Second)
	in := plan.NewInferrer("shop")
	if err := app.ReadEvents(context.Background(), cfg, "shop", time.Now().Add(-time.Hour), zerolog.Nop(), func(e *schema.Event) { in.Add(e) }); err != nil {
		t.Fatal(err)
	}
	f, err := in.File("t")
	if err != nil || in.Events() != 30 || len(f.Events) != 1 {
		t.Fatalf("draft from %d events: %+v %v", in.Events(), f.Events, err)
	}
	if got := string(f.Events["Order Completed"].Properties); got != `{"properties":{"currency":{"enum":["EUR","USD"],"type":"string"},"order_id":{"type":"string"}},"required":["currency","order_id"],"type":"object"}` {
		t.Fatalf("Order Completed: %s", got)
	}
	n := 0
	if err := app.ReadEvents(context.Background(), cfg, "shop", time.Now().Add(time.Minute), zerolog.Nop(), func(*schema.Event) { n++ }); err != nil || n != 0 {
		t.Fatalf("events since a minute from now: %d %v", n, err)
	}
}
