package cassandra

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/schema"
)

// A batch's visitors' rows go in groups of one partition (app, day,
// vbucket) within the limits, each visitor-day in one group; a visitor
// with events of two days is split, and one with more events than a batch
// holds goes alone.
func TestVisitorGroups(t *testing.T) {
	_, _, sink := openSink(t)
	var events []*schema.Event
	at := Day(time.Now()).Add(12 * time.Hour)
	for i := 0; i < 300; i++ {
		events = append(events, &schema.Event{App: "shop", VisitorID: fmt.Sprintf("v-%d", i%70), ReceivedAt: at, URL: "https://example.com/"})
	}
	events = append(events, &schema.Event{App: "shop", VisitorID: "v-1", ReceivedAt: at.Add(-24 * time.Hour)}) // yesterday too
	long := make([]*schema.Event, maxPartRows+1)
	for i := range long {
		long[i] = &schema.Event{App: "shop", VisitorID: "busy", ReceivedAt: at}
	}
	events = append(events, long...)
	vs := touches(events, make([]error, len(events)))
	days := dayTouches(events, vs)
	if len(days) != 72 {
		t.Fatalf("%d visitor-days, want 72 (v-1 twice)", len(days))
	}
	seen := map[*touch]bool{}
	for _, g := range sink.partGroups(events, days) {
		rows := 0
		k0 := partKey{events[g[0].first].App, Day(events[g[0].first].ReceivedAt), VisitorBucket("shop", events[g[0].first].VisitorID, sink.buckets)}
		for _, v := range g {
			e := events[v.first]
			if seen[v] {
				t.Errorf("visitor-day %s in two groups", e.VisitorID)
			}
			seen[v] = true
			rows += len(v.idx)
			if k := (partKey{e.App, Day(e.ReceivedAt), VisitorBucket(e.App, e.VisitorID, sink.buckets)}); k != k0 {
				t.Errorf("a group spans partitions %v and %v", k0, k)
			}
			if v.split != (e.VisitorID == "v-1") {
				t.Errorf("%s split: %v", e.VisitorID, v.split)
			}
			if e.VisitorID == "busy" && len(g) != 1 {
				t.Errorf("a visitor with %d events shares a group", len(v.idx))
			}
		}
		if len(g) > 1 && rows > maxPartRows {
			t.Errorf("a group of %d rows, want at most %d", rows, maxPartRows)
		}
	}
	if len(seen) != 72 {
		t.Errorf("%d visitor-days in groups, want 72", len(seen))
	}

}

// Written in groups, a batch of many visitors with long URLs draws no
// batch warning from the node, and every visitor's rows are stored. A
// batch past the thresholds does draw one, so the check can tell.
func TestVisitorGroupsDrawNoWarnings(t *testing.T) {
	log := cassandratest.LogFile()
	if log == "" {
		t.Skip("the node's system.log is not here (SPOOR_CASSANDRA_HOSTS)")
	}
	s, ks, sink := openSink(t)
	ctx := context.Background()
	warned := func() int {
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, ks+".") && (strings.Contains(l, "Batch for") || strings.Contains(l, "Unlogged batch covering")) {
				n++
			}
		}
		return n
	}
	var events []*schema.Event
	at := time.Now().UTC().Truncate(time.Millisecond)
	for i := 0; i < 300; i++ {
		events = append(events, &schema.Event{EventID: schema.NewEventID(), App: "shop", VisitorID: fmt.Sprintf("v-%d", i%150),
			ReceivedAt: at.Add(time.Duration(i) * time.Millisecond), EventType: "page_view",
			URL: "https://shop.example.com/" + strings.Repeat("p", i%200), Referrer: "https://www.google.com/search?q=" + strings.Repeat("q", i%90),
			Source: "google", Medium: "cpc", Campaign: "winter-sale", Term: "boots", Content: "banner-" + strings.Repeat("c", i%50),
			UserID: fmt.Sprintf("u-%d", i%40)})
	}
	if err := sink.Write(ctx, events); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Query(fmt.Sprintf("SELECT count(*) FROM %s.visitor_events", ks)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(events) {
		t.Errorf("visitor_events has %d rows, want %d", n, len(events))
	}
	if err := s.Query(fmt.Sprintf("SELECT count(*) FROM %s.visitors", ks)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("visitors has %d rows, want none (decision 0008)", n)
	}
	b := sink.newBatch() // the control: 12 partitions, 7 KB
	for i := 0; i < 12; i++ {
		add(b, fmt.Sprintf("UPDATE %s.visitors SET first_url = ? WHERE app = ? AND visitor_id = ?", ks), strings.Repeat("u", 600), "shop", fmt.Sprintf("w-%d", i))
	}
	if err := sink.send(ctx, b); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); warned() == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	// The node logs the size warning every time; the partitions one at
	// most once a minute: the control batch draws one line or two.
	if w := warned(); w == 0 || w > 2 {
		t.Errorf("%s: %d batch warnings about %s, want 1 or 2 (the control batch's alone)", log, w, ks)
	}
}
