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
			var head struct{ Type, Event string }
			if err := json.Unmarshal(m, &head); err != nil {
				t.Fatal(err)
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
