package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dev/spoor/schema"
)

// specExamples reads the published example payloads in
// testdata/segment-spec (README.md there says where each comes from).
func specExamples(t *testing.T) map[string][]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob("testdata/segment-spec/*.ndjson")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	out := map[string][]json.RawMessage{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				if !json.Valid(line) {
					t.Fatalf("%s: not JSON: %s", f, line)
				}
				out[filepath.Base(f)] = append(out[filepath.Base(f)], append(json.RawMessage(nil), line...))
			}
		}
	}
	return out
}

// Every example payload of Segment's published specs, singly and all in
// one batch: none refused (so never a 5xx a device would retry forever),
// every one stored. A property named like one of spoor's fields but not of
// its kind (the Mobile Spec's campaign object) keeps its value in props,
// with the collision noted.
func TestSegmentSpecExamples(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Segment.WriteKeys = map[string]string{writeKey: segmentApp}
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	want := map[string]int{}
	var all []json.RawMessage
	for file, msgs := range specExamples(t) {
		for i, m := range msgs {
			var head struct{ Type, Action, Event string }
			if err := json.Unmarshal(m, &head); err != nil {
				t.Fatal(err)
			}
			if head.Type == "" { // the legacy name, in some pages' examples
				head.Type = head.Action
			}
			if r := do(t, "POST", base+"/v1/"+head.Type, m, basic(writeKey)); r.status != 200 {
				t.Errorf("%s line %d (%s), alone: %d %s", file, i+1, head.Event, r.status, r.body)
			}
			want[head.Event] += 2
			all = append(all, m)
		}
	}
	batch, _ := json.Marshal(map[string]any{"batch": all})
	if r := do(t, "POST", base+"/v1/batch", batch, basic(writeKey)); r.status != 200 {
		t.Fatalf("all %d in one batch: %d %s", len(all), r.status, r.body)
	}
	evs := settled(t, dir, viaSegment(base, writeKey))
	got := map[string]int{}
	for _, e := range evs {
		got[e.EventName]++
		switch e.EventName {
		case "Email Opened": // the partner spec's snake-case user_id and context.user_agent
			if e.UserID != "019mr8mf4r" || !strings.HasPrefix(e.UserAgent, "Mozilla/5.0 (Macintosh") {
				t.Errorf("Email Opened: user %q agent %q", e.UserID, e.UserAgent)
			}
		case "Signed Up":
			if e.EmailHash == "" || e.Props["email"] != nil || string(e.Props["type"]) != `"organic"` {
				t.Errorf("Signed Up: email hash %q, props %s", e.EmailHash, props(e))
			}
		case "Order Completed": // e-commerce v2: an array of objects, numbers as numbers
			if !strings.Contains(string(e.Props["products"]), `"name":"Uno Card Game"`) || string(e.Props["revenue"]) != "25" ||
				string(e.Props["order_id"]) != `"50314b8e9bcf000000000000"` {
				t.Errorf("Order Completed: props %s", props(e))
			}
		case "Video Ad Started":
			if string(e.Props["type"]) != `"pre-roll"` || string(e.Props["load_type"]) != `"dynamic"` {
				t.Errorf("Video Ad Started: props %s", props(e))
			}
		}
		if e.EventName == "Install Attributed" {
			if e.Campaign != "" || !strings.Contains(string(e.Props["campaign"]), `"ad_group":"Red Ones"`) ||
				string(e.Props[schema.CollisionsProp]) != `["campaign"]` {
				t.Errorf("Install Attributed: campaign %q, props %s", e.Campaign, props(e))
			}
		}
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: stored %d, want %d", name, got[name], n)
		}
	}
	if len(evs) != 2*len(all) {
		t.Errorf("stored %d events, want %d", len(evs), 2*len(all))
	}
}
