package cassandra

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/schema"
)

// Two sink processes write the same visitors at once, each with its
// sessionizer running in the background (one of them holds the shards):
// batches in order, late ones, and redeliveries, concurrently. Once the
// markers are drained, every visitor's sessions are the ones a
// recomputation from all its events gives, and some batches really were
// written with their sessions.
func TestSessionsUnderConcurrentWriters(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	open := func() *Sink {
		sink := openSessionSink(t, ks, 300*time.Millisecond, 100*time.Millisecond)
		t.Cleanup(func() { sink.Close() })
		return sink
	}
	sinks := []*Sink{open(), open()}
	ctx := context.Background()
	// Each wait is for a condition, not a time: on a loaded machine the
	// leases (one lightweight transaction per shard) and the sessionizer's
	// first slots take seconds, and a write that comes before them has no
	// choice but a marker.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("after 30 s: %s", what)
			}
		}
	}
	waitFor("the shards' leases are not all held", func() bool {
		for sh := range pendingShards {
			until := max(sinks[0].held.until[sh].Load(), sinks[1].held.until[sh].Load())
			if time.Until(time.Unix(0, until)) < leaseMargin {
				return false
			}
		}
		return true
	})
	pending := func() int { return pendingMarkers(t, s, ks) }
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	const visitors, perVisitor = 12, 40
	rng := rand.New(rand.NewPCG(3, 9))
	all := map[string][]*schema.Event{}
	var batches [][]*schema.Event
	for v := range visitors {
		vid := fmt.Sprintf("v%d", v)
		at := t0
		for i := range perVisitor {
			step := time.Duration(1+rng.IntN(10)) * time.Minute
			if rng.IntN(10) == 0 {
				step = time.Duration(35+rng.IntN(20)) * time.Minute
			}
			at = at.Add(step)
			e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: at, App: "shop", VisitorID: vid,
				URL: fmt.Sprintf("/%d", i), Source: fmt.Sprintf("s%d", i)}
			if rng.IntN(6) == 0 {
				e.UserID = fmt.Sprintf("u%d", i)
			}
			all[vid] = append(all[vid], e)
		}
	}
	// Rounds of batches: in round r each visitor's events r*2, r*2+1, now and
	// then swapped with the next round's (late), now and then repeated.
	for r := 0; r < perVisitor/2; r++ {
		var round []*schema.Event
		for v := range visitors {
			evs := all[fmt.Sprintf("v%d", v)]
			round = append(round, evs[2*r], evs[2*r+1])
		}
		batches = append(batches, round)
	}
	for i := 0; i+1 < len(batches); i += 5 {
		batches[i], batches[i+1] = batches[i+1], batches[i]
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(batches)*2)
	for i, b := range batches {
		w := sinks[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Write(ctx, b); err != nil {
				errs <- err
			}
			if i%4 == 0 {
				if err := sinks[(i+1)%2].Write(ctx, b[:len(b)/2]); err != nil { // redelivered, to the other sink
					errs <- err
				}
			}
		}()
		if i%3 == 2 {
			wg.Wait()
			time.Sleep(120 * time.Millisecond)
		}
		if i == 2 { // the visitors' first markers taken: from here on their sessions are known
			waitFor("the first markers are still pending", func() bool { return pending() == 0 })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitFor("markers still pending", func() bool { return pending() == 0 })
	time.Sleep(200 * time.Millisecond) // a round in flight finishes its writes
	for v := range visitors {
		vid := fmt.Sprintf("v%d", v)
		got, err := ReadSessions(ctx, s, ks, "shop", vid)
		if err != nil {
			t.Fatal(err)
		}
		if want := expectedSessions(all[vid], sinks[0].opts.SessionGap); !reflect.DeepEqual(got, want) {
			t.Errorf("visitor %s: sessions\n got %+v\nwant %+v", vid, got, want)
		}
	}
	direct := sinks[0].SessionsDirect() + sinks[1].SessionsDirect()
	if direct == 0 {
		t.Error("no batch was written with its sessions")
	}
	m0, e0 := sinks[0].SessionWork()
	m1, e1 := sinks[1].SessionWork()
	t.Logf("visitor batches: %d with their sessions; slots from markers %d, from events %d", direct, m0+m1, e0+e1)
}
