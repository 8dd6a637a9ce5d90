package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The block list in the collector: a blocked address or visitor gets 403
// {"reason":"blocked"} on the JSON endpoints, the pixel still answers its
// GIF and the redirect its 302, nothing of theirs is stored, every refusal
// is counted; editing the file changes the verdict without a restart.
func TestBlockListInTheCollector(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "blocked.txt")
	if err := os.WriteFile(list, []byte("# test\nvid:v-bot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.HTTP.BlockList = list
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()

	if r := do(t, "GET", base+"/tr/v1/ename/view/vid/v-bot", nil, nil); r.status != 403 || reason(t, r) != "blocked" {
		t.Fatalf("blocked visitor: %d %s", r.status, r.body)
	}
	if r := do(t, "POST", base+"/tr/v1/", []byte(`[{"ename":"a","vid":"v-ok"},{"ename":"b","vid":"v-bot"}]`), nil); r.status != 403 {
		t.Fatalf("a batch with a blocked visitor: %d %s", r.status, r.body)
	}
	if r := do(t, "GET", base+"/img/v1/ename/open/vid/v-bot", nil, nil); r.status != 200 || !bytes.HasPrefix(r.body, []byte("GIF89a")) {
		t.Fatalf("pixel for a blocked visitor: %d", r.status)
	}
	if r := do(t, "GET", base+"/tr/v1/ename/view/vid/v-ok", nil, nil); r.status != 200 {
		t.Fatalf("other visitor: %d %s", r.status, r.body)
	}
	// Now block every address of this test (loopback), by editing the file.
	if err := os.WriteFile(list, []byte("127.0.0.0/8\n::1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	kept := 1 // v-ok's events answered 200
	for {
		r := do(t, "GET", base+"/tr/v1/ename/view/vid/v-ok", nil, nil)
		if r.status == 403 {
			break
		}
		kept++
		if time.Now().After(deadline) {
			t.Fatalf("the edited block list was not picked up: %d", r.status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := do(t, "GET", base+"/rdr/v1/ename/click?url=https://shop.example/x", nil, nil); r.status != 302 ||
		r.header.Get("Location") != "https://shop.example/x" {
		t.Fatalf("redirect for a blocked address: %d %s", r.status, r.header.Get("Location"))
	}
	for _, e := range waitStored(t, dir, kept, 10*time.Second) {
		if e.VisitorID != "v-ok" {
			t.Fatalf("stored %+v", e)
		}
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	for series, want := range map[string]float64{`spoor_blocked_total{by="visitor"}`: 3, `spoor_collector_events_lost_total{reason="blocked"}`: 2, `spoor_blocklist_entries`: 2} {
		if !metricIs(m.body, series, want) {
			t.Errorf("metrics lack %s %v", series, want)
		}
	}
	// Unblock, and send a marker: once it is stored, a late write of a
	// blocked event would be too.
	if err := os.WriteFile(list, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, e := range settled(t, dir, func(t *testing.T, marker string) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			r := do(t, "GET", base+"/tr/v1/ename/"+marker+"/vid/v-marker", nil, nil)
			if r.status == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the emptied block list was not picked up: %d", r.status)
			}
		}
	}) {
		if e.VisitorID != "v-ok" {
			t.Fatalf("stored %+v", e)
		}
	}
}
