// Package cassandra stores events in Apache Cassandra (gocql v2, the
// maintained apache/cassandra-gocql-driver; see docs/decisions/0002).
//
// Every write is an idempotent INSERT or UPDATE keyed by the event: a
// redelivered batch rewrites the same cells with the same values. Per
// event: one row in events_by_day, one in visitor_events (when the event
// has a visitor: its keys and user id only, the rest is read from
// events_by_day; read.go), written with the other visitors of its
// (app, day, vbucket) partition (visitors.go, decision 0007), after the
// day's row in app_days (once per process and day, appdays.go); per
// visitor in a batch, with cassandra.sessions, its sessions in
// sessions_by_day, in the same mutation as its rows, or a marker for the
// sessionizer (direct.go, fill.go, pending.go). No first or last touch is
// written: they are the visitor's earliest and newest events
// (ReadVisitor, decision 0008). Statements run
// concurrently (bounded by cassandra.concurrency), token-aware, prepared,
// retried by the driver only because they are idempotent. Failures are reported per event (sinks.BatchError): a
// rejected value is permanent (dead letter), everything else is transient
// (redelivered with backoff while JetStream keeps the backlog).
package cassandra

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
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
	// oldUntil: when the keyspace was upgraded to the day tables (zero: it
	// was created with them); events_by_visitor and sessions were written
	// until then (settings.visitor_tables_until, migrate.go).
	oldUntil time.Time
	limiter  *rate.Limiter
	slot     time.Duration // sessions_pending slot width
	z        *sessionizer

	insertDay, insertVisitor     string
	insertUser, insertTrait      string
	insertSession, extendSession string
	forgotten                    sinks.Forgotten
	retention                    config.Retention
	expired                      atomic.Int64
	fromMarkers, fromEvents      atomic.Int64 // visitors' sessions brought up to date each way
	latest                       *latest
	days                         appDays
	held                         leases       // the sessionizer's, for direct session writes
	locks                        visitorLocks // one session writer per visitor at a time
	direct                       atomic.Int64 // visitor batches whose sessions were written with them
	filled, fillFailed           atomic.Int64 // visitors whose latest session fillLatest read; its failed reads
	marked                       marks
	slotsDone                    [pendingShards]atomic.Int64 // per shard, the last slot taken by this process
}

// SessionsDirect is how many visitor batches had their sessions written
// with their events (direct.go), needing no marker.
func (s *Sink) SessionsDirect() int64 { return s.direct.Load() }

// SessionsFilled is how many visitors' latest sessions were read for
// direct writes (fill.go), and how many of those reads failed.
func (s *Sink) SessionsFilled() (visitors, failed int64) { return s.filled.Load(), s.fillFailed.Load() }

// SessionWork is how many times a visitor's sessions were brought up to
// date from its markers alone (extend) and from its events (sessionize).
func (s *Sink) SessionWork() (fromMarkers, fromEvents int64) {
	return s.fromMarkers.Load(), s.fromEvents.Load()
}

// Retain keeps each app's events as long as r says (quality.retention_days):
// every row gets what is left of it as its TTL, and an event already past
// it is not written (counted by Expired). Call before Open.
func (s *Sink) Retain(r config.Retention) { s.retention = r }

// Expired is how many events arrived already past their app's retention
// and were not written.
func (s *Sink) Expired() int64 { return s.expired.Load() }

// New returns a sink; nothing connects until Open.
func New(opts Options, log zerolog.Logger) *Sink {
	s := &Sink{opts: opts, log: log, slot: defaultSlot}
	if opts.RateLimitRows > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.RateLimitRows), max(int(opts.RateLimitRows), 1))
	}
	ks := opts.Keyspace
	s.insertDay = fmt.Sprintf("INSERT INTO %s.events_by_day (%s) VALUES (%s) USING TTL ?", ks,
		columnList("app", "day", "bucket", "ts", "event_id", "visitor_id"), placeholders(6+len(eventColumns)))
	s.insertVisitor = fmt.Sprintf(`INSERT INTO %s.visitor_events (app, day, vbucket, visitor_id, ts, event_id, user_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?`, ks)
	s.insertSession = fmt.Sprintf(`INSERT INTO %s.sessions_by_day (app, day, vbucket, visitor_id, session_start, session_id, session_end,
		duration_ms, event_count, landing_url, referrer, source, medium, campaign, last_event_id, user_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`, ks)
	s.extendSession = fmt.Sprintf(`UPDATE %s.sessions_by_day USING TIMESTAMP ? SET session_end = ?, duration_ms = ?, event_count = ?,
		last_event_id = ?, user_id = ? WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id = ? AND session_start = ?`, ks)
	s.insertUser = userInsert(ks)
	s.insertTrait = fmt.Sprintf("INSERT INTO %s.user_traits (app, user_id, trait, set_at, value, event_id) VALUES (?, ?, ?, ?, ?, ?)", ks)
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
	cluster, err := NewCluster(s.opts, s.log)
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
	if err := s.readDayTables(ctx); err != nil {
		s.session.Close()
		return err
	}
	if s.opts.Sessions {
		if err := s.ensureProgress(ctx); err != nil {
			s.session.Close()
			return err
		}
		s.latest = newLatest(s.opts.SessionsCache)
		s.z = newSessionizer(s)
		go s.z.run()
	}
	return nil
}

