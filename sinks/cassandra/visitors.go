package cassandra

import (
	"context"
	"slices"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// A batch's visitors are written by partition of the day tables
// (decision 0007): the visitor_events rows of the visitors of one
// (app, day, vbucket), with the sessions_by_day rows that their events
// extend or start (direct.go), go in one single-partition batch: one
// mutation, stored whole or not at all, however many visitors share it. A
// Write of events from many visitors thus sends at most buckets such
// mutations a day, as events_by_day does, instead of one per visitor.
//
// First touches (the visitors table, one partition per visitor) go on
// their own, only for visitors whose first touch this sink has not stored
// (firstTouches), in groups of visitors that one node owns (ring.go). A
// group stays under the server's default warning thresholds, which it
// checks on every batch of more than one partition: at most 10
// partitions (unlogged_batch_across_partitions_warn_threshold) and
// 5 KiB of data (batch_size_warn_threshold). A batch of one partition is
// not checked; partition groups are capped by maxPartRows and
// maxBatchBytes.
const (
	maxGroupVisitors = 10
	maxGroupBytes    = 5 << 10
	maxPartRows      = 64
)

// partKey is a partition of the day tables.
type partKey struct {
	app string
	day time.Time
	vb  int16
}

// dayTouches splits each visitor's events by UTC day: one touch per
// visitor and day, split when the visitor has events of other days in the
// batch too (its sessions then go through a marker).
func dayTouches(events []*schema.Event, vs []*touch) []*touch {
	var out []*touch
	for _, v := range vs {
		day0 := Day(events[v.first].ReceivedAt)
		one := true
		for _, i := range v.idx {
			if !Day(events[i].ReceivedAt).Equal(day0) {
				one = false
				break
			}
		}
		if one {
			out = append(out, v)
			continue
		}
		by := map[time.Time]*touch{}
		var order []time.Time
		for _, i := range v.idx {
			d := Day(events[i].ReceivedAt)
			t := by[d]
			if t == nil {
				t = &touch{first: i, last: i, split: true}
				by[d] = t
				order = append(order, d)
			}
			t.idx = append(t.idx, i)
			if events[i].ReceivedAt.Before(events[t.first].ReceivedAt) {
				t.first = i
			}
			if !events[i].ReceivedAt.Before(events[t.last].ReceivedAt) {
				t.last = i
			}
		}
		for _, d := range order {
			out = append(out, by[d])
		}
	}
	return out
}

// partGroups groups visitor-days (dayTouches) by partition, in batches of
// at most maxPartRows rows and about maxBatchBytes. A visitor-day with
// more events than that is a group of its own (writeLongVisitor).
func (s *Sink) partGroups(events []*schema.Event, vs []*touch) [][]*touch {
	var out [][]*touch
	open := map[partKey]int{} // partition: index in out of its group being filled
	rows := make([]int, 0, len(vs))
	size := make([]int, 0, len(vs))
	for _, v := range vs {
		n := visitorBytes(events, v)
		if len(v.idx) > maxPartRows || n > maxBatchBytes {
			out, rows, size = append(out, []*touch{v}), append(rows, len(v.idx)), append(size, n)
			continue
		}
		e := events[v.first]
		k := partKey{e.App, Day(e.ReceivedAt), VisitorBucket(e.App, e.VisitorID, s.buckets)}
		g, ok := open[k]
		if !ok || rows[g]+len(v.idx) > maxPartRows || size[g]+n > maxBatchBytes {
			g = len(out)
			open[k] = g
			out, rows, size = append(out, nil), append(rows, 0), append(size, 0)
		}
		out[g], rows[g], size[g] = append(out[g], v), rows[g]+len(v.idx), size[g]+n
	}
	return out
}

// visitorBytes over-estimates a visitor-day's share of a batch as
// Cassandra counts it (each cell's value, timestamp, TTL and deletion
// time): its visitor_events rows and a session row.
func visitorBytes(events []*schema.Event, v *touch) int {
	n := 0
	for _, i := range v.idx {
		n += 100 + len(events[i].VisitorID) + len(events[i].UserID)
	}
	f := events[v.first]
	return n + 200 + len(f.URL) + len(f.Referrer) + len(f.Source) + len(f.Medium) + len(f.Campaign) + len(f.UserID)
}

// firstBytes over-estimates a first touch's size in a batch as Cassandra
// counts it (each cell's value, timestamp, TTL and deletion time).
func firstBytes(f *schema.Event) int {
	return 2 * (200 + len(f.VisitorID) + len(f.URL) + len(f.Referrer) + len(f.Source) + len(f.Medium) + len(f.Campaign) + len(f.Term) + len(f.Content))
}

// firstGroups returns the visitors whose first touch this sink has not
// stored yet, in groups each of visitors one node owns, of at most
// maxGroupVisitors and maxGroupBytes.
func (s *Sink) firstGroups(events []*schema.Event, vs []*touch) [][]*touch {
	var out [][]*touch
	open := map[string]int{} // owner: index in out of its group being filled
	var size []int
	for _, v := range vs {
		f := events[v.first]
		if s.firsts.covers(f.App, f.VisitorID, f.ReceivedAt) {
			continue
		}
		n := firstBytes(f)
		owner := s.ring.owner(f.App, f.VisitorID)
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

// writeFirsts stores a group's first touches and records them as stored.
// No TTL on a first touch: its cells' timestamps fall as time rises, so an
// expired one would shadow every later first touch. A visitor's first
// touch is its first day in the day tables (VisitorDays).
func (s *Sink) writeFirsts(ctx context.Context, events []*schema.Event, ids []gocql.UUID, g []*touch) error {
	b := s.newBatch()
	for _, v := range g {
		f := events[v.first]
		add(b, s.firstTouch, firstTouchTimestamp(f.ReceivedAt), f.ReceivedAt, ids[v.first], bindPtr(&f.URL),
			bindPtr(&f.Referrer), bindPtr(&f.Source), bindPtr(&f.Medium), bindPtr(&f.Campaign), bindPtr(&f.Term),
			bindPtr(&f.Content), f.App, f.VisitorID)
	}
	f := events[g[0].first]
	unpin := s.pins.pin(b, s.ring.host(f.App, f.VisitorID))
	err := s.execBatch(ctx, b, len(b.Entries))
	unpin()
	if err != nil {
		return err
	}
	for _, v := range g {
		s.storedFirst(events[v.first])
	}
	return nil
}

// writeVisitors stores a partition group's visitor_events rows and, where
// it can, the sessions its visitor-days extend or start (direct.go; not
// for a split visitor), and reports per visitor-day whether its sessions
// went with its events.
func (s *Sink) writeVisitors(ctx context.Context, events []*schema.Event, ids []gocql.UUID, ttl []int, g []*touch) ([]bool, error) {
	withSessions := make([]bool, len(g))
	if len(g) == 1 && len(g[0].idx) > maxPartRows {
		return withSessions, s.writeLongVisitor(ctx, events, ids, ttl, g[0])
	}
	b := s.newBatch()
	for _, v := range g {
		s.addVisitor(b, events, ids, ttl, v.idx)
	}
	ds := make([]*direct, len(g))
	var deadline time.Time
	for k, v := range g {
		if v.split {
			continue
		}
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
	err := s.execBatch(wctx, b, len(b.Entries))
	for k, d := range ds {
		if d != nil {
			d.done(err == nil)
			withSessions[k] = err == nil
		}
	}
	return withSessions, err
}

// writeLongVisitor stores a visitor-day with more events than one batch
// holds, in several batches, its sessions through a marker.
func (s *Sink) writeLongVisitor(ctx context.Context, events []*schema.Event, ids []gocql.UUID, ttl []int, v *touch) error {
	for chunk := range slices.Chunk(v.idx, maxPartRows) {
		b := s.newBatch()
		s.addVisitor(b, events, ids, ttl, chunk)
		if err := s.execBatch(ctx, b, len(b.Entries)); err != nil {
			return err
		}
	}
	return nil
}

// storedFirst records a visitor's first touch as written (firstTouches).
func (s *Sink) storedFirst(first *schema.Event) {
	s.firsts.stored(first.App, first.VisitorID, first.ReceivedAt)
}

// addVisitor adds the visitor_events rows of the events idx (of one
// visitor and day) to b: the keys and user id (the sessionizer's); readers
// complete them from events_by_day (read.go). There is no last touch to
// write: it is the visitor's newest row (ReadVisitor).
func (s *Sink) addVisitor(b *gocql.Batch, events []*schema.Event, ids []gocql.UUID, ttl []int, idx []int) {
	for _, i := range idx {
		e := events[i]
		add(b, s.insertVisitor, e.App, Day(e.ReceivedAt), VisitorBucket(e.App, e.VisitorID, s.buckets), e.VisitorID,
			e.ReceivedAt.UTC().Truncate(time.Millisecond), ids[i], bindPtr(&e.UserID), ttl[i])
	}
}
