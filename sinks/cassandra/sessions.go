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
}

// sessionize recomputes the visitor's sessions that the events in
// [minTs, maxTs] can touch. Existing session rows say how far back and
// forward the affected sessions reach; the visitor's events in that range
// are split at every gap longer than session_gap; the new rows are written
// and the rows of sessions that merged are deleted. Writes carry the time
// of the read as their timestamp, so when two sink processes recompute the
// same visitor at once, the later view wins. Every statement is idempotent.
func (s *Sink) sessionize(ctx context.Context, app, visitor string, minTs, maxTs time.Time) error {
	gap := s.opts.SessionGap
	readAt := time.Now().UnixMicro()
	lo, hi := minTs, maxTs
	var oldStarts []time.Time
	iter := s.session.Query(fmt.Sprintf(`SELECT session_start, session_end FROM %s.sessions
		WHERE app = ? AND visitor_id = ? AND session_start <= ?`, s.opts.Keyspace), app, visitor, maxTs.Add(gap)).
		WithContext(ctx).PageSize(100).Iter()
	var start, end time.Time
	for iter.Scan(&start, &end) {
		if end.Before(minTs.Add(-gap)) {
			break // this and every older session are untouched
		}
		oldStarts = append(oldStarts, start)
		if start.Before(lo) {
			lo = start
		}
		if end.After(hi) {
			hi = end
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("reading sessions: %w", err)
	}

	var evs []sessionEvent
	iter = s.session.Query(fmt.Sprintf(`SELECT ts, event_id, url, referrer, source, medium, campaign, user_id
		FROM %s.events_by_visitor WHERE app = ? AND visitor_id = ? AND ts >= ? AND ts <= ?`, s.opts.Keyspace),
		app, visitor, lo.Add(-gap), hi.Add(gap)).WithContext(ctx).PageSize(1000).Iter()
	var e sessionEvent
	for iter.Scan(&e.ts, &e.id, &e.url, &e.referrer, &e.source, &e.medium, &e.campaign, &e.uid) {
		evs = append(evs, e)
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("reading visitor events: %w", err)
	}
	sessions := split(evs, gap)

	keep := map[time.Time]bool{}
	b := s.newBatch() // one partition: the rows and the deletes go together
	b.WithTimestamp(readAt)
	for _, ss := range sessions {
		if ss.End.Before(minTs.Add(-gap)) && !contains(oldStarts, ss.Start) {
			continue // an older session only partly read: not ours to rewrite
		}
		keep[ss.Start] = true
		id, _ := gocql.ParseUUID(ss.ID)
		last, _ := gocql.ParseUUID(ss.LastEventID)
		add(b, fmt.Sprintf(`INSERT INTO %s.sessions (app, visitor_id, session_start, session_id, session_end,
			duration_ms, event_count, landing_url, referrer, source, medium, campaign, last_event_id, user_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.opts.Keyspace),
			app, visitor, ss.Start, id, ss.End, ss.End.Sub(ss.Start).Milliseconds(), ss.EventCount,
			unsetEmpty(ss.LandingURL), unsetEmpty(ss.Referrer), unsetEmpty(ss.Source), unsetEmpty(ss.Medium),
			unsetEmpty(ss.Campaign), last, unsetEmpty(ss.UserID))
	}
	for _, st := range oldStarts {
		if !keep[st] {
			add(b, fmt.Sprintf(`DELETE FROM %s.sessions WHERE app = ? AND visitor_id = ? AND session_start = ?`, s.opts.Keyspace),
				app, visitor, st)
		}
	}
	if len(b.Entries) == 0 {
		return nil
	}
	if err := b.ExecContext(ctx); err != nil {
		return classify(err)
	}
	return nil
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

func contains(ts []time.Time, t time.Time) bool {
	for _, x := range ts {
		if x.Equal(t) {
			return true
		}
	}
	return false
}

func unsetEmpty(s string) any {
	if s == "" {
		return gocql.UnsetValue
	}
	return s
}

// ReadSessions returns a visitor's sessions, newest first.
func ReadSessions(ctx context.Context, s *gocql.Session, keyspace, app, visitor string) ([]Session, error) {
	iter := s.Query(fmt.Sprintf(`SELECT session_start, session_end, session_id, last_event_id, event_count, landing_url,
		referrer, source, medium, campaign, user_id FROM %s.sessions WHERE app = ? AND visitor_id = ?`, keyspace), app, visitor).
		WithContext(ctx).Iter()
	var out []Session
	var ss Session
	var id, last gocql.UUID
	for iter.Scan(&ss.Start, &ss.End, &id, &last, &ss.EventCount, &ss.LandingURL, &ss.Referrer, &ss.Source, &ss.Medium, &ss.Campaign, &ss.UserID) {
		ss.ID, ss.LastEventID = id.String(), last.String()
		ss.Start, ss.End = ss.Start.UTC(), ss.End.UTC()
		out = append(out, ss)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading sessions: %w", err)
	}
	return out, nil
}
