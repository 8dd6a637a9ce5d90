package cassandra

// Reading a visitor's rows of the day tables (decision 0007): visitor_events
// and sessions_by_day are keyed (app, day, vbucket), so a visitor's history
// is one slice of one partition per day. Its days are the app's days
// (app_days, written by the sink before a day's first visitor_events rows,
// decision 0008) and, for a visitor whose first touch was written before
// migration 016 (visitors.first_seen, never expired), every day from that
// one to tomorrow (the collectors' clocks may run ahead of the reader's).
// Readers take the union with events_by_visitor and sessions, which hold
// the rows written before.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// daysPerRead is how many day partitions one read names (day IN ?).
const daysPerRead = 31

// VisitorBucket is a visitor's partition bucket in the day tables.
func VisitorBucket(app, visitor string, buckets int) int16 {
	return int16(visitorHash(app, visitor) % uint32(buckets))
}

// VisitorDays returns the days of the day tables that can hold a
// visitor's rows with a time in [from, before) (zero times: unbounded),
// newest first, in lists of at most daysPerRead, and the visitor's bucket.
// The days are the app's (app_days), so most hold none of the visitor's
// rows: VisitorRowDays returns only those that do.
func VisitorDays(ctx context.Context, s *gocql.Session, keyspace, app, visitor string, from, before time.Time) ([][]time.Time, int16, error) {
	buckets, err := readBuckets(ctx, s, keyspace)
	if err != nil {
		return nil, 0, err
	}
	var lo, hi time.Time // the days asked for, inclusive (zero: unbounded)
	if !from.IsZero() {
		lo = Day(from)
	}
	if !before.IsZero() {
		hi = Day(before.Add(-time.Millisecond))
	}
	in := func(d time.Time) bool { return (lo.IsZero() || !d.Before(lo)) && (hi.IsZero() || !d.After(hi)) }
	set := map[time.Time]bool{}
	iter := s.Query(fmt.Sprintf("SELECT day FROM %s.app_days WHERE app = ? AND kind = 'visitor'", keyspace), app).WithContext(ctx).PageSize(5000).Iter()
	var d time.Time
	for iter.Scan(&d) {
		if d = Day(d); in(d) {
			set[d] = true
		}
	}
	if err := iter.Close(); err != nil {
		return nil, 0, fmt.Errorf("reading %s.app_days: %w", keyspace, err)
	}
	var first time.Time
	err = s.Query(fmt.Sprintf("SELECT first_seen FROM %s.visitors WHERE app = ? AND visitor_id = ?", keyspace), app, visitor).
		WithContext(ctx).Scan(&first)
	if err != nil && !errors.Is(err, gocql.ErrNotFound) {
		return nil, 0, fmt.Errorf("reading visitor %s's first day: %w", visitor, err)
	}
	if !first.IsZero() { // a first touch of before migration 016: its days run on to tomorrow
		for d := Day(first); !d.After(Day(time.Now().Add(24 * time.Hour))); d = d.AddDate(0, 0, 1) {
			if in(d) {
				set[d] = true
			}
		}
	}
	return dayLists(set), VisitorBucket(app, visitor, buckets), nil
}

// VisitorRowDays returns the days, among VisitorDays', on which the
// visitor has rows in visitor_events or sessions_by_day, newest first, in
// lists of at most daysPerRead, and the visitor's bucket.
func VisitorRowDays(ctx context.Context, s *gocql.Session, keyspace, app, visitor string) ([][]time.Time, int16, error) {
	lists, vb, err := VisitorDays(ctx, s, keyspace, app, visitor, time.Time{}, time.Time{})
	if err != nil {
		return nil, 0, err
	}
	set := map[time.Time]bool{}
	for _, ds := range lists {
		for _, t := range []string{"visitor_events", "sessions_by_day"} {
			iter := s.Query(fmt.Sprintf("SELECT day FROM %s.%s WHERE app = ? AND day IN ? AND vbucket = ? AND visitor_id = ? PER PARTITION LIMIT 1",
				keyspace, t), app, ds, vb, visitor).WithContext(ctx).Iter()
			var d time.Time
			for iter.Scan(&d) {
				set[Day(d)] = true
			}
			if err := iter.Close(); err != nil {
				return nil, 0, fmt.Errorf("reading %s.%s: %w", keyspace, t, err)
			}
		}
	}
	return dayLists(set), vb, nil
}

// dayLists returns the days of set newest first, in lists of at most
// daysPerRead.
func dayLists(set map[time.Time]bool) [][]time.Time {
	days := make([]time.Time, 0, len(set))
	for d := range set {
		days = append(days, d)
	}
	sort.Slice(days, func(a, b int) bool { return days[a].After(days[b]) })
	return slices.Collect(slices.Chunk(days, daysPerRead))
}

// readVisitorEvents reads up to limit (0: all) of a visitor's
// visitor_events rows in [from, before), newest first, as slim events:
// keys and user id.
func readVisitorEvents(ctx context.Context, s *gocql.Session, keyspace, app, visitor string, from, before time.Time, limit int) ([]*schema.Event, error) {
	days, vb, err := VisitorDays(ctx, s, keyspace, app, visitor, from, before)
	if err != nil {
		return nil, err
	}
	q, bounds := tsBounds(fmt.Sprintf("SELECT ts, event_id, user_id FROM %s.visitor_events WHERE app = ? AND day IN ? AND vbucket = ? AND visitor_id = ?",
		keyspace), nil, from, before)
	if limit > 0 {
		// Each day's slice is newest first: the newest limit of the list
		// are among each day's newest limit.
		q += fmt.Sprintf(" PER PARTITION LIMIT %d", limit)
	}
	var out []*schema.Event
	for _, ds := range days {
		iter := s.Query(q, append([]any{app, ds, vb, visitor}, bounds...)...).WithContext(ctx).PageSize(5000).Iter()
		var got []*schema.Event
		var ts time.Time
		var id gocql.UUID
		var uid string
		for iter.Scan(&ts, &id, &uid) {
			got = append(got, &schema.Event{App: app, VisitorID: visitor, ReceivedAt: ts.UTC(), EventID: id.String(), UserID: uid})
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("reading %s.visitor_events: %w", keyspace, err)
		}
		newestFirst(got) // one list's partitions come back in token order
		out = append(out, got...)
		if limit > 0 && len(out) >= limit {
			return out[:limit], nil
		}
	}
	return out, nil
}

// newestFirst sorts events as the visitor tables cluster them.
func newestFirst(evs []*schema.Event) {
	sort.SliceStable(evs, func(a, b int) bool { return newer(evs[a], evs[b]) })
}

// newer orders events by time, newest first, then by id.
func newer(a, b *schema.Event) bool {
	if !a.ReceivedAt.Equal(b.ReceivedAt) {
		return a.ReceivedAt.After(b.ReceivedAt)
	}
	return a.EventID > b.EventID
}

// readSessionDays reads a visitor's sessions_by_day rows, newest first.
func readSessionDays(ctx context.Context, s *gocql.Session, keyspace, app, visitor string) ([]Session, error) {
	days, vb, err := VisitorDays(ctx, s, keyspace, app, visitor, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	var out []Session
	for _, ds := range days {
		got, err := scanSessions(s.Query(fmt.Sprintf(`SELECT %s FROM %s.sessions_by_day
			WHERE app = ? AND day IN ? AND vbucket = ? AND visitor_id = ?`, sessionColumns, keyspace), app, ds, vb, visitor).
			WithContext(ctx).Iter(), keyspace+".sessions_by_day")
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
