// Package cassandra stores events in Apache Cassandra (gocql v2, the
// maintained apache/cassandra-gocql-driver; see docs/decisions/0002).
//
// Every write is an idempotent INSERT or UPDATE keyed by the event: a
// redelivered batch rewrites the same cells with the same values. Per
// event: one row in events_by_day, one in events_by_visitor (when the event
// has a visitor); per visitor in a batch: two first/last-touch updates of
// visitors. Statements run concurrently (bounded by cassandra.concurrency),
// token-aware, prepared, retried by the driver only because they are
// idempotent. Failures are reported per event (sinks.BatchError): a
// rejected value is permanent (dead letter), everything else is transient
// (redelivered with backoff while JetStream keeps the backlog).
package cassandra

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"golang.org/x/time/rate"
)

// Sink writes events to Cassandra.
type Sink struct {
	opts    Options
	log     zerolog.Logger
	session *gocql.Session
	buckets int
	limiter *rate.Limiter

	insertDay, insertVisitor, firstTouch, lastTouch string
}

// New returns a sink; nothing connects until Open.
func New(opts Options, log zerolog.Logger) *Sink {
	s := &Sink{opts: opts, log: log}
	if opts.RateLimitRows > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.RateLimitRows), max(int(opts.RateLimitRows), 1))
	}
	ks := opts.Keyspace
	s.insertDay = fmt.Sprintf("INSERT INTO %s.events_by_day (%s) VALUES (%s)", ks,
		columnList("app", "day", "bucket", "ts", "event_id", "visitor_id"), placeholders(6+len(eventColumns)))
	s.insertVisitor = fmt.Sprintf("INSERT INTO %s.events_by_visitor (%s) VALUES (%s)", ks,
		columnList("app", "visitor_id", "ts", "event_id"), placeholders(4+len(eventColumns)))
	s.firstTouch = fmt.Sprintf(`UPDATE %s.visitors USING TIMESTAMP ? SET first_seen = ?, first_event_id = ?, first_url = ?,
		first_referrer = ?, first_source = ?, first_medium = ?, first_campaign = ?, first_term = ?, first_content = ?
		WHERE app = ? AND visitor_id = ?`, ks)
	s.lastTouch = fmt.Sprintf(`UPDATE %s.visitors USING TIMESTAMP ? SET last_seen = ?, last_event_id = ?, last_url = ?, user_id = ?
		WHERE app = ? AND visitor_id = ?`, ks)
	return s
}

// Open connects, applies pending migrations when configured to, and reads
// the keyspace's bucket count.
func (s *Sink) Open(ctx context.Context) error {
	if s.opts.ApplySchema {
		if err := Apply(ctx, s.opts, s.log); err != nil {
			return err
		}
	}
	cluster, err := newCluster(s.opts, s.log)
	if err != nil {
		return err
	}
	if s.session, err = cluster.CreateSession(); err != nil {
		return fmt.Errorf("connecting to cassandra %v: %w", s.opts.Hosts, err)
	}
	var v string
	err = s.session.Query(fmt.Sprintf("SELECT value FROM %s.settings WHERE name = 'buckets'", s.opts.Keyspace)).WithContext(ctx).Scan(&v)
	if err != nil {
		s.session.Close()
		return fmt.Errorf("reading bucket count (has `spoor schema apply` run?): %w", err)
	}
	if _, err := fmt.Sscan(v, &s.buckets); err != nil || s.buckets <= 0 {
		s.session.Close()
		return fmt.Errorf("settings.buckets is %q, want a positive number", v)
	}
	return nil
}

// Bucket is the events_by_day bucket of an event id.
func Bucket(eventID string, buckets int) int16 {
	h := fnv.New32a()
	h.Write([]byte(eventID))
	return int16(h.Sum32() % uint32(buckets))
}

