package cassandra

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/cassandratest"

	"github.com/spoor-dev/spoor/schema"
)

// A visitor's sessions built slot after slot from markers (extend) are the
// sessions a recomputation from all its events gives, whatever the order
// of arrival, the batching and the redeliveries; and the in-order slots are
// really done from the markers, not by reading the events back.
func TestSessionsFromMarkersMatchARecomputation(t *testing.T) {
	s, ks, sink := openSink(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                   string
		shuffled, redelivering bool
		start                  time.Duration // after t0
	}{
		{"in order", false, false, 0},
		{"in order with redeliveries", false, true, 0},
		{"late events", true, false, 0},
		{"late events and redeliveries", true, true, 0},
		{"across midnight, busy", false, false, 14*time.Hour + 50*time.Minute},
		{"across midnight, late", true, true, 14*time.Hour + 50*time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(len(tc.name)), 7))
			visitor := "v-" + tc.name
			// 60 events over ~4 hours: gaps of 1-20 minutes, now and then 35-60.
			var all []*schema.Event
			at := t0.Add(tc.start)
			for i := range 60 {
				step := time.Duration(1+rng.IntN(20)) * time.Minute
				if rng.IntN(8) == 0 {
					step = time.Duration(35+rng.IntN(25)) * time.Minute
				}
				at = at.Add(step)
				e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: at, App: "shop", VisitorID: visitor,
					URL: fmt.Sprintf("/p/%d", i), Source: fmt.Sprintf("s%d", i)}
				if rng.IntN(5) == 0 {
					e.UserID = fmt.Sprintf("u%d", i)
				}
				all = append(all, e)
			}
			order := append([]*schema.Event(nil), all...)
			if tc.shuffled { // every fourth batch arrives late
				for i := 0; i+8 <= len(order); i += 8 {
					order[i], order[i+5] = order[i+5], order[i]
				}
			}
			before, _ := sink.SessionWork()
			beforeDirect := sink.SessionsDirect()
			for i := 0; i < len(order); {
				n := 1 + rng.IntN(4)
				plain := !tc.shuffled && !tc.redelivering // one event per slot: all from markers
				if plain {
					n = 1
				}
				batch := order[i:min(i+n, len(order))]
				i += n
				if err := sink.Write(ctx, batch); err != nil {
					t.Fatal(err)
				}
				if tc.redelivering && rng.IntN(3) == 0 {
					if err := sink.Write(ctx, batch); err != nil { // the same batch again, before its slot is done
						t.Fatal(err)
					}
				}
				if plain || rng.IntN(2) == 0 {
					if err := sink.FlushSessions(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if tc.redelivering && i > 4 && rng.IntN(5) == 0 { // an old batch again, after its slot was done
					if err := sink.Write(ctx, order[i-4:i-2]); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := sink.FlushSessions(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := ReadSessions(ctx, s, ks, "shop", visitor)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedSessions(all, sink.opts.SessionGap)
			if len(got) != len(want) {
				t.Fatalf("%d sessions, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("session %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
			after, _ := sink.SessionWork()
			if done := after - before + sink.SessionsDirect() - beforeDirect; !tc.shuffled && !tc.redelivering && done != int64(len(all)) {
				t.Errorf("%d slots were done from markers or with the events, want all %d", done, len(all))
			}
		})
	}
}

// expectedSessions splits a visitor's events at gaps longer than gap and
// at midnight UTC, newest first, as ReadSessions returns them.
func expectedSessions(evs []*schema.Event, gap time.Duration) []Session {
	evs = append([]*schema.Event(nil), evs...)
	sort.Slice(evs, func(a, b int) bool { return evs[a].ReceivedAt.Before(evs[b].ReceivedAt) })
	var out []Session
	for i, e := range evs {
		if i == 0 || e.ReceivedAt.Sub(evs[i-1].ReceivedAt) > gap || !Day(e.ReceivedAt).Equal(Day(evs[i-1].ReceivedAt)) {
			out = append(out, Session{Start: e.ReceivedAt, ID: e.EventID, LandingURL: e.URL, Source: e.Source})
		}
		ss := &out[len(out)-1]
		ss.End, ss.LastEventID = e.ReceivedAt, e.EventID
		ss.EventCount++
		if e.UserID != "" {
			ss.UserID = e.UserID
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// A recomputation from the events (here, for a late event) reads no
// further than what is counted already: an event after that, marked in a
// slot still open, is then extended from its marker instead of being
// counted by the read and sending its own slot back to a recomputation,
// and the next, for as long as the visitor stays busy. Markers of events
// the recomputation did read, in slots that ended before it, are
// recognised as counted. A visitor's first events go with their session.
func TestARecomputationDoesNotReadAhead(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	sink := New(testOptions(ks), zerolog.Nop())
	sink.slot = 100 * time.Millisecond // before Open: the shards' progress is counted in slots
	ctx := context.Background()
	if err := sink.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	shard := pendingShard("shop", "v1")
	for deadline := time.Now().Add(10 * time.Second); time.Until(time.Unix(0, sink.held.until[shard].Load())) < leaseMargin; {
		if time.Now().After(deadline) {
			t.Fatal("the sessionizer took no lease")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var all []*schema.Event
	write := func(min int, nextSlot bool) {
		t.Helper()
		e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: t0.Add(time.Duration(min) * time.Minute), App: "shop",
			VisitorID: "v1", URL: fmt.Sprintf("/%d", min)}
		all = append(all, e)
		if err := sink.Write(ctx, []*schema.Event{e}); err != nil {
			t.Fatal(err)
		}
		if nextSlot {
			time.Sleep(150 * time.Millisecond) // the next event's marker in a later slot
		}
	}
	var m0, e0 int64 // since the last flush
	flush := func(wantMarkers, wantEvents int64) {
		t.Helper()
		if err := sink.FlushSessions(ctx); err != nil {
			t.Fatal(err)
		}
		m1, e1 := sink.SessionWork()
		m1 += sink.SessionsDirect()
		defer func() { m0, e0 = m1, e1 }()
		if m1-m0 != wantMarkers || e1-e0 != wantEvents {
			t.Fatalf("%d slots from markers or with the events and %d from events, want %d and %d", m1-m0, e1-e0, wantMarkers, wantEvents)
		}
		got, err := ReadSessions(ctx, s, ks, "shop", "v1")
		if err != nil {
			t.Fatal(err)
		}
		if want := expectedSessions(all, sink.opts.SessionGap); !reflect.DeepEqual(got, want) {
			t.Fatalf("sessions\n got %+v\nwant %+v", got, want)
		}
	}
	write(0, true)
	write(20, true)
	flush(2, 0)      // the first slot too
	write(10, true)  // late: recomputed from the events
	write(25, false) // marked in the slot still open when the recomputation reads
	flush(1, 1)
	write(12, true) // late again: recomputed, reading the next event, whose slot ends before the read
	write(15, true)
	flush(1, 1)
	write(28, true)
	write(90, true) // a new session
	flush(2, 0)
}

// Once the sink holds the visitor's shard and knows its latest session,
// a batch of the visitor's later events carries its sessions with it:
// they are right as soon as Write returns, with no marker left for the
// sessionizer; late and redelivered events still go through a marker and
// a recomputation.
func TestSessionsWrittenWithTheEvents(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	sink := New(testOptions(ks), zerolog.Nop())
	sink.slot = 100 * time.Millisecond // the sessionizer's first round, and its leases, come quickly
	ctx := context.Background()
	if err := sink.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	for _, v := range []string{"v1", "v2"} {
		shard := pendingShard("shop", v)
		for deadline := time.Now().Add(10 * time.Second); time.Until(time.Unix(0, sink.held.until[shard].Load())) < leaseMargin; {
			if time.Now().After(deadline) {
				t.Fatal("the sessionizer took no lease")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var all []*schema.Event
	ev := func(min int, uid string) *schema.Event {
		e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: t0.Add(time.Duration(min) * time.Minute), App: "shop",
			VisitorID: "v1", URL: fmt.Sprintf("/%d", min), Source: fmt.Sprintf("s%d", min), UserID: uid}
		all = append(all, e)
		return e
	}
	pending := func() int { return pendingMarkers(t, s, ks) }
	check := func(step string, wantDirect int64, flush bool) {
		t.Helper()
		if flush {
			if err := sink.FlushSessions(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ReadSessions(ctx, s, ks, "shop", "v1")
		if err != nil {
			t.Fatal(err)
		}
		if want := expectedSessions(all, sink.opts.SessionGap); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: sessions\n got %+v\nwant %+v", step, got, want)
		}
		if got := sink.SessionsDirect(); got != wantDirect {
			t.Fatalf("%s: %d visitor batches written with their sessions, want %d", step, got, wantDirect)
		}
		if flush {
			return
		}
		if n := pending(); n != 0 {
			t.Fatalf("%s: %d markers pending, want none", step, n)
		}
	}
	write := func(evs ...*schema.Event) {
		t.Helper()
		if err := sink.Write(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	write(ev(0, ""))
	check("the first event: its day read, no session yet (fill.go)", 1, false)
	write(ev(5, "u1"))
	check("a later event", 2, false)
	write(ev(10, ""), ev(60, ""), ev(65, "u2")) // extends the session, and starts another
	check("a batch over two sessions", 3, false)
	write(ev(200, ""))
	check("a new session", 4, false)
	write(ev(7, "")) // late: through a marker, recomputed
	if pending() == 0 {
		t.Fatal("a late event left no marker")
	}
	check("a late event", 4, true)
	write(all[3]) // redelivered
	check("a redelivery", 4, true)
	write(ev(210, "u3"))
	check("after the recomputation", 5, false)

	// A visitor whose second batch was marked before its first slot was
	// taken: its next batch counts that pending marker too, and the
	// sessionizer then passes the marker over, recomputing nothing.
	all = nil
	v2 := func(min int) *schema.Event {
		e := ev(min, "")
		e.VisitorID = "v2"
		return e
	}
	shard2 := pendingShard("shop", "v2")
	lock := sink.locks.of("shop", "v2")
	lock.Lock() // taken, as by the sessionizer: the first two batches go through markers
	write(v2(0))
	slotA := sink.slotOf(time.Now())
	time.Sleep(150 * time.Millisecond)
	write(v2(3)) // a marker
	lock.Unlock()
	if _, _, err := sink.processShard(ctx, shard2, slotA-20, slotA); err != nil {
		t.Fatal(err)
	}
	m0, e0 := sink.SessionWork()
	write(v2(6))
	got, err := ReadSessions(ctx, s, ks, "shop", "v2")
	if err != nil {
		t.Fatal(err)
	}
	if want := expectedSessions(all, sink.opts.SessionGap); !reflect.DeepEqual(got, want) {
		t.Fatalf("with the pending marker counted: sessions\n got %+v\nwant %+v", got, want)
	}
	if err := sink.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	if m1, e1 := sink.SessionWork(); m1 != m0 || e1 != e0 {
		t.Fatalf("the absorbed marker was taken again: %d from markers, %d from events", m1-m0, e1-e0)
	}
	got, err = ReadSessions(ctx, s, ks, "shop", "v2")
	if err != nil {
		t.Fatal(err)
	}
	if want := expectedSessions(all, sink.opts.SessionGap); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the flush: sessions\n got %+v\nwant %+v", got, want)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d markers left", n)
	}
}
