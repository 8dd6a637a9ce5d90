package cassandra

// Sessions written with the events (no marker, no second round trip).
//
// A sink that holds the lease of a visitor's marker shard, and knows the
// visitor's latest session of the day (latest: what it last wrote or read
// of it; read for the batch's partition when unknown, fill.go), writes a
// batch of that visitor's events of one day that all follow the session
// together with the session rows they extend or start: in the
// same mutation as the visitor's visitor_events rows (visitor_events and
// sessions_by_day share the partition key (app, day, vbucket);
// visitors.go), so they are stored together or not at all. Sessions end at
// midnight UTC: when the latest session is of an earlier day, the events
// start a new one. Anything else (no lease, the session unknown, a
// late or redelivered event, a visitor's events spread over several
// batches or days, the visitor's lock taken) is marked for the sessionizer as before, which counts from
// markers (extend) or recomputes from the events (sessionize); both, and
// the direct write, run under the visitor's lock, one at a time.
//
// Nothing is counted twice: a direct write counts only events after the
// session it knows, and a marker written before it then no longer follows
// the session, so its slot is recomputed from the events.

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// leaseMargin is how long a lease must still run for a direct write: the
// write's deadline is the lease's end less the margin's half, so no other
// sink can have taken the shard over when it lands.
const leaseMargin = 10 * time.Second

// visitorLocks are striped: wide enough that the visitors of one Write
// seldom share one, since a visitor whose stripe another visitor of the
// Write holds goes through a marker. A Write of 500 events from 450
// visitors has about 25 such pairs in 4,096 stripes, 1.5 in 65,536
// (512 KiB of locks).
type visitorLocks [1 << 16]sync.Mutex

func (l *visitorLocks) of(app, visitor string) *sync.Mutex {
	return &l[visitorHash(app, visitor)%uint32(len(l))]
}

// leases is what the sessionizer holds, readable by the writers: per
// shard, the end of the lease (unix nanoseconds, 0 when not held) and a
// generation that changes whenever the lease is taken afresh or lost.
type leases struct {
	until [pendingShards]atomic.Int64
	gen   [pendingShards]atomic.Int64
}

func (l *leases) set(sh int16, until time.Time) { l.until[sh].Store(until.UnixNano()) }

func (l *leases) lost(sh int16) {
	l.until[sh].Store(0)
	l.gen[sh].Add(1)
}

func (l *leases) taken(sh int16, until time.Time) {
	l.gen[sh].Add(1)
	l.until[sh].Store(until.UnixNano())
}

// direct is a visitor's batch of events that extends its sessions.
type direct struct {
	s            *Sink
	shard        int16
	gen          int64
	app, visitor string
	deadline     time.Time
	prev         tail
	rows         []sessionWrite
	absorbs      []pendingMark // counted here: the sessionizer passes their rows over
	at           int64
	mu           *sync.Mutex
}