// Day is the events_by_day partition day of a receive time (UTC).
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Write stores events; see the package comment for what and how.
func (s *Sink) Write(ctx context.Context, events []*schema.Event) error {
	errs := make([]error, len(events))
	var mu sync.Mutex
	fail := func(i int, err error) {
		mu.Lock()
		if errs[i] == nil {
			errs[i] = err
		}
		mu.Unlock()
	}
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	run := func(idx []int, stmt string, args ...any) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.exec(ctx, stmt, args...); err != nil {
				for _, i := range idx {
					fail(i, err)
				}
			}
		}()
	}
	seenInBatch := map[string]bool{}
	for i, e := range events {
		id, err := gocql.ParseUUID(e.EventID)
		if err != nil {
			errs[i] = sinks.Permanent(fmt.Errorf("event_id %q is not a UUID", e.EventID))
			continue
		}
		if seenInBatch[e.EventID] {
			continue // the same event twice in one batch: one write covers both
		}
		seenInBatch[e.EventID] = true
		ts := e.ReceivedAt.UTC().Truncate(time.Millisecond)
		run([]int{i}, s.insertDay, rowArgs(e, e.App, Day(ts), Bucket(e.EventID, s.buckets), ts, id, bindPtr(&e.VisitorID))...)
		if e.VisitorID != "" {
			run([]int{i}, s.insertVisitor, rowArgs(e, e.App, e.VisitorID, ts, id)...)
		}
	}
	for _, v := range touches(events, errs) {
		first, last := events[v.first], events[v.last]
		run(v.idx, s.firstTouch, firstTouchTimestamp(first.ReceivedAt), first.ReceivedAt, uuidOf(first), bindPtr(&first.URL),
			bindPtr(&first.Referrer), bindPtr(&first.Source), bindPtr(&first.Medium), bindPtr(&first.Campaign), bindPtr(&first.Term),
			bindPtr(&first.Content), first.App, first.VisitorID)
		run(v.idx, s.lastTouch, last.ReceivedAt.UnixMicro(), last.ReceivedAt, uuidOf(last), bindPtr(&last.URL), bindPtr(&last.UserID),
			last.App, last.VisitorID)
	}
	wg.Wait()
	s.sessions(ctx, events, errs, fail)
	for _, err := range errs {
		if err != nil {
			return &sinks.BatchError{Errs: errs}
		}
	}
	return nil
}

// sessions recomputes the sessions of every visitor whose events of this
// batch are all stored; a failure fails those events (transient), so the
// redelivery recomputes them.
func (s *Sink) sessions(ctx context.Context, events []*schema.Event, errs []error, fail func(int, error)) {
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	for _, v := range touches(events, errs) {
		ok := true
		for _, i := range v.idx {
			ok = ok && errs[i] == nil
		}
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(v *touch) {
			defer func() { <-sem; wg.Done() }()
			first, last := events[v.first], events[v.last]
			if err := s.sessionize(ctx, first.App, first.VisitorID, first.ReceivedAt, last.ReceivedAt); err != nil {
				for _, i := range v.idx {
					fail(i, fmt.Errorf("sessions: %w", err))
				}
			}
		}(v)
	}
	wg.Wait()
}

func rowArgs(e *schema.Event, keys ...any) []any {
	args := make([]any, 0, len(keys)+len(eventColumns))
	args = append(args, keys...)
	for _, c := range eventColumns {
		args = append(args, c.bind(e))
	}
	return args
}

func uuidOf(e *schema.Event) gocql.UUID {
	id, _ := gocql.ParseUUID(e.EventID)
	return id
}

// firstTouchTimestamp makes earlier events win: the write timestamp falls
// as the event time rises.
func firstTouchTimestamp(t time.Time) int64 { return (1<<62 - 1) - t.UnixMicro() }

type touch struct {
	first, last int   // indexes of the earliest and latest event of the visitor
	idx         []int // every event of the visitor in the batch
}

// touches groups the batch's valid events by (app, visitor).
func touches(events []*schema.Event, errs []error) []*touch {
	by := map[[2]string]*touch{}
	var out []*touch
	for i, e := range events {
		if e.VisitorID == "" || errs[i] != nil {
			continue
		}
		k := [2]string{e.App, e.VisitorID}
		v := by[k]
		if v == nil {
			v = &touch{first: i, last: i}
			by[k] = v
			out = append(out, v)
		}
		v.idx = append(v.idx, i)
		if e.ReceivedAt.Before(events[v.first].ReceivedAt) {
			v.first = i
		}
		if !e.ReceivedAt.Before(events[v.last].ReceivedAt) {
			v.last = i
		}
	}
	return out
}

func (s *Sink) exec(ctx context.Context, stmt string, args ...any) error {
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
	}
	err := s.session.Query(stmt, args...).Idempotent(true).ExecContext(ctx)
	if err != nil {
		return classify(err)
	}
	return nil
}

// classify marks errors no retry can fix as permanent: the server refused
// the values themselves. A missing table or keyspace is an operator's
// problem and stays transient, so nothing is dead-lettered by mistake.
func classify(err error) error {
	var re gocql.RequestError
	if errors.As(err, &re) {
		switch re.Code() {
		case gocql.ErrCodeInvalid, gocql.ErrCodeSyntax:
			msg := re.Message()
			if !containsAny(msg, "unconfigured table", "does not exist", "Keyspace", "keyspace", "Undefined column") {
				return sinks.Permanent(fmt.Errorf("cassandra refused the write: %w", err))
			}
		}
	}
	return fmt.Errorf("writing to cassandra: %w", err)
}

// Close closes the session.
func (s *Sink) Close() error {
	if s.session != nil {
		s.session.Close()
	}
	return nil
}

var _ sinks.Sink = (*Sink)(nil)