// readDayTables checks that the keyspace has the day tables the sink
// writes, and reads when it was upgraded to them (oldUntil).
func (s *Sink) readDayTables(ctx context.Context) error {
	ks := s.opts.Keyspace
	var n int
	if err := s.session.Query(fmt.Sprintf("SELECT count(*) FROM %s.schema_migrations WHERE version = ?", ks), appDaysVersion).
		WithContext(ctx).Scan(&n); err != nil {
		return fmt.Errorf("reading schema_migrations: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("keyspace %s lacks migration %03d (app_days, and the day tables of %03d): run `spoor schema apply`", ks, appDaysVersion, dayTablesVersion)
	}
	var v string
	err := s.session.Query(fmt.Sprintf("SELECT value FROM %s.settings WHERE name = 'visitor_tables_until'", ks)).WithContext(ctx).Scan(&v)
	if errors.Is(err, gocql.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading settings.visitor_tables_until: %w", err)
	}
	if s.oldUntil, err = time.Parse(time.RFC3339, v); err != nil {
		return fmt.Errorf("settings.visitor_tables_until is %q: %w", v, err)
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

// Write stores events; see the package comment for what and how. The work
// is split into independent tasks, each an unlogged batch: the
// events_by_day rows of one (app, day, bucket); the visitor_events rows of
// one (app, day, vbucket) with the sessions_by_day rows their visitors'
// events extend or start (one mutation; visitors.go); an app's new days in
// app_days (appdays.go); per identity link (identity.go), its
// row in each direction; the session markers of the batch's visitors, per
// marker partition.
// Tasks run concurrently under cassandra.concurrency.
//
// Events of forgotten people (person.go) are dropped first: stored
// nowhere, reported as handled.
func (s *Sink) Write(ctx context.Context, events []*schema.Event) error {
	if err := s.refreshForgotten(ctx); err != nil {
		return err
	}
	if s.forgotten.Empty() && s.retention.Off() {
		return s.write(ctx, events)
	}
	var kept []*schema.Event
	var at []int
	gone, expired := 0, 0
	now := time.Now()
	for i, e := range events {
		switch {
		case s.forgotten.Has(e.App, e.VisitorID, e.UserID):
			gone++
		case s.retention.TTL(e.App, e.ReceivedAt, now) < 0:
			expired++
		default:
			kept, at = append(kept, e), append(at, i)
		}
	}
	if len(kept) == len(events) {
		return s.write(ctx, events)
	}
	if gone > 0 {
		s.log.Info().Int("events", gone).Msg("dropped events of forgotten people on arrival")
		s.forgotten.Drop(gone)
	}
	s.expired.Add(int64(expired))
	err := s.write(ctx, kept)
	if err == nil {
		return nil
	}
	errs := make([]error, len(events))
	for k, i := range at {
		errs[i] = err
		if be := (*sinks.BatchError)(nil); errors.As(err, &be) {
			errs[i] = be.Errs[k]
		}
	}
	return &sinks.BatchError{Errs: errs}
}

func (s *Sink) write(ctx context.Context, events []*schema.Event) error {
	if len(events) == 0 {
		return nil
	}
	errs := make([]error, len(events))
	var mu sync.Mutex
	fail := func(idx []int, err error) {
		mu.Lock()
		for _, i := range idx {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		mu.Unlock()
	}
	ids := make([]gocql.UUID, len(events))
	ttl := make([]int, len(events)) // Cassandra's TTL per event, 0: none (quality.retention_days)
	now := time.Now()
	byDay := map[dayKey][]int{}
	var dayOrder []dayKey
	seen := map[string]bool{}
	for i, e := range events {
		id, err := gocql.ParseUUID(e.EventID)
		if err != nil {
			errs[i] = sinks.Permanent(fmt.Errorf("event_id %q is not a UUID", e.EventID))
			continue
		}
		ids[i] = id
		ttl[i] = max(s.retention.TTL(e.App, e.ReceivedAt, now), 0)
		if seen[e.EventID] {
			continue // the same event twice in one batch: one events_by_day write covers both
		}
		seen[e.EventID] = true
		k := dayKey{e.App, Day(e.ReceivedAt), Bucket(e.EventID, s.buckets)}
		if _, ok := byDay[k]; !ok {
			dayOrder = append(dayOrder, k)
		}
		byDay[k] = append(byDay[k], i)
	}
	// The visitors of the events that parsed, taken before any task runs:
	// the tasks record their failures in errs concurrently.
	vs := touches(events, slices.Clone(errs))
	var directs sync.Map // [2]string{app, visitor} of the visitors whose sessions went with their events
	us := byUser(events, errs)
	ls := schema.Links(events, func(i int) bool { return errs[i] != nil })
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	spawn := func(fn func()) {
		sem <- struct{}{}
		wg.Add(1)
		go func() { defer func() { <-sem; wg.Done() }(); fn() }()
	}
	for _, k := range dayOrder {
		for _, chunk := range chunks(events, byDay[k]) {
			spawn(func() {
				b := s.newBatch()
				for _, i := range chunk {
					e := events[i]
					ts := e.ReceivedAt.UTC().Truncate(time.Millisecond)
					add(b, s.insertDay, append(rowArgs(e, e.App, k.day, k.bucket, ts, ids[i], bindPtr(&e.VisitorID)), ttl[i])...)
				}
				if err := s.execBatch(ctx, b, len(chunk)); err != nil {
					fail(chunk, err)
				}
			})
		}
	}
	for _, w := range s.days.missing(events, vs) {
		spawn(func() {
			if err := s.writeDays(ctx, w); err != nil {
				fail(w.idx, err)
			}
		})
	}
	for _, g := range s.partGroups(events, dayTouches(events, vs)) {
		spawn(func() {
			withSessions, err := s.writeVisitors(ctx, events, ids, ttl, g)
			for k, v := range g {
				if err != nil {
					fail(v.idx, err)
				}
				if withSessions[k] {
					e := events[v.first]
					directs.Store([2]string{e.App, e.VisitorID}, true)
				}
			}
		})
	}
	for _, idx := range us {
		spawn(func() {
			if err := s.writeUser(ctx, events, ids, ttl, idx); err != nil {
				fail(idx, err)
			}
		})
	}
	for _, l := range ls {
		spawn(func() {
			if err := s.writeLink(ctx, l); err != nil {
				fail(l.Idx, err)
			}
		})
	}
	wg.Wait()
	if s.opts.Sessions {
		// Markers only for what is stored: a marker tells the sessionizer
		// that its events can be counted (pending.go).
		marked := slices.DeleteFunc(touches(events, errs), func(v *touch) bool {
			e := events[v.first]
			_, done := directs.Load([2]string{e.App, e.VisitorID})
			return done
		})
		for _, g := range markGroups(events, marked) {
			spawn(func() {
				if err := s.mark(ctx, events, ids, g); err != nil {
					for _, v := range g {
						fail(v.idx, err)
					}
				}
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return &sinks.BatchError{Errs: errs}
		}
	}
	return nil
}

type dayKey struct {
	app    string
	day    time.Time
	bucket int16
}

// Batches stay well under the server's batch_size_fail_threshold (50 KiB
// by default) and small enough to spread load.
const (
	maxBatchRows  = 16
	maxBatchBytes = 32 << 10
)

// chunks splits idx into groups of at most maxBatchRows events and about
// maxBatchBytes of encoded event.
func chunks(events []*schema.Event, idx []int) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for _, i := range idx {
		n := len(events[i].Raw)
		if n == 0 {
			n = 1024
		}
		if len(cur) > 0 && (len(cur) == maxBatchRows || size+n > maxBatchBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func (s *Sink) newBatch() *gocql.Batch { return s.session.Batch(gocql.UnloggedBatch) }

// add appends an idempotent entry (Batch.Query would mark it not
// idempotent, and the driver would then never retry the batch).
func add(b *gocql.Batch, stmt string, args ...any) {
	b.Entries = append(b.Entries, gocql.BatchEntry{Stmt: stmt, Args: args, Idempotent: true})
}

// execBatch sends a batch; a single statement goes as a plain query.
func (s *Sink) execBatch(ctx context.Context, b *gocql.Batch, rows int) error {
	if s.limiter != nil {
		if err := s.limiter.WaitN(ctx, min(rows, s.limiter.Burst())); err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
	}
	return s.send(ctx, b)
}

// send executes a batch, a single statement as a plain query.
func (s *Sink) send(ctx context.Context, b *gocql.Batch) error {
	var err error
	if len(b.Entries) == 1 {
		err = s.session.Query(b.Entries[0].Stmt, b.Entries[0].Args...).Idempotent(true).ExecContext(ctx)
	} else {
		err = b.ExecContext(ctx)
	}
	if err != nil {
		return classify(err)
	}
	return nil
}

func rowArgs(e *schema.Event, keys ...any) []any {
	args := make([]any, 0, len(keys)+len(eventColumns))
	args = append(args, keys...)
	for _, c := range eventColumns {
		args = append(args, c.bind(e))
	}
	return args
}

// firstTouchTimestamp makes earlier events win: the write timestamp falls
// as the event time rises.
func firstTouchTimestamp(t time.Time) int64 { return (1<<62 - 1) - t.UnixMicro() }

type touch struct {
	first, last int   // indexes of the earliest and latest event of the visitor
	idx         []int // every event of the visitor in the batch
	split       bool  // one day of a visitor with events of other days in the batch (dayTouches)
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
	if err == nil {
		return nil
	}
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

// Close stops the sessionizer (giving its shards back) and closes the
// session.
func (s *Sink) Close() error {
	if s.z != nil {
		close(s.z.stop)
		<-s.z.done
		s.z = nil
	}
	if s.session != nil {
		s.session.Close()
	}
	return nil
}

var _ sinks.Sink = (*Sink)(nil)