// planDirect returns the session writes of a visitor's events, holding
// the visitor's lock until done, or nil when they must go through a
// marker. It never waits for the lock: a visitor whose lock is taken (by
// the sessionizer, or by another visitor of the same stripe in the batch)
// goes through a marker.
func (s *Sink) planDirect(events []*schema.Event, ids []gocql.UUID, v *touch) *direct {
	if s.z == nil {
		return nil
	}
	e0 := events[v.first]
	shard := pendingShard(e0.App, e0.VisitorID)
	gen := s.held.gen[shard].Load()
	until := time.Unix(0, s.held.until[shard].Load())
	if time.Until(until) < leaseMargin {
		return nil
	}
	mu := s.locks.of(e0.App, e0.VisitorID)
	if !mu.TryLock() {
		return nil
	}
	t, ok := s.latest.get(shard, e0.App, e0.VisitorID)
	day := Day(e0.ReceivedAt) // every event of v's (dayTouches)
	if !ok || !t.usable(day) {
		mu.Unlock()
		return nil
	}
	d := &direct{s: s, shard: shard, gen: gen, app: e0.App, visitor: e0.VisitorID, deadline: until.Add(-leaseMargin / 2),
		prev: t, at: time.Now().UnixMicro(), mu: mu}
	// What follows the session: the visitor's markers this process wrote
	// and the sessionizer has not taken yet, and the batch's events.
	var items []item
	d.absorbs = s.marked.pending(shard, e0.App, e0.VisitorID, s.slotsDone[shard].Load())
	for _, pm := range d.absorbs {
		m := pm.m
		if m.events == 0 || m.max.Sub(m.min) > s.opts.SessionGap || !Day(m.min).Equal(day) || !Day(m.max).Equal(day) {
			mu.Unlock()
			return nil
		}
		items = append(items, item{marker: m})
	}
	seen := make(map[gocql.UUID]bool, len(v.idx))
	for _, i := range v.idx {
		if seen[ids[i]] {
			continue
		}
		seen[ids[i]] = true
		e := events[i]
		ts := e.ReceivedAt.UTC().Truncate(time.Millisecond)
		items = append(items, item{event: true, marker: marker{min: ts, max: ts, events: 1, firstID: ids[i], lastID: ids[i],
			url: e.URL, referrer: e.Referrer, source: e.Source, medium: e.Medium, campaign: e.Campaign, uid: e.UserID}})
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].min.Before(items[b].min) })
	cur := Session{Start: t.start, End: t.end, EventCount: t.count, UserID: t.uid}
	if !t.known || !Day(t.start).Equal(day) {
		cur = Session{} // sessions end at midnight: the day has none yet (t is the latest of all, or a read found none)
	}
	fresh, extended := false, false // cur starts here; cur is the stored latest session, changed
	closeCur := func() {
		if fresh || extended {
			d.rows = append(d.rows, sessionWrite{cur, !fresh})
		}
	}
	for k, it := range items {
		// Each follows what is counted: strictly, but for two events of
		// the batch at the same time (a marker's events are not known one
		// by one).
		if !it.min.After(cur.End) && !(k > 0 && it.event && items[k-1].event && it.min.Equal(items[k-1].max)) {
			mu.Unlock() // late, redelivered or already counted: the sessionizer decides
			return nil
		}
		if it.min.Sub(cur.End) > s.opts.SessionGap {
			closeCur()
			cur, fresh = Session{Start: it.min, ID: it.firstID.String(), LandingURL: it.url, Referrer: it.referrer, Source: it.source,
				Medium: it.medium, Campaign: it.campaign}, true
		} else if !fresh {
			extended = true
		}
		cur.End, cur.LastEventID = it.max, it.lastID.String()
		cur.EventCount += it.events
		if it.uid != "" {
			cur.UserID = it.uid
		}
	}
	closeCur()
	return d
}

// item is what a direct write counts: a pending marker, or one event.
type item struct {
	marker
	event bool
}

type sessionWrite struct {
	Session
	extend bool // the stored latest session, extended; else a new one
}

// add puts the session writes into the visitor's batch.
func (d *direct) add(b *gocql.Batch) {
	s := d.s
	for _, w := range d.rows {
		if w.extend {
			s.addExtend(b, d.app, d.visitor, w.Session, d.at)
		} else {
			s.addSession(b, d.app, d.visitor, w.Session, d.at)
		}
	}
}

// done records the outcome (the batch was stored, or may not have been)
// and lets the visitor go.
func (d *direct) done(stored bool) {
	defer d.mu.Unlock()
	if !stored || d.s.held.gen[d.shard].Load() != d.gen {
		d.s.latest.forget(d.shard, d.app, d.visitor)
		return
	}
	d.s.marked.absorb(d.shard, d.app, d.visitor, d.absorbs)
	last := d.rows[len(d.rows)-1]
	t := d.prev
	t.known, t.start, t.end, t.count, t.uid, t.empty = true, last.Start, last.End, last.EventCount, last.UserID, time.Time{}
	d.s.latest.put(d.shard, d.app, d.visitor, t)
	d.s.direct.Add(1)
}
