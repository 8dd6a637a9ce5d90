package person

import (
	"context"
	"fmt"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// Forget deletes one person's data from Cassandra (docs/identity.md):
//
//  1. resolve the person; a shared visitor is not theirs, only its events
//     inside their login windows are;
//  2. record their ids in `forgotten`: from then on the sinks drop their
//     events on arrival, including those still in JetStream;
//  3. wait grace, for every sink to reload that set
//     (sinks.ForgottenRefresh) and finish a write it had begun;
//  4. delete their rows in every table that holds them: events_by_day,
//     events_by_visitor, visitor_events, events_by_user by key, their
//     visitors, sessions and sessions_by_day, identity links and traits;
//  5. record the request (who, when, which ids, the counts; never the
//     data) in forget_log.
//
// A repeat finds nothing left and records a no-op.
func (s Cassandra) Forget(ctx context.Context, req Request) (Report, error) {
	app, kind, id := req.App, req.Kind, req.ID
	p, err := s.Resolve(ctx, app, kind, id)
	if err != nil {
		return Report{}, err
	}
	if req.RequestID == "" {
		req.RequestID = NewRequestID()
	}
	r := Report{RequestID: req.RequestID, App: app, Removed: map[string]int64{}, Cut: p.Cut}
	now := time.Now().UTC()
	var whole []Visitor // visitors forgotten whole
	r.IDs, whole = plan(p, kind, id)
	for _, fid := range r.IDs {
		k, v := splitID(fid)
		if err := s.exec(ctx, "INSERT INTO %s.forgotten (app, kind, id, at, request_id) VALUES (?, ?, ?, ?, ?)", app, k, v, now, r.RequestID); err != nil {
			return r, err
		}
	}
	select {
	case <-time.After(req.Grace):
	case <-ctx.Done():
		return r, ctx.Err()
	}

	// Every event of the person, with the keys of its rows.
	events := map[string]*schema.Event{}
	for _, pt := range p.parts(time.Time{}) {
		evs, err := cassandra.ReadPartition(ctx, s.Session, s.Keyspace, pt.table, app, pt.id, pt.from, pt.to, 0)
		if err != nil {
			return r, err
		}
		for _, e := range evs {
			events[e.EventID] = e
		}
	}
	buckets, err := s.buckets(ctx)
	if err != nil {
		return r, err
	}
	// The day tables' days of each visitor of the person, read before its
	// visitors row (their first day) goes.
	visitorDays := map[string][][]time.Time{}
	for _, v := range append(append([]Visitor(nil), whole...), p.Visitors...) {
		if _, ok := visitorDays[v.ID]; ok {
			continue
		}
		days, _, err := cassandra.VisitorRowDays(ctx, s.Session, s.Keyspace, app, v.ID)
		if err != nil {
			return r, err
		}
		visitorDays[v.ID] = days
	}
	isWhole := map[string]bool{}
	for _, v := range whole {
		isWhole[v.ID] = true
	}
	for _, e := range events {
		id, err := gocql.ParseUUID(e.EventID)
		if err != nil {
			continue
		}
		ts := e.ReceivedAt.UTC().Truncate(time.Millisecond)
		if err := s.del(ctx, &r, "events_by_day", "app = ? AND day = ? AND bucket = ? AND ts = ? AND event_id = ?",
			app, cassandra.Day(ts), cassandra.Bucket(e.EventID, buckets), ts, id); err != nil {
			return r, err
		}
		if e.VisitorID != "" {
			if err := s.del(ctx, &r, "events_by_visitor", "app = ? AND visitor_id = ? AND ts = ? AND event_id = ?", app, e.VisitorID, ts, id); err != nil {
				return r, err
			}
			if !isWhole[e.VisitorID] {
				if err := s.del(ctx, &r, "visitor_events", "app = ? AND day = ? AND vbucket = ? AND visitor_id = ? AND ts = ? AND event_id = ?",
					app, cassandra.Day(ts), cassandra.VisitorBucket(app, e.VisitorID, buckets), e.VisitorID, ts, id); err != nil {
					return r, err
				}
			}
		}
		if e.UserID != "" {
			if err := s.del(ctx, &r, "events_by_user", "app = ? AND user_id = ? AND ts = ? AND event_id = ?", app, e.UserID, ts, id); err != nil {
				return r, err
			}
		}
	}
	for _, v := range whole {
		// The day tables: one range tombstone per day and table.
		vb := cassandra.VisitorBucket(app, v.ID, buckets)
		for _, ds := range visitorDays[v.ID] {
			for _, t := range []string{"visitor_events", "sessions_by_day"} {
				if err := s.del(ctx, &r, t, "app = ? AND day IN ? AND vbucket = ? AND visitor_id = ?", app, ds, vb, v.ID); err != nil {
					return r, err
				}
			}
		}
		for _, t := range []string{"visitors", "sessions"} {
			if err := s.delPartition(ctx, &r, t, "visitor_id", app, v.ID); err != nil {
				return r, err
			}
		}
	}
	for _, v := range p.Visitors {
		for _, w := range v.Windows {
			if v.Shared {
				if err := s.del(ctx, &r, "sessions", "app = ? AND visitor_id = ? AND session_start >= ? AND session_start <= ?", app, v.ID, w.From, w.To); err != nil {
					return r, err
				}
				if err := s.delSessionDays(ctx, &r, app, v.ID, cassandra.VisitorBucket(app, v.ID, buckets), visitorDays[v.ID], w.From, w.To); err != nil {
					return r, err
				}
			}
		}
	}
	for _, l := range p.Links {
		if err := s.del(ctx, &r, "identity_by_visitor", "app = ? AND visitor_id = ? AND user_id = ?", app, l.Visitor, l.User); err != nil {
			return r, err
		}
		if err := s.del(ctx, &r, "identity_by_user", "app = ? AND user_id = ? AND visitor_id = ?", app, l.User, l.Visitor); err != nil {
			return r, err
		}
	}
	for _, u := range p.Users {
		if err := s.delPartition(ctx, &r, "user_traits", "user_id", app, u); err != nil {
			return r, err
		}
	}
	for _, fid := range r.IDs {
		if err := s.forgetFailed(ctx, &r, app, fid); err != nil {
			return r, err
		}
	}
	sort.Strings(r.IDs)
	err = s.exec(ctx, "INSERT INTO %s.forget_log (app, requested_at, request_id, requested_by, ids, removed) VALUES (?, ?, ?, ?, ?, ?)",
		app, now, r.RequestID, req.By, r.IDs, r.Removed)
	return r, err
}

// forgetFailed deletes the failed events (failed_events) that carry one
// forgotten id, found by failed_by_person, then that index partition.
func (s Cassandra) forgetFailed(ctx context.Context, r *Report, app, fid string) error {
	kind, id := splitID(fid)
	iter := s.Session.Query(fmt.Sprintf("SELECT received_at, event_id, day FROM %s.failed_by_person WHERE app = ? AND kind = ? AND id = ?", s.Keyspace),
		app, kind, id).WithContext(ctx).Iter()
	type row struct {
		at  time.Time
		id  gocql.UUID
		day time.Time
	}
	var rows []row
	var x row
	for iter.Scan(&x.at, &x.id, &x.day) {
		rows = append(rows, x)
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("forgetting: reading failed_by_person: %w", err)
	}
	for _, x := range rows {
		if err := s.del(ctx, r, "failed_events", "app = ? AND day = ? AND received_at = ? AND event_id = ?", app, x.day, x.at, x.id); err != nil {
			return err
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := s.exec(ctx, "DELETE FROM %s.failed_by_person WHERE app = ? AND kind = ? AND id = ?", app, kind, id); err != nil {
		return err
	}
	return nil
}

func splitID(s string) (kind, id string) {
	for i := range s {
		if s[i] == ':' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

func (s Cassandra) exec(ctx context.Context, stmt string, args ...any) error {
	q := fmt.Sprintf(stmt, s.Keyspace)
	if err := s.Session.Query(q, args...).WithContext(ctx).ExecContext(ctx); err != nil {
		return fmt.Errorf("deleting: %s: %w", q, err)
	}
	return nil
}

// firstTouchTables hold cells written with a timestamp that falls as the
// event time rises (the earliest wins: sinks/cassandra), far in the
// future of any clock. Only a delete at the top timestamp shadows them; it
// also shadows later writes to the same key, which for a forgotten person
// is what is wanted (the sinks drop their events anyway).
var firstTouchTables = map[string]bool{"visitors": true, "identity_by_visitor": true, "identity_by_user": true}

const maxTimestamp = 1<<62 - 1

// del deletes one row by its full key, counting it if it was there.
func (s Cassandra) del(ctx context.Context, r *Report, table, where string, args ...any) error {
	var n int64
	q := fmt.Sprintf("SELECT count(*) FROM %s.%s WHERE %s", s.Keyspace, table, where)
	if err := s.Session.Query(q, args...).WithContext(ctx).Scan(&n); err != nil {
		return fmt.Errorf("counting %s: %w", table, err)
	}
	if n == 0 {
		return nil
	}
	using := ""
	if firstTouchTables[table] {
		using = fmt.Sprintf(" USING TIMESTAMP %d", maxTimestamp)
	}
	if err := s.exec(ctx, "DELETE FROM %s."+table+using+" WHERE "+where, args...); err != nil {
		return err
	}
	r.Removed[table] += n
	return nil
}

// delSessionDays deletes a visitor's sessions_by_day rows that start in
// [from, to], on the days of days (VisitorRowDays) that the span covers.
func (s Cassandra) delSessionDays(ctx context.Context, r *Report, app, visitor string, vb int16, days [][]time.Time, from, to time.Time) error {
	var in []time.Time
	for _, ds := range days {
		for _, d := range ds {
			if !d.Before(cassandra.Day(from)) && !d.After(to) {
				in = append(in, d)
			}
		}
	}
	if len(in) == 0 {
		return nil
	}
	return s.del(ctx, r, "sessions_by_day", "app = ? AND day IN ? AND vbucket = ? AND visitor_id = ? AND session_start >= ? AND session_start <= ?",
		app, in, vb, visitor, from, to)
}

// delPartition deletes a whole (app, key) partition, counting its rows.
func (s Cassandra) delPartition(ctx context.Context, r *Report, table, key, app, id string) error {
	return s.del(ctx, r, table, "app = ? AND "+key+" = ?", app, id)
}

func (s Cassandra) buckets(ctx context.Context) (int, error) {
	var v string
	if err := s.Session.Query(fmt.Sprintf("SELECT value FROM %s.settings WHERE name = 'buckets'", s.Keyspace)).WithContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the bucket count: %w", err)
	}
	var n int
	if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
		return 0, fmt.Errorf("settings.buckets is %q", v)
	}
	return n, nil
}

// ReadLog reads an app's forget requests, newest first.
func (s Cassandra) ReadLog(ctx context.Context, app string) ([]Log, error) {
	iter := s.Session.Query(fmt.Sprintf("SELECT requested_at, request_id, requested_by, ids, removed FROM %s.forget_log WHERE app = ?", s.Keyspace), app).
		WithContext(ctx).Iter()
	var out []Log
	var l Log
	for iter.Scan(&l.RequestedAt, &l.RequestID, &l.By, &l.IDs, &l.Removed) {
		l.RequestedAt = l.RequestedAt.UTC()
		out = append(out, l)
		l = Log{}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading forget_log: %w", err)
	}
	return out, nil
}
