package cassandra

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// extend brings a visitor's sessions up to date from its markers alone,
// without reading its events back, and reports whether it could: the
// markers must all carry an event count (migration 013), each span at most
// one session gap, not overlap one another, and all follow the visitor's
// latest stored session, if it has one. Then, in time order, a marker more than the gap
// after the session so far starts a new one (its first event's id and
// landing fields), any other extends it (end, count, last event, latest
// user id). The rows change in one single-partition batch, timestamped
// after the read like sessionize's. The latest session comes from what
// this sink last wrote (latest) when it holds it, else from one read.
//
// Markers of events sessionize has already counted (it reads every event
// stored, including those whose markers are still pending) are passed
// over: those of a slot that ended before its read, within the span it
// read (tail).
//
// A visitor without a stored session starts one from its markers: every
// event of it stored earlier has a marker in this slot or a later one.
// Anything else (a late or redelivered event, two batches of the visitor
// interleaved in time) is left to sessionize,
// which recomputes from events_by_visitor. A marker is written only once
// its events are stored, so counting them here counts stored events; an
// event counted twice would have to be marked twice, and its second marker
// would not follow the session that already counts it.
func (s *Sink) extend(ctx context.Context, app, visitor string, slot int64, ms []marker) (bool, error) {
	gap := s.opts.SessionGap
	shard := pendingShard(app, visitor)
	t, cached := s.latest.get(shard, app, visitor)
	if cached && !t.readAt.Before(s.slotEnd(slot)) {
		// The slot ended before sessionize read: its markers' events were
		// stored by then, so those in the span it read are counted.
		ms = slices.DeleteFunc(ms, func(m marker) bool { return !m.min.Before(t.from) && !m.max.After(t.to) })
		if len(ms) == 0 {
			return true, nil
		}
	}
	sort.Slice(ms, func(a, b int) bool { return ms[a].min.Before(ms[b].min) })
	day := Day(ms[0].min)
	for i, m := range ms {
		if m.events == 0 || m.max.Sub(m.min) > gap || (i > 0 && !m.min.After(ms[i-1].max)) || !Day(m.max).Equal(day) {
			return false, nil
		}
	}
	readAt := time.Now().UnixMicro()
	// cur: the day's latest session (old: from the sessions table); next:
	// what latest keeps afterwards.
	var cur Session
	old := false
	next := t
	switch {
	case t.known && Day(t.start).Equal(day):
		cur = Session{Start: t.start, End: t.end, EventCount: t.count, UserID: t.uid}
	case t.known && Day(t.start).Before(day) && t.all:
		// Sessions end at midnight: the day has none (t is the latest of all).
	case t.known && Day(t.start).After(day):
		return false, nil // events of a day before the latest session's
	default:
		var err error
		if cur, old, err = s.latestSession(ctx, app, visitor, day); err != nil {
			return false, err
		}
		next = tail{all: day.Equal(Day(time.Now()))} // no session of a later day
	}
	if !cur.End.IsZero() && !ms[0].min.After(cur.End) {
		return false, nil
	}
	b := s.newBatch()
	extended := false // cur is the stored session, changed
	flush := func(fresh bool) {
		if fresh {
			s.addSession(b, app, visitor, cur, readAt+1)
		} else if extended && old {
			// Moved to sessions_by_day whole, extended.
			add(b, fmt.Sprintf("DELETE FROM %s.sessions USING TIMESTAMP ? WHERE app = ? AND visitor_id = ? AND session_start = ?", s.opts.Keyspace),
				readAt, app, visitor, cur.Start)
			s.addSession(b, app, visitor, cur, readAt+1)
		} else if extended {
			s.addExtend(b, app, visitor, cur, readAt+1)
		}
	}
	fresh := false
	for _, m := range ms {
		if cur.End.IsZero() || m.min.Sub(cur.End) > gap {
			flush(fresh)
			cur, fresh = Session{Start: m.min, ID: m.firstID.String(), LandingURL: m.url, Referrer: m.referrer, Source: m.source,
				Medium: m.medium, Campaign: m.campaign}, true
		} else {
			extended = true
		}
		cur.End, cur.LastEventID = m.max, m.lastID.String()
		cur.EventCount += m.events
		if m.uid != "" {
			cur.UserID = m.uid
		}
	}
	flush(fresh)
	if err := s.send(ctx, b); err != nil {
		s.latest.forget(shard, app, visitor)
		return false, err
	}
	next.known, next.start, next.end, next.count, next.uid, next.empty = true, cur.Start, cur.End, cur.EventCount, cur.UserID, time.Time{}
	s.latest.put(shard, app, visitor, next)
	return true, nil
}

// latestSession reads the visitor's latest stored session of a day, whole;
// none is the zero Session. On the days when the sessions table was still
// written (oldDay), that table's latest of the day counts too, and old
// says it came from there.
func (s *Sink) latestSession(ctx context.Context, app, visitor string, day time.Time) (cur Session, old bool, err error) {
	ks := s.opts.Keyspace
	got, err := scanSessions(s.session.Query(fmt.Sprintf(`SELECT %s FROM %s.sessions_by_day
		WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id = ? LIMIT 1`, sessionColumns, ks),
		app, day, VisitorBucket(app, visitor, s.buckets), visitor).WithContext(ctx).Iter(), ks+".sessions_by_day")
	if err != nil {
		return Session{}, false, fmt.Errorf("reading the latest session: %w", err)
	}
	if len(got) == 1 {
		cur = got[0]
	}
	if !s.oldDay(day) {
		return cur, false, nil
	}
	got, err = scanSessions(s.session.Query(fmt.Sprintf(`SELECT %s FROM %s.sessions
		WHERE app = ? AND visitor_id = ? AND session_start >= ? AND session_start < ? LIMIT 1`, sessionColumns, ks),
		app, visitor, day, day.Add(24*time.Hour)).WithContext(ctx).Iter(), ks+".sessions")
	if err != nil {
		return Session{}, false, fmt.Errorf("reading the latest session: %w", err)
	}
	if len(got) == 1 && got[0].Start.After(cur.Start) {
		return got[0], true, nil
	}
	return cur, false, nil
}

// oldDay reports whether the keyspace's events_by_visitor and sessions
// may hold rows of the day that the sessionizer must count: the keyspace
// was upgraded to the day tables (migration 015) on that day or later.
func (s *Sink) oldDay(day time.Time) bool {
	return !s.oldUntil.IsZero() && !day.After(Day(s.oldUntil))
}

func gocqlUUID(s string) gocql.UUID {
	id, _ := gocql.ParseUUID(s)
	return id
}
