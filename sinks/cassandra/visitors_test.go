package cassandra

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/schema"
)

// A batch's visitors go in groups of one owner, within the limits, each
// visitor in one group; a visitor with more events than a batch holds
// goes alone.
func TestVisitorGroups(t *testing.T) {
	_, _, sink := openSink(t)
	if owner := sink.ring.owner("shop", "v-1"); owner == "" {
		t.Fatal("no owner on a running node")
	}
	var events []*schema.Event
	at := time.Now()
	for i := 0; i < 100; i++ {
		events = append(events, &schema.Event{App: "shop", VisitorID: fmt.Sprintf("v-%d", i%70), ReceivedAt: at, URL: "https://example.com/"})
	}
	long := make([]*schema.Event, maxBatchRows+1)
	for i := range long {
		long[i] = &schema.Event{App: "shop", VisitorID: "busy", ReceivedAt: at}
	}
	events = append(events, long...)
	vs := touches(events, make([]error, len(events)))
	groups := sink.visitorGroups(events, vs)
	seen := map[*touch]bool{}
	for _, g := range groups {
		if len(g) > maxGroupVisitors {
			t.Errorf("a group of %d visitors, want at most %d", len(g), maxGroupVisitors)
		}
		size := 0
		for _, v := range g {
			if seen[v] {
				t.Errorf("visitor %s in two groups", events[v.first].VisitorID)
			}
			seen[v] = true
			size += visitorBytes(events, v)
			if events[v.first].VisitorID == "busy" && len(g) != 1 {
				t.Errorf("a visitor with %d events shares a group", len(v.idx))
			}
		}
		if len(g) > 1 && size > maxGroupBytes {
			t.Errorf("a group of %d visitors estimated at %d bytes, want at most %d", len(g), size, maxGroupBytes)
		}
	}
	if len(seen) != 71 || len(groups) < 8 {
		t.Errorf("%d visitors in %d groups, want 71 in at least 8 (70 by 10 at most, and the busy one alone)", len(seen), len(groups))
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
	if err := s.Query(fmt.Sprintf("SELECT count(*) FROM %s.events_by_visitor", ks)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(events) {
		t.Errorf("events_by_visitor has %d rows, want %d", n, len(events))
	}
	if err := s.Query(fmt.Sprintf("SELECT count(*) FROM %s.visitors", ks)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 150 {
		t.Errorf("visitors has %d rows, want 150", n)
	}
	b := sink.newBatch()
	for i := 0; i < 12; i++ {
		add(b, sink.firstTouch, at.UnixMicro(), at, gocql.MustRandomUUID(), strings.Repeat("u", 600), "", "", "", "", "", "", "shop", fmt.Sprintf("w-%d", i))
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
