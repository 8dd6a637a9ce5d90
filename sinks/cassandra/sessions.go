package cassandra

import (
	"context"
	"fmt"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Session is one row of the sessions table.
type Session struct {
	Start, End      time.Time
	ID, LastEventID string
	EventCount      int
	LandingURL      string
	Referrer        string
	Source, Medium  string
	Campaign        string
	UserID          string
}

type sessionEvent struct {
	ts                                           time.Time
	id                                           gocql.UUID
	url, referrer, source, medium, campaign, uid string
	slim                                         bool // no landing fields stored with it (read.go)
}

// sessionize recomputes the visitor's sessions that the events in
// [minTs, maxTs] can touch, day by day: sessions end at midnight UTC, so
// a day's sessions follow from that day's events alone (sessionizeDay).
func (s *Sink) sessionize(ctx context.Context, app, visitor string, minTs, maxTs time.Time) error {
	for d := Day(minTs); !d.After(Day(maxTs)); d = d.AddDate(0, 0, 1) {
		lo, hi := maxTime(minTs, d), maxTs
		if end := d.Add(24*time.Hour - time.Millisecond); hi.After(end) {
			hi = end
		}
		if err := s.sessionizeDay(ctx, app, visitor, d, lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// sessionizeDay recomputes the sessions of one day that the events in
// [minTs, maxTs] can touch, with one read: the visitor's events of the
// day (visitor_events) newest first from the cut down to the first gap
// longer than session_gap below minTs. The cut is the later of maxTs and
// the end of the day's latest stored session: every stored event up to it
// is counted in sessions already or marked in this slot, while a stored
// event after it is not counted yet and has its marker in a later slot
// (markers are read slot by slot, in order), where extend will count it.
// Reading further would count it twice, or send that slot back here, and
// the next, for as long as the visitor stays busy. The events read are
// split at every gap, the session rows starting in their span are
// replaced (a range delete at time t, the new rows at t+1) in one
// single-partition batch. Timestamps are the time of the read, so when two
// sink processes recompute the same visitor at once, the later view wins.
// Idempotent. On a day when the old tables were still written (oldDay),
// their events count and their sessions in the span are replaced too.
func (s *Sink) sessionizeDay(ctx context.Context, app, visitor string, day, minTs, maxTs time.Time) error {
	gap := s.opts.SessionGap
	shard := pendingShard(app, visitor)
	cut := maxTs
	t, ok := s.latest.get(shard, app, visitor)
	ok = ok && t.known
	// all: the day's last session will be the visitor's latest of all.
	// keep: what latest holds is of a later day, and stays.
	all, keep := false, false
	switch {
	case ok && Day(t.start).Equal(day):
		cut, all = maxTime(cut, t.end), t.all
	case ok && Day(t.start).Before(day) && t.all:
		all = true // sessions end at midnight: the day has none (t is the latest of all)
	default:
		keep = ok && Day(t.start).After(day)
		stored, _, err := s.latestSession(ctx, app, visitor, day)
		if err != nil {
			return err
		}
		cut = maxTime(cut, stored.End)
		all = !keep && day.Equal(Day(time.Now())) // no session of a later day
	}
	if !keep {
		s.latest.forget(shard, app, visitor) // what extend remembered is rewritten below
	}
	readTime := time.Now()
	readAt := readTime.UnixMicro()
	evs, err := s.dayEvents(ctx, app, visitor, day, minTs, cut)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	sessions := split(evs, gap) // sorts evs ascending
	if err := s.landings(ctx, app, sessions, evs); err != nil {
		return err
	}
	b := s.newBatch() // one partition (two on an old day): the delete and the rows go together
	add(b, fmt.Sprintf(`DELETE FROM %s.sessions_by_day USING TIMESTAMP ? WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id = ?
		AND session_start >= ? AND session_start <= ?`, s.opts.Keyspace),
		readAt, app, day, VisitorBucket(app, visitor, s.buckets), visitor, evs[0].ts, evs[len(evs)-1].ts)
	if s.oldDay(day) {
		add(b, fmt.Sprintf(`DELETE FROM %s.sessions USING TIMESTAMP ? WHERE app = ? AND visitor_id = ? AND session_start >= ? AND session_start <= ?`,
			s.opts.Keyspace), readAt, app, visitor, evs[0].ts, evs[len(evs)-1].ts)
	}
	for _, ss := range sessions {
		s.addSession(b, app, visitor, ss, readAt+1)
	}
	if err := b.ExecContext(ctx); err != nil {
		return classify(err)
	}
	if !keep {
		last := sessions[len(sessions)-1] // the day's latest: no stored session of the day starts after the events read
		s.latest.put(shard, app, visitor, tail{known: true, all: all, start: last.Start, end: last.End, count: last.EventCount,
			uid: last.UserID, readAt: readTime, from: evs[0].ts, to: evs[len(evs)-1].ts})
	}
	return nil
}

// dayEvents reads a visitor's events of one day up to cut, newest first,
// down to the first gap longer than session_gap below minTs; on an old day
// (oldDay) together with its events_by_visitor rows of the day.
func (s *Sink) dayEvents(ctx context.Context, app, visitor string, day, minTs, cut time.Time) ([]sessionEvent, error) {
	gap := s.opts.SessionGap
	var evs []sessionEvent // newest first
	back := s.session.Query(fmt.Sprintf(`SELECT ts, event_id, user_id FROM %s.visitor_events
		WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id = ? AND ts <= ?`, s.opts.Keyspace),
		app, day, VisitorBucket(app, visitor, s.buckets), visitor, cut).WithContext(ctx).PageSize(200).Iter()
	old := s.oldDay(day)
	e := sessionEvent{slim: true}
	for back.Scan(&e.ts, &e.id, &e.uid) {
		if n := len(evs); !old && n > 0 && e.ts.Before(minTs.Add(-gap)) && evs[n-1].ts.Sub(e.ts) > gap {
			break // an earlier session the batch cannot touch
		}
		evs = append(evs, e)
	}
	if err := back.Close(); err != nil {
		return nil, fmt.Errorf("reading visitor events: %w", err)
	}
	if !old {
		return evs, nil
	}
	seen := make(map[gocql.UUID]bool, len(evs))
	for _, e := range evs {
		seen[e.id] = true
	}
	iter := s.session.Query(fmt.Sprintf(`SELECT ts, event_id, url, referrer, source, medium, campaign, user_id, slim
		FROM %s.events_by_visitor WHERE app = ? AND visitor_id = ? AND ts >= ? AND ts <= ?`, s.opts.Keyspace),
		app, visitor, day, cut).WithContext(ctx).PageSize(200).Iter()
	for iter.Scan(&e.ts, &e.id, &e.url, &e.referrer, &e.source, &e.medium, &e.campaign, &e.uid, &e.slim) {
		if !seen[e.id] {
			evs = append(evs, e)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading visitor events: %w", err)
	}
	sort.Slice(evs, func(a, b int) bool { return evs[a].ts.After(evs[b].ts) })
	for n := 1; n < len(evs); n++ {
		if evs[n].ts.Before(minTs.Add(-gap)) && evs[n-1].ts.Sub(evs[n].ts) > gap {
			return evs[:n], nil // an earlier session the batch cannot touch
		}
	}
	return evs, nil
}

// landings fills in the landing fields of each session whose first event
// was read from a row without them (a slim row holds the keys and user id
// only) from that event's events_by_day row: one read per session, and
// only when a session is recomputed from its events.
func (s *Sink) landings(ctx context.Context, app string, sessions []Session, evs []sessionEvent) error {
	bare := map[string]time.Time{}
	for _, e := range evs {
		if e.slim && e.url == "" && e.referrer == "" && e.source == "" && e.medium == "" && e.campaign == "" {
			bare[e.id.String()] = e.ts
		}
	}
	for i := range sessions {
		ss := &sessions[i]
		ts, ok := bare[ss.ID]
		if !ok {
			continue
		}
		id, _ := gocql.ParseUUID(ss.ID)
		full, err := readDayRow(ctx, s.session, s.opts.Keyspace, s.buckets, app, ts, id)
		if err != nil {
			return fmt.Errorf("reading a session's landing: %w", err)
		}
		if full != nil {
			ss.LandingURL, ss.Referrer, ss.Source, ss.Medium, ss.Campaign = full.URL, full.Referrer, full.Source, full.Medium, full.Campaign
		}
	}
	return nil
}

// addSession adds one whole sessions_by_day row, written at the given time.
func (s *Sink) addSession(b *gocql.Batch, app, visitor string, ss Session, at int64) {
	add(b, s.insertSession, app, Day(ss.Start), VisitorBucket(app, visitor, s.buckets), visitor, ss.Start, gocqlUUID(ss.ID), ss.End,
		ss.End.Sub(ss.Start).Milliseconds(), ss.EventCount, unsetEmpty(ss.LandingURL), unsetEmpty(ss.Referrer), unsetEmpty(ss.Source),
		unsetEmpty(ss.Medium), unsetEmpty(ss.Campaign), gocqlUUID(ss.LastEventID), unsetEmpty(ss.UserID), at)
}

// addExtend adds the update of a stored session that ss extends.
func (s *Sink) addExtend(b *gocql.Batch, app, visitor string, ss Session, at int64) {
	add(b, s.extendSession, at, ss.End, ss.End.Sub(ss.Start).Milliseconds(), ss.EventCount, gocqlUUID(ss.LastEventID),
		unsetEmpty(ss.UserID), app, Day(ss.Start), VisitorBucket(app, visitor, s.buckets), visitor, ss.Start)
}

// split cuts time-ordered events into sessions at gaps longer than gap.
func split(evs []sessionEvent, gap time.Duration) []Session {
	sort.Slice(evs, func(a, b int) bool { return evs[a].ts.Before(evs[b].ts) })
	var out []Session
	for i, e := range evs {
		if i == 0 || e.ts.Sub(evs[i-1].ts) > gap {
			out = append(out, Session{Start: e.ts, ID: e.id.String(), LandingURL: e.url, Referrer: e.referrer,
				Source: e.source, Medium: e.medium, Campaign: e.campaign})
		}
		ss := &out[len(out)-1]
		ss.End, ss.LastEventID = e.ts, e.id.String()
		ss.EventCount++
		if e.uid != "" {
			ss.UserID = e.uid
		}
	}
	return out
}

func unsetEmpty(s string) any {
	if s == "" {
		return gocql.UnsetValue
	}
	return s
}

// sessionColumns are the columns scanSessions reads, of sessions and
// sessions_by_day alike.
const sessionColumns = `session_start, session_end, session_id, last_event_id, event_count, landing_url,
	referrer, source, medium, campaign, user_id`

// ReadSessions returns a visitor's sessions, newest first: those of
// sessions_by_day and those of sessions (written before it), a session
// in both once, as sessions_by_day has it.
func ReadSessions(ctx context.Context, s *gocql.Session, keyspace, app, visitor string) ([]Session, error) {
	out, err := readSessionDays(ctx, s, keyspace, app, visitor)
	if err != nil {
		return nil, err
	}
	old, err := scanSessions(s.Query(fmt.Sprintf(`SELECT %s FROM %s.sessions WHERE app = ? AND visitor_id = ?`, sessionColumns, keyspace),
		app, visitor).WithContext(ctx).Iter(), keyspace+".sessions")
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return old, nil
	}
	have := make(map[time.Time]bool, len(out))
	for _, ss := range out {
		have[ss.Start] = true
	}
	for _, ss := range old {
		if !have[ss.Start] {
			out = append(out, ss)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Start.After(out[b].Start) })
	return out, nil
}

// scanSessions reads rows of sessionColumns.
func scanSessions(iter *gocql.Iter, table string) ([]Session, error) {
	var out []Session
	var ss Session
	var id, last gocql.UUID
	for iter.Scan(&ss.Start, &ss.End, &id, &last, &ss.EventCount, &ss.LandingURL, &ss.Referrer, &ss.Source, &ss.Medium, &ss.Campaign, &ss.UserID) {
		ss.ID, ss.LastEventID = id.String(), last.String()
		ss.Start, ss.End = ss.Start.UTC(), ss.End.UTC()
		out = append(out, ss)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", table, err)
	}
	return out, nil
}
