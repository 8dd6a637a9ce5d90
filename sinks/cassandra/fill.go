package cassandra

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// fillLatest reads, for the visitors of one partition group whose latest
// session this sink does not know, the latest session of the group's day,
// all in one read of the partition, and remembers it (latest), so that
// their events go with their sessions (direct.go) instead of through a
// marker, a read and a write of the sessionizer each. A visitor new to the
// day is remembered as having no session that day (tail.empty).
//
// It runs under each visitor's lock and only for shards this sink holds a
// lease on, as planDirect; what it remembers is what sessions_by_day held,
// as what extend and sessionize remember when they read it. A visitor
// whose lock is taken, or whose day is an old one (oldDay), is left as it
// is; a failed read leaves every visitor as it was (markers, as before).
func (s *Sink) fillLatest(ctx context.Context, events []*schema.Event, g []*touch) {
	if s.z == nil || s.latest == nil || s.latest.perShard == 0 {
		return
	}
	e0 := events[g[0].first]
	day := Day(e0.ReceivedAt) // every event of the group's (partGroups)
	if s.oldDay(day) {
		return
	}
	type want struct {
		visitor string
		shard   int16
		gen     int64
		t       tail
	}
	var ws []want
	locked := map[*sync.Mutex]bool{} // a stripe two of the visitors share is locked once
	defer func() {
		for mu := range locked {
			mu.Unlock()
		}
	}()
	for _, v := range g {
		e := events[v.first]
		if v.split {
			continue
		}
		sh := pendingShard(e.App, e.VisitorID)
		if time.Until(time.Unix(0, s.held.until[sh].Load())) < leaseMargin {
			continue
		}
		t, ok := s.latest.get(sh, e.App, e.VisitorID)
		if ok && (t.usable(day) || (t.known && Day(t.start).After(day))) {
			continue // known, or of a later day: nothing a read of this day changes
		}
		if mu := s.locks.of(e.App, e.VisitorID); !locked[mu] {
			if !mu.TryLock() {
				continue
			}
			locked[mu] = true
		}
		ws = append(ws, want{visitor: e.VisitorID, shard: sh, gen: s.held.gen[sh].Load(), t: t})
	}
	if len(ws) == 0 {
		return
	}
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.visitor
	}
	iter := s.session.Query(fmt.Sprintf(`SELECT visitor_id, session_start, session_end, event_count, user_id FROM %s.sessions_by_day
		WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id IN ?`, s.opts.Keyspace),
		e0.App, day, VisitorBucket(e0.App, e0.VisitorID, s.buckets), ids).WithContext(ctx).PageSize(5000).Iter()
	found := make(map[string]Session, len(ws))
	var visitor string
	var ss Session
	for iter.Scan(&visitor, &ss.Start, &ss.End, &ss.EventCount, &ss.UserID) {
		if _, ok := found[visitor]; !ok { // newest first within a visitor
			found[visitor] = Session{Start: ss.Start.UTC(), End: ss.End.UTC(), EventCount: ss.EventCount, UserID: ss.UserID}
		}
		ss = Session{}
	}
	if err := iter.Close(); err != nil {
		s.fillFailed.Add(1)
		return
	}
	for _, w := range ws {
		if s.held.gen[w.shard].Load() != w.gen {
			continue // the lease changed hands meanwhile
		}
		t := w.t
		if cur, ok := found[w.visitor]; ok {
			t.known, t.all, t.start, t.end, t.count, t.uid, t.empty = true, false, cur.Start, cur.End, cur.EventCount, cur.UserID, time.Time{}
		} else {
			t.empty = day
		}
		s.latest.put(w.shard, e0.App, w.visitor, t)
	}
	s.filled.Add(int64(len(ws)))
}

// usable reports whether t tells a direct write what a batch of events of
// day extends: the day's latest session, or that the day has none (an
// earlier day's session that is the latest of all, or a read that found
// none).
func (t tail) usable(day time.Time) bool {
	switch {
	case t.known && Day(t.start).Equal(day):
		return true
	case t.known && Day(t.start).After(day):
		return false
	case t.known && Day(t.start).Before(day) && t.all:
		return true
	}
	return t.empty.Equal(day)
}
