package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// ReadTable reads every event of an event table (events_by_day,
// visitor_events or events_by_visitor) back into Events: tests, exports and tools. It scans
// the whole table; analytics should use Spark.
func ReadTable(ctx context.Context, s *gocql.Session, keyspace, table string) ([]*schema.Event, error) {
	keys := "app, event_id, ts, visitor_id"
	if table == "visitor_events" {
		iter := s.Query(fmt.Sprintf("SELECT app, visitor_id, ts, event_id, user_id FROM %s.visitor_events", keyspace)).WithContext(ctx).PageSize(1000).Iter()
		var evs []*schema.Event
		var slim []bool
		e := &schema.Event{}
		var id gocql.UUID
		for iter.Scan(&e.App, &e.VisitorID, &e.ReceivedAt, &id, &e.UserID) {
			e.EventID, e.ReceivedAt = id.String(), e.ReceivedAt.UTC()
			evs, slim = append(evs, e), append(slim, true)
			e = &schema.Event{}
		}
		if err := iter.Close(); err != nil {
			return nil, fmt.Errorf("reading %s.visitor_events: %w", keyspace, err)
		}
		return evs, complete(ctx, s, keyspace, evs, slim)
	}
	if table == "events_by_visitor" {
		q := fmt.Sprintf("SELECT %s, slim FROM %s.%s", columnList(keys), keyspace, table)
		return readVisitorRows(ctx, s, keyspace, s.Query(q).WithContext(ctx).PageSize(1000).Iter())
	}
	q := fmt.Sprintf("SELECT %s FROM %s.%s", columnList(keys), keyspace, table)
	return scanEvents(s.Query(q).WithContext(ctx).PageSize(1000).Iter(), keyspace+"."+table)
}

// readVisitorRows reads events_by_visitor rows (selected with slim last)
// and completes the slim ones from events_by_day (complete).
func readVisitorRows(ctx context.Context, s *gocql.Session, keyspace string, iter *gocql.Iter) ([]*schema.Event, error) {
	evs, slim, err := scan(iter, keyspace+".events_by_visitor", true)
	if err != nil {
		return nil, err
	}
	return evs, complete(ctx, s, keyspace, evs, slim)
}

