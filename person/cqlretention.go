package person

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// Sweep deletes, for every app with a retention, the rows its TTLs do not
// cover: those written before the retention was set or lowered. Each
// table's partitions are listed (SELECT DISTINCT, paged), and in each of an
// app with a retention the rows before its cutoff are counted and deleted
// (a whole day partition when the day is past, else a range of the
// clustering key). The visitors table loses its last touch when the
// visitor's last event is past; its first touch stays (its cells'
// timestamps fall as time rises: a tombstone there would hide every later
// first touch of the visitor), as do identity links and traits, the
// person, which forget removes.
func (s Cassandra) Sweep(ctx context.Context, r config.Retention, now time.Time) ([]Report, error) {
	if r.Off() {
		return nil, nil
	}
	reports := map[string]*Report{}
	report := func(app string) (*Report, time.Time) {
		cut := r.Cutoff(app, now)
		if cut.IsZero() {
			return nil, cut
		}
		if reports[app] == nil {
			reports[app] = &Report{RequestID: NewRequestID(), App: app, IDs: sweepIDs(r.Days(app), cut), Removed: map[string]int64{}}
		}
		return reports[app], cut
	}
	// Partitions by day: whole when the day is past, a range when the cutoff falls in it.
	for _, t := range []struct{ table, key, ts string }{{"events_by_day", "day, bucket", "ts"}, {"failed_events", "day", "received_at"},
		{"visitor_events", "day, vbucket", "ts"}, {"sessions_by_day", "day, vbucket", "session_start"}} {
		err := s.partitions(ctx, t.table, "app, "+t.key, func(keys []any) error {
			rep, cut := report(*keys[0].(*string))
			day := *keys[1].(*time.Time)
			if rep == nil || !day.Before(cut) {
				return nil
			}
			where, args := "app = ? AND day = ?", []any{rep.App, day}
			if _, bucket, ok := strings.Cut(t.key, ", "); ok {
				where, args = where+" AND "+bucket+" = ?", append(args, *keys[2].(*int16))
			}
			if !day.Add(24 * time.Hour).After(cut) {
				return s.del(ctx, rep, t.table, where, args...)
			}
			if strings.HasSuffix(t.key, "vbucket") {
				// Clustered by visitor first: a range of time is per visitor.
				return s.sweepVisitors(ctx, rep, t.table, t.ts, where, args, cut)
			}
			return s.del(ctx, rep, t.table, where+" AND "+t.ts+" < ?", append(args, cut)...)
		})
		if err != nil {
			return nil, err
		}
	}
	// The app's days before its cutoff's (app_days): readers need not walk them.
	err := s.partitions(ctx, "app_days", "app, kind", func(keys []any) error {
		rep, cut := report(*keys[0].(*string))
		if rep == nil {
			return nil
		}
		return s.del(ctx, rep, "app_days", "app = ? AND kind = ? AND day < ?", rep.App, *keys[1].(*string), cassandra.Day(cut))
	})
	if err != nil {
		return nil, err
	}
	// Partitions by person: the rows before the cutoff.
	for _, t := range []struct{ table, key, ts string }{{"events_by_visitor", "visitor_id", "ts"}, {"events_by_user", "user_id", "ts"},
		{"sessions", "visitor_id", "session_start"}, {"failed_by_person", "kind, id", "received_at"}} {
		err := s.partitions(ctx, t.table, "app, "+t.key, func(keys []any) error {
			rep, cut := report(*keys[0].(*string))
			if rep == nil {
				return nil
			}
			where, args := "app = ?", []any{rep.App}
			for i, c := range strings.Split(t.key, ", ") {
				where, args = where+" AND "+c+" = ?", append(args, *keys[i+1].(*string))
			}
			return s.del(ctx, rep, t.table, where+" AND "+t.ts+" < ?", append(args, cut)...)
		})
		if err != nil {
			return nil, err
		}
	}
	if err := s.sweepLastTouch(ctx, now, report); err != nil {
		return nil, err
	}
	var out []Report
	for _, rep := range reports {
		out = append(out, *rep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].App < out[j].App })
	for _, rep := range out {
		if err := s.exec(ctx, "INSERT INTO %s.forget_log (app, requested_at, request_id, requested_by, ids, removed) VALUES (?, ?, ?, ?, ?, ?)",
			rep.App, now, rep.RequestID, SweptBy, rep.IDs, rep.Removed); err != nil {
			return out, err
		}
	}
	return out, nil
}

// sweepLastTouch deletes the last touch of the visitors whose last event is
// past, at the present timestamp (a later visit writes over it).
func (s Cassandra) sweepLastTouch(ctx context.Context, now time.Time, report func(string) (*Report, time.Time)) error {
	iter := s.Session.Query(fmt.Sprintf("SELECT app, visitor_id, last_seen FROM %s.visitors", s.Keyspace)).WithContext(ctx).Iter()
	var app, visitor string
	var last time.Time
	for iter.Scan(&app, &visitor, &last) {
		rep, cut := report(app)
		if rep == nil || last.IsZero() || !last.Before(cut) {
			continue
		}
		if err := s.exec(ctx, "DELETE last_seen, last_event_id, last_url, user_id FROM %s.visitors USING TIMESTAMP ? WHERE app = ? AND visitor_id = ?",
			now.UnixMicro(), app, visitor); err != nil {
			return err
		}
		rep.Removed["visitors_last_touch"]++
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("sweeping: listing visitors: %w", err)
	}
	return nil
}

// sweepVisitors deletes the rows before cut of one partition of a day
// table (visitor_events, sessions_by_day; where selects the partition),
// visitor by visitor.
func (s Cassandra) sweepVisitors(ctx context.Context, rep *Report, table, ts, where string, args []any, cut time.Time) error {
	iter := s.Session.Query(fmt.Sprintf("SELECT visitor_id, %s FROM %s.%s WHERE %s", ts, s.Keyspace, table, where), args...).
		WithContext(ctx).PageSize(5000).Iter()
	var visitors []string
	var v string
	var at time.Time
	for iter.Scan(&v, &at) {
		if at.Before(cut) && (len(visitors) == 0 || visitors[len(visitors)-1] != v) {
			visitors = append(visitors, v)
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("sweeping: reading %s: %w", table, err)
	}
	for _, v := range visitors {
		if err := s.del(ctx, rep, table, where+" AND visitor_id = ? AND "+ts+" < ?", append(append([]any(nil), args...), v, cut)...); err != nil {
			return err
		}
	}
	return nil
}

// partitions calls fn with the key of every partition of table (keys: its
// partition key's columns, app first), paged.
func (s Cassandra) partitions(ctx context.Context, table, keys string, fn func(keys []any) error) error {
	cols := strings.Split(keys, ", ")
	vals := make([]any, len(cols))
	vals[0] = new(string)
	for i, c := range cols[1:] {
		switch c {
		case "day":
			vals[i+1] = new(time.Time)
		case "bucket", "vbucket":
			vals[i+1] = new(int16)
		default:
			vals[i+1] = new(string)
		}
	}
	iter := s.Session.Query(fmt.Sprintf("SELECT DISTINCT %s FROM %s.%s", keys, s.Keyspace, table)).WithContext(ctx).Iter()
	for iter.Scan(vals...) {
		if err := fn(vals); err != nil {
			iter.Close()
			return err
		}
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("sweeping: listing %s: %w", table, err)
	}
	return nil
}
