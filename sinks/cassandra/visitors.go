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
// mutations a day, as events_by_day does, instead of one per visitor. A
// batch of one partition is not checked against the server's batch
// warning thresholds; partition groups are capped by maxPartRows and
// maxBatchBytes. Nothing is written per visitor partition: the first
// touch is the visitor's earliest event (decision 0008).
const maxPartRows = 64

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

// writeVisitors stores a partition group's visitor_events rows and, where
// it can, the sessions its visitor-days extend or start (direct.go; not
// for a split visitor), and reports per visitor-day whether its sessions
// went with its events.
func (s *Sink) writeVisitors(ctx context.Context, events []*schema.Event, ids []gocql.UUID, ttl []int, g []*touch) ([]bool, error) {
	withSessions := make([]bool, len(g))
	if len(g) == 1 && len(g[0].idx) > maxPartRows {
		return withSessions, s.writeLongVisitor(ctx, events, ids, ttl, g[0])
	}
	s.fillLatest(ctx, events, g)
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