// complete replaces each slim event (keys and user id only: a slim
// events_by_visitor row, migration 014, or a visitor_events row) by its
// events_by_day row: the same keys, day and bucket derived from ts and
// event_id, completeReads of them at a time. A slim event whose
// events_by_day row is gone stays as it is.
func complete(ctx context.Context, s *gocql.Session, keyspace string, evs []*schema.Event, slim []bool) error {
	var todo []int
	for i := range evs {
		if slim[i] {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	buckets, err := readBuckets(ctx, s, keyspace)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errs := make(chan error, completeReads)
	for range min(completeReads, len(todo)) {
		go func() {
			var first error
			for i := range next {
				if first != nil {
					continue
				}
				e := evs[i]
				id, _ := gocql.ParseUUID(e.EventID)
				full, err := readDayRow(ctx, s, keyspace, buckets, e.App, e.ReceivedAt, id)
				if err != nil {
					first = err
					cancel()
				} else if full != nil {
					evs[i] = full
				}
			}
			errs <- first
		}()
	}
	for _, i := range todo {
		next <- i
	}
	close(next)
	for range min(completeReads, len(todo)) {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// completeReads is how many events_by_day reads complete runs at once.
const completeReads = 16

// readDayRow reads one event's events_by_day row by its keys, or nil when
// it is gone. An id sent in another spelling than the canonical one was
// bucketed as sent, so when its bucket has no row every bucket is read.
func readDayRow(ctx context.Context, s *gocql.Session, keyspace string, buckets int, app string, ts time.Time, id gocql.UUID) (*schema.Event, error) {
	q := fmt.Sprintf("SELECT %s FROM %s.events_by_day WHERE app = ? AND day = ? AND bucket = ? AND ts = ? AND event_id = ?",
		columnList("app, event_id, ts, visitor_id"), keyspace)
	full, err := scanEvents(s.Query(q, app, Day(ts), Bucket(id.String(), buckets), ts, id).WithContext(ctx).Iter(), keyspace+".events_by_day")
	if err != nil {
		return nil, err
	}
	if len(full) == 0 {
		all := make([]int16, buckets)
		for b := range all {
			all[b] = int16(b)
		}
		full, err = scanEvents(s.Query(strings.Replace(q, "bucket = ?", "bucket IN ?", 1), app, Day(ts), all, ts, id).
			WithContext(ctx).Iter(), keyspace+".events_by_day")
		if err != nil {
			return nil, err
		}
	}
	if len(full) != 1 {
		return nil, nil
	}
	return full[0], nil
}

func readBuckets(ctx context.Context, s *gocql.Session, keyspace string) (int, error) {
	var v string
	if err := s.Query(fmt.Sprintf("SELECT value FROM %s.settings WHERE name = 'buckets'", keyspace)).WithContext(ctx).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the bucket count: %w", err)
	}
	var buckets int
	if _, err := fmt.Sscan(v, &buckets); err != nil || buckets <= 0 {
		return 0, fmt.Errorf("settings.buckets is %q", v)
	}
	return buckets, nil
}

// ReadDay reads one app's events of one day from events_by_day by its
// partition keys: each (app, day, bucket) partition in turn, never a table
// scan. The bucket count comes from the keyspace's settings.
func ReadDay(ctx context.Context, s *gocql.Session, keyspace, app string, day time.Time) ([]*schema.Event, error) {
	buckets, err := readBuckets(ctx, s, keyspace)
	if err != nil {
		return nil, err
	}
	keys := "app, event_id, ts, visitor_id"
	q := fmt.Sprintf("SELECT %s FROM %s.events_by_day WHERE app = ? AND day = ? AND bucket = ?", columnList(keys), keyspace)
	var out []*schema.Event
	for b := range buckets {
		evs, err := scanEvents(s.Query(q, app, Day(day), int16(b)).WithContext(ctx).PageSize(5000).Iter(), keyspace+".events_by_day")
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func scanEvents(iter *gocql.Iter, table string) ([]*schema.Event, error) {
	evs, _, err := scan(iter, table, false)
	return evs, err
}

// scan reads rows of the event columns, and with withSlim one more column,
// slim, last (events_by_visitor).
func scan(iter *gocql.Iter, table string, withSlim bool) ([]*schema.Event, []bool, error) {
	var out []*schema.Event
	var slims []bool
	for {
		e := &schema.Event{}
		var id gocql.UUID
		var ts time.Time
		var slim bool
		dest := []any{&e.App, &id, &ts, &e.VisitorID}
		for _, c := range eventColumns {
			dest = append(dest, c.dest(e))
		}
		if withSlim {
			dest = append(dest, &slim)
		}
		if !iter.Scan(dest...) {
			break
		}
		slims = append(slims, slim)
		e.EventID, e.ReceivedAt = id.String(), ts.UTC()
		if e.ClientTime != nil {
			t := e.ClientTime.UTC()
			e.ClientTime = &t
		}
		out = append(out, e)
	}
	if err := iter.Close(); err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", table, err)
	}
	return out, slims, nil
}

// Visitor is what is known of one visitor: the first touch (the visitors
// table) and the last (its newest event).
type Visitor struct {
	FirstSeen, LastSeen        time.Time
	FirstEventID, LastEventID  string
	FirstURL, FirstReferrer    string
	FirstSource, FirstCampaign string
	LastURL, UserID            string
}

// ReadVisitor reads one visitor's first and last touch: its earliest and
// its newest event (completed from events_by_day; the sink stores neither
// touch since decision 0008), or the first touch of its visitors row
// where one was written before and is earlier. UserID is the user of the
// visitor's most recently seen identity link. A visitors row written
// before keeps its last-touch columns, which are used when the visitor
// has no events left. A visitor with neither is gocql.ErrNotFound.
func ReadVisitor(ctx context.Context, s *gocql.Session, keyspace, app, visitorID string) (Visitor, error) {
	var v Visitor
	var first, last gocql.UUID
	err := s.Query(fmt.Sprintf(`SELECT first_seen, first_event_id, first_url, first_referrer, first_source, first_campaign,
		last_seen, last_event_id, last_url, user_id FROM %s.visitors WHERE app = ? AND visitor_id = ?`, keyspace), app, visitorID).
		WithContext(ctx).Scan(&v.FirstSeen, &first, &v.FirstURL, &v.FirstReferrer, &v.FirstSource, &v.FirstCampaign,
		&v.LastSeen, &last, &v.LastURL, &v.UserID)
	row := err == nil
	if err != nil && !errors.Is(err, gocql.ErrNotFound) {
		return v, fmt.Errorf("reading visitor %s: %w", visitorID, err)
	}
	if row {
		v.FirstEventID, v.LastEventID = first.String(), last.String()
		v.FirstSeen, v.LastSeen = v.FirstSeen.UTC(), v.LastSeen.UTC()
	}
	earliest, err := earliestEvent(ctx, s, keyspace, app, visitorID)
	if err != nil {
		return v, err
	}
	if earliest == nil && !row {
		return v, fmt.Errorf("reading visitor %s: %w", visitorID, gocql.ErrNotFound)
	}
	if e := earliest; e != nil && (v.FirstSeen.IsZero() || e.ReceivedAt.Before(v.FirstSeen)) {
		v.FirstSeen, v.FirstEventID, v.FirstURL, v.FirstReferrer, v.FirstSource, v.FirstCampaign =
			e.ReceivedAt, e.EventID, e.URL, e.Referrer, e.Source, e.Campaign
	}
	newest, err := ReadPartition(ctx, s, keyspace, "events_by_visitor", app, visitorID, time.Time{}, time.Time{}, 1)
	if err != nil {
		return v, err
	}
	if len(newest) == 1 {
		e := newest[0]
		v.LastSeen, v.LastEventID, v.LastURL = e.ReceivedAt, e.EventID, e.URL
	}
	links, err := ReadLinks(ctx, s, keyspace, app, "visitor", visitorID)
	if err != nil {
		return v, err
	}
	var seen time.Time
	for _, l := range links {
		if l.LastSeen.After(seen) || (l.LastSeen.Equal(seen) && l.User > v.UserID) {
			seen, v.UserID = l.LastSeen, l.User
		}
	}
	return v, nil
}

// earliestEvent is a visitor's earliest event in the day tables,
// complete, or nil.
func earliestEvent(ctx context.Context, s *gocql.Session, keyspace, app, visitor string) (*schema.Event, error) {
	days, _, err := VisitorRowDays(ctx, s, keyspace, app, visitor)
	if err != nil || len(days) == 0 {
		return nil, err
	}
	oldest := days[len(days)-1]
	day := oldest[len(oldest)-1]
	evs, err := readVisitorEvents(ctx, s, keyspace, app, visitor, day, day.Add(24*time.Hour), 0)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	one := evs[len(evs)-1:] // newest first
	if err := complete(ctx, s, keyspace, one, []bool{true}); err != nil {
		return nil, err
	}
	return one[0], nil
}

// ReadPartition reads up to limit events (0: all) of one person,
// newest first, received at or after from and before before (zero times:
// unbounded): with table "events_by_user" those of a user (one
// partition), with "events_by_visitor" those of a visitor, from
// visitor_events (day by day, VisitorDays) and events_by_visitor (written
// before it) together, an event in both once. Slim rows are completed from
// events_by_day (complete).
func ReadPartition(ctx context.Context, s *gocql.Session, keyspace, table, app, id string, from, before time.Time, limit int) ([]*schema.Event, error) {
	key := "visitor_id"
	if table == "events_by_user" {
		key = "user_id"
	} else if table != "events_by_visitor" {
		return nil, fmt.Errorf("ReadPartition: %s is not a partition-per-person table", table)
	}
	cols := columnList("app, event_id, ts, visitor_id")
	if table == "events_by_visitor" {
		cols += ", slim"
	}
	q, args := tsBounds(fmt.Sprintf("SELECT %s FROM %s.%s WHERE app = ? AND %s = ?", cols, keyspace, table, key), []any{app, id}, from, before)
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	iter := s.Query(q, args...).WithContext(ctx).PageSize(5000).Iter()
	if table == "events_by_user" {
		return scanEvents(iter, keyspace+"."+table)
	}
	old, oldSlim, err := scan(iter, keyspace+".events_by_visitor", true)
	if err != nil {
		return nil, err
	}
	evs, err := readVisitorEvents(ctx, s, keyspace, app, id, from, before, limit)
	if err != nil {
		return nil, err
	}
	slim := make([]bool, len(evs), len(evs)+len(old))
	for i := range slim {
		slim[i] = true
	}
	seen := make(map[string]bool, len(evs))
	for _, e := range evs {
		seen[e.EventID] = true
	}
	for i, e := range old {
		if !seen[e.EventID] {
			evs, slim = append(evs, e), append(slim, oldSlim[i])
		}
	}
	order := make([]int, len(evs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return newer(evs[order[a]], evs[order[b]]) })
	if limit > 0 && len(order) > limit {
		order = order[:limit]
	}
	outEvs, outSlim := make([]*schema.Event, len(order)), make([]bool, len(order))
	for k, i := range order {
		outEvs[k], outSlim[k] = evs[i], slim[i]
	}
	return outEvs, complete(ctx, s, keyspace, outEvs, outSlim)
}

// StoredAt reports whether a visitor has an event received at or after
// since and, for its newest, when the sink stored it: the write time of
// its events_by_day row (the canary's measure).
func StoredAt(ctx context.Context, s *gocql.Session, keyspace, app, visitor string, since time.Time) (time.Time, bool, error) {
	evs, err := ReadPartition(ctx, s, keyspace, "events_by_visitor", app, visitor, since, time.Time{}, 1)
	if err != nil || len(evs) == 0 {
		return time.Time{}, false, err
	}
	buckets, err := readBuckets(ctx, s, keyspace)
	if err != nil {
		return time.Time{}, false, err
	}
	e := evs[0]
	id, _ := gocql.ParseUUID(e.EventID)
	var micros *int64
	err = s.Query(fmt.Sprintf("SELECT writetime(endpoint) FROM %s.events_by_day WHERE app = ? AND day = ? AND bucket = ? AND ts = ? AND event_id = ?", keyspace),
		app, Day(e.ReceivedAt), Bucket(e.EventID, buckets), e.ReceivedAt, id).WithContext(ctx).Scan(&micros)
	if errors.Is(err, gocql.ErrNotFound) || (err == nil && micros == nil) {
		return time.Time{}, false, nil // its events_by_day row is not stored yet, or gone
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading when %s's event was stored: %w", visitor, err)
	}
	return time.UnixMicro(*micros), true, nil
}

// tsBounds adds to q and its args the bounds ts >= from and ts < before,
// each when not zero.
func tsBounds(q string, args []any, from, before time.Time) (string, []any) {
	if !from.IsZero() {
		q += " AND ts >= ?"
		args = append(args, from)
	}
	if !before.IsZero() {
		q += " AND ts < ?"
		args = append(args, before)
	}
	return q, args
}
