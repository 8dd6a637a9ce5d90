package cassandra

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/schema"
)

// A sink that holds the leases writes the sessions of visitors it has not
// seen with their first batch (one read of their partition, fill.go), no
// marker; a sink that takes over reads the sessions the first one stored
// and extends them, or starts new ones after a gap or at midnight. The
// sessions are those a recomputation from every event gives.
func TestUnknownVisitorsGoWithTheirSessions(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	ctx := context.Background()
	waitHeld := func(sink *Sink) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); len(heldShards(sink)) < pendingShards; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after 30 s the sink holds %d of %d shards", len(heldShards(sink)), pendingShards)
			}
		}
		for sh := range pendingShards { // and with the margin a direct write needs
			for time.Until(time.Unix(0, sink.held.until[sh].Load())) < leaseMargin {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	t0 := time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)
	const visitors = 30
	all := map[string][]*schema.Event{}
	// batch has each visitor's events at the offsets, and v's last one
	// later by more(v).
	batch := func(more func(v int) time.Duration, offsets ...time.Duration) []*schema.Event {
		var b []*schema.Event
		for v := range visitors {
			vid := fmt.Sprintf("nv%d", v)
			for k, off := range offsets {
				if k == len(offsets)-1 {
					off += more(v)
				}
				e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: t0.Add(off + time.Duration(v)*time.Second), App: "shop",
					VisitorID: vid, URL: fmt.Sprintf("/%d/%d", v, len(all[vid])), Source: "news"}
				all[vid] = append(all[vid], e)
				b = append(b, e)
			}
		}
		return b
	}
	none := func(int) time.Duration { return 0 }
	// A third of the visitors come back after the gap, a third after
	// midnight; the rest go on.
	later := func(v int) time.Duration { return []time.Duration{0, 45 * time.Minute, 65 * time.Minute}[v%3] }

	first := openSessionSink(t, ks, time.Hour, time.Second) // its sessionizer never reaches a slot: only direct writes count
	waitHeld(first)
	if err := first.Write(ctx, batch(none, 0, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n := pendingMarkers(t, s, ks); n != 0 {
		t.Errorf("%d markers for visitors new to the sink, want none", n)
	}
	if got := first.SessionsDirect(); got != visitors {
		t.Errorf("%d visitor batches written with their sessions, want %d", got, visitors)
	}
	if filled, failed := first.SessionsFilled(); filled != visitors || failed != 0 {
		t.Errorf("filled %d (%d reads failed), want %d", filled, failed, visitors)
	}
	if err := first.Write(ctx, batch(none, 2*time.Minute)); err != nil { // known now: no read
		t.Fatal(err)
	}
	if filled, _ := first.SessionsFilled(); filled != visitors {
		t.Errorf("filled %d after a second batch of known visitors, want %d", filled, visitors)
	}
	first.Close()

	second := openSessionSink(t, ks, time.Hour, time.Second)
	t.Cleanup(func() { second.Close() })
	waitHeld(second)
	for _, b := range [][]*schema.Event{batch(none, 3*time.Minute), batch(later, 10*time.Minute)} {
		if err := second.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := pendingMarkers(t, s, ks); n != 0 {
		t.Errorf("%d markers after the takeover, want none", n)
	}
	for v := range visitors {
		vid := fmt.Sprintf("nv%d", v)
		got, err := ReadSessions(ctx, s, ks, "shop", vid)
		if err != nil {
			t.Fatal(err)
		}
		if want := expectedSessions(all[vid], second.opts.SessionGap); !reflect.DeepEqual(got, want) {
			t.Errorf("visitor %s: sessions\n got %+v\nwant %+v", vid, got, want)
		}
	}
}
