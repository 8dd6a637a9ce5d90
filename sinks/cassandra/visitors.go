package cassandra

import (
	"context"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// A batch's visitors are written in groups: one unlogged batch holds the
// events_by_visitor rows, first touches and direct session writes
// of several visitors whose partitions the same node owns (ring.go), so
// a Write sends a request per group rather than per visitor. Each
// visitor's statements share its partition key, so the node applies them
// as one mutation, whole or not at all, as when it was sent alone; the
// node routes each visitor's mutation to that visitor's replicas.
//
// A group stays under the server's default warning thresholds, which it
// checks on every batch of more than one partition: at most 10
// partitions (unlogged_batch_across_partitions_warn_threshold) and
// 5 KiB of data (batch_size_warn_threshold). Past them each batch costs
// the node a formatted warning in its log and in the answer.
const (
	maxGroupVisitors = 10
	maxGroupBytes    = 5 << 10
)

// visitorGroups splits the batch's visitors into groups, each of visitors
// one node owns, of at most maxGroupVisitors and maxGroupBytes (as
// estimated). A visitor that alone is more than that is a group of its
// own (a single partition's batch is not checked).
func (s *Sink) visitorGroups(events []*schema.Event, vs []*touch) [][]*touch {
	var out [][]*touch
	open := map[string]int{} // owner: index in out of its group being filled
	size := make([]int, 0, len(vs))
	for _, v := range vs {
		n := visitorBytes(events, v)
		if len(v.idx) > maxBatchRows || n > maxGroupBytes {
			out, size = append(out, []*touch{v}), append(size, n)
			continue
		}
		e := events[v.first]
		owner := s.ring.owner(e.App, e.VisitorID)
		g, ok := open[owner]
		if !ok || len(out[g]) == maxGroupVisitors || size[g]+n > maxGroupBytes {
			g = len(out)
			open[owner] = g
			out, size = append(out, nil), append(size, 0)
		}
		out[g], size[g] = append(out[g], v), size[g]+n
	}
	return out
}

// visitorBytes over-estimates a visitor's share of a group as Cassandra
// counts it (each cell's value, timestamp, TTL and deletion time): its
// events_by_visitor rows, its first touch and a session row.
func visitorBytes(events []*schema.Event, v *touch) int {
	n := 0
	for _, i := range v.idx {
		n += 100 + len(events[i].UserID)
	}
	f := events[v.first]
	return n + 2*(200+len(f.URL)+len(f.Referrer)+len(f.Source)+len(f.Medium)+len(f.Campaign)+len(f.UserID)) + len(f.Term) + len(f.Content)
}

// writeVisitors stores a group's events in events_by_visitor together with
// each visitor's first touch and, where it can, sessions
// (direct.go), and reports per visitor whether its sessions went with its
// events. The first touch is left out when this sink has stored an
// earlier one already (firstTouches): the update would lose.
func (s *Sink) writeVisitors(ctx context.Context, events []*schema.Event, ids []gocql.UUID, ttl []int, g []*touch) ([]bool, error) {
	withSessions := make([]bool, len(g))
	if len(g) == 1 {
		if cs := chunks(events, g[0].idx); len(cs) > 1 {
			return withSessions, s.writeLongVisitor(ctx, events, ids, ttl, g[0], cs)
		}
	}
	b := s.newBatch()
	known := make([]bool, len(g))
	for k, v := range g {
		known[k] = s.addVisitor(b, events, ids, ttl, v, v.idx, true)
	}
	ds := make([]*direct, len(g))
	var deadline time.Time
	for k, v := range g {
		if ds[k] = s.planDirect(events, ids, v); ds[k] != nil {
			ds[k].add(b)
			if deadline.IsZero() || ds[k].deadline.Before(deadline) {
				deadline = ds[k].deadline
			}
		}
	}
	wctx := ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		wctx, cancel = context.WithDeadline(ctx, deadline) // within every lease whose sessions go with it
		defer cancel()
	}
	e := events[g[0].first]
	unpin := s.pins.pin(b, s.ring.host(e.App, e.VisitorID))
	err := s.execBatch(wctx, b, len(b.Entries))
	unpin()
	for k, d := range ds {
		if d != nil {
			d.done(err == nil)
			withSessions[k] = err == nil
		}
	}
	if err != nil {
		return withSessions, err
	}
	for k, v := range g {
		if !known[k] {
			s.storedFirst(events[v.first])
		}
	}
	return withSessions, nil
}

// writeLongVisitor stores a visitor with more events than one batch
// holds, in several batches, its sessions through a marker.
func (s *Sink) writeLongVisitor(ctx context.Context, events []*schema.Event, ids []gocql.UUID, ttl []int, v *touch, cs [][]int) error {
	for n, chunk := range cs {
		b := s.newBatch()
		known := s.addVisitor(b, events, ids, ttl, v, chunk, n == 0)
		if err := s.execBatch(ctx, b, len(b.Entries)); err != nil {
			return err
		}
		if n == 0 && !known {
			s.storedFirst(events[v.first])
		}
	}
	return nil
}

// storedFirst records a visitor's first touch as written (firstTouches).
func (s *Sink) storedFirst(first *schema.Event) {
	s.firsts.stored(first.App, first.VisitorID, first.ReceivedAt)
}

// addVisitor adds a visitor's events_by_visitor rows of chunk to b, and
// with touches its first touch, and reports whether this sink stored an
// earlier first touch already (and so left it out). A row holds the
// event's keys and user id (the sessionizer's); readers complete it from
// events_by_day (read.go). There is no last touch to write: it is the
// visitor's newest row (ReadVisitor).
func (s *Sink) addVisitor(b *gocql.Batch, events []*schema.Event, ids []gocql.UUID, ttl []int, v *touch, chunk []int, touches bool) bool {
	for _, i := range chunk {
		e := events[i]
		add(b, s.insertVisitor, e.App, e.VisitorID, e.ReceivedAt.UTC().Truncate(time.Millisecond), ids[i], bindPtr(&e.UserID), ttl[i])
	}
	if !touches {
		return false
	}
	first := events[v.first]
	known := s.firsts.covers(first.App, first.VisitorID, first.ReceivedAt)
	if !known {
		// No TTL on the first touch: its cells' timestamps fall as time
		// rises, so an expired one would shadow every later first touch.
		add(b, s.firstTouch, firstTouchTimestamp(first.ReceivedAt), first.ReceivedAt, ids[v.first], bindPtr(&first.URL),
			bindPtr(&first.Referrer), bindPtr(&first.Source), bindPtr(&first.Medium), bindPtr(&first.Campaign), bindPtr(&first.Term),
			bindPtr(&first.Content), first.App, first.VisitorID)
	}
	return known
}
