package cassandra

// Deferred sessionization (schema/cql/004_sessions_pending.cql).
//
// Write marks each visitor of a batch in sessions_pending (a write, no
// read) under the slot of the time the marker is written. Every slot
// seconds the sessionizer takes the shards it holds a lease on, and for
// every slot that ended more than sessions_delay ago recomputes each marked
// visitor once (sessionize), then deletes the slot's partition and moves
// the shard's next_slot on (written after a slot with markers, and past
// empty ones at least every lease period). A visitor busy for minutes costs one session
// recomputation per slot instead of one per batch.
//
// No marker is missed: a marker whose write returned later than half the
// delay after its slot ended is written again under the current slot, so
// every marker the sink relied on was in Cassandra before its slot was
// read. A crash between recomputing and deleting repeats the recomputation,
// which is idempotent.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"sync/atomic"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
	"github.com/spoor-dev/spoor/schema"
)

const (
	pendingShards = 16
	// defaultSlot is the slot width; stored slot numbers depend on it.
	defaultSlot   = 5 * time.Second
	leaseFor      = 30 * time.Second
	maxMarkerRows = 64
)

func pendingShard(app, visitor string) int16 { return int16(visitorHash(app, visitor) % pendingShards) }

// visitorHash is FNV-1a of app, a zero byte and visitor: what the marker
// shards, the visitor locks and the day tables' vbuckets are split by.
func visitorHash(app, visitor string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(app))
	h.Write([]byte{0})
	h.Write([]byte(visitor))
	return h.Sum32()
}

func (s *Sink) slotOf(t time.Time) int64 { return t.UnixNano() / int64(s.slot) }

func (s *Sink) slotEnd(slot int64) time.Time { return time.Unix(0, (slot+1)*int64(s.slot)) }

// markGroups groups the batch's visitors by marker shard; each group is
// written as single-partition batches.
func markGroups(events []*schema.Event, vs []*touch) [][]*touch {
	var by [pendingShards][]*touch
	for _, v := range vs {
		e := events[v.first]
		sh := pendingShard(e.App, e.VisitorID)
		by[sh] = append(by[sh], v)
	}
	var out [][]*touch
	for _, g := range by {
		for len(g) > 0 {
			n := min(len(g), maxMarkerRows)
			out = append(out, g[:n])
			g = g[n:]
		}
	}
	return out
}

// mark writes the markers of one group (one shard), again under a newer
// slot while a write returns too late for the slot it was meant for. Each
// marker carries what the visitor's stored events of the batch add to a
// session (marker).
func (s *Sink) mark(ctx context.Context, events []*schema.Event, ids []gocql.UUID, group []*touch) error {
	if s.limiter != nil {
		if err := s.limiter.WaitN(ctx, min(len(group), s.limiter.Burst())); err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
	}
	first := events[group[0].first]
	shard := pendingShard(first.App, first.VisitorID)
	stmt := fmt.Sprintf(`INSERT INTO %s.sessions_pending (shard, slot, app, visitor_id, min_ts, max_ts, events, first_event_id,
		landing_url, referrer, source, medium, campaign, last_event_id, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.opts.Keyspace)
	ms := make([]marker, len(group))
	for i, v := range group {
		ms[i] = markerOf(events, ids, v)
	}
	for {
		slot := s.slotOf(time.Now())
		b := s.newBatch()
		for i, v := range group {
			m, e := &ms[i], events[v.first]
			add(b, stmt, shard, slot, e.App, e.VisitorID, m.min, m.max, m.events, m.firstID, unsetEmpty(m.url), unsetEmpty(m.referrer),
				unsetEmpty(m.source), unsetEmpty(m.medium), unsetEmpty(m.campaign), m.lastID, unsetEmpty(m.uid))
		}
		if err := s.send(ctx, b); err != nil {
			return fmt.Errorf("marking visitors for sessions: %w", err)
		}
		if time.Until(time.Unix(0, s.held.until[shard].Load())) > 0 { // only the holder takes them
			for i, v := range group {
				e := events[v.first]
				s.marked.put(shard, e.App, e.VisitorID, slot, ms[i])
			}
		}
		if time.Since(s.slotEnd(slot)) <= s.opts.SessionsDelay/2 {
			return nil
		}
	}
}

// marker is one row of sessions_pending: a visitor's stored events of one
// batch, as a session sees them.
type marker struct {
	min, max                                time.Time
	events                                  int // distinct events; 0 in a marker older than migration 013
	firstID, lastID                         gocql.UUID
	url, referrer, source, medium, campaign string // the first event's landing fields
	uid                                     string // the latest user id of the events
}

func markerOf(events []*schema.Event, ids []gocql.UUID, v *touch) marker {
	lo, hi := events[v.first], events[v.last]
	m := marker{min: lo.ReceivedAt.UTC().Truncate(time.Millisecond), max: hi.ReceivedAt.UTC().Truncate(time.Millisecond),
		firstID: ids[v.first], lastID: ids[v.last], url: lo.URL, referrer: lo.Referrer, source: lo.Source, medium: lo.Medium,
		campaign: lo.Campaign}
	seen := make(map[gocql.UUID]bool, len(v.idx))
	var uidAt time.Time
	for _, i := range v.idx {
		if !seen[ids[i]] {
			seen[ids[i]] = true
			m.events++
		}
		if e := events[i]; e.UserID != "" && (m.uid == "" || !e.ReceivedAt.Before(uidAt)) {
			m.uid, uidAt = e.UserID, e.ReceivedAt
		}
	}
	return m
}

type visitorRange struct {
	app, visitor string
	min, max     time.Time
	markers      []marker
}

// recomputeSlot brings the sessions of every visitor marked in one slot
// of one shard up to date, and reports whether there were any: from the
// markers alone where they extend the visitor's latest session (extend),
// else from the visitor's events (sessionize).
func (s *Sink) recomputeSlot(ctx context.Context, shard int16, slot int64) (bool, error) {
	iter := s.session.Query(fmt.Sprintf(`SELECT app, visitor_id, min_ts, max_ts, events, first_event_id, landing_url, referrer,
		source, medium, campaign, last_event_id, user_id FROM %s.sessions_pending WHERE shard = ? AND slot = ?`,
		s.opts.Keyspace), shard, slot).WithContext(ctx).PageSize(1000).Iter()
	by := map[[2]string]*visitorRange{}
	var order []*visitorRange
	var app, visitor string
	var m marker
	for iter.Scan(&app, &visitor, &m.min, &m.max, &m.events, &m.firstID, &m.url, &m.referrer, &m.source, &m.medium, &m.campaign,
		&m.lastID, &m.uid) {
		k := [2]string{app, visitor}
		r := by[k]
		if r == nil {
			r = &visitorRange{app: app, visitor: visitor, min: m.min, max: m.max}
			by[k] = r
			order = append(order, r)
		}
		r.min, r.max = minTime(r.min, m.min), maxTime(r.max, m.max)
		r.markers = append(r.markers, m)
		m = marker{}
	}
	if err := iter.Close(); err != nil {
		return false, fmt.Errorf("reading pending sessions of shard %d slot %d: %w", shard, slot, err)
	}
	if len(order) == 0 {
		return false, nil
	}
	sem := make(chan struct{}, s.opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, r := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			vl := s.locks.of(r.app, r.visitor) // no direct write of the visitor meanwhile
			vl.Lock()
			defer vl.Unlock()
			ms := s.marked.settle(shard, r.app, r.visitor, slot, r.markers)
			if len(ms) == 0 {
				return // every one counted by a direct write
			}
			done, err := s.extend(ctx, r.app, r.visitor, slot, ms)
			if err == nil && done {
				s.fromMarkers.Add(1)
			}
			if err == nil && !done {
				if err = s.sessionize(ctx, r.app, r.visitor, r.min, r.max); err == nil {
					s.fromEvents.Add(1)
				}
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("visitor %s/%s: %w", r.app, r.visitor, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return true, fmt.Errorf("recomputing sessions (%d of %d visitors failed): %w", len(errs), len(order), errors.Join(errs[:1]...))
	}
	return true, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// processShard recomputes the slots from..to of a shard, deleting each
// partition once done, and returns the next slot to do and whether any
// of them held markers.
func (s *Sink) processShard(ctx context.Context, shard int16, from, to int64) (int64, bool, error) {
	found := false
	for slot := from; slot <= to; slot++ {
		any, err := s.recomputeSlot(ctx, shard, slot)
		if err != nil {
			return slot, found, err
		}
		if any {
			found = true
			err := s.session.Query(fmt.Sprintf(`DELETE FROM %s.sessions_pending WHERE shard = ? AND slot = ?`, s.opts.Keyspace),
				shard, slot).WithContext(ctx).Idempotent(true).Exec()
			if err != nil {
				return slot, found, fmt.Errorf("deleting pending sessions of shard %d slot %d: %w", shard, slot, err)
			}
		}
		if slot > s.slotsDone[shard].Load() {
			s.slotsDone[shard].Store(slot) // only this shard's holder, or FlushSessions, gets here
		}
	}
	return to + 1, found, nil
}

// FlushSessions recomputes, now, every visitor marked in any slot up to the
// current one, whatever the delay and the leases. For tests, benchmarks
// and operators, while no Write is running.
func (s *Sink) FlushSessions(ctx context.Context) error {
	next, err := s.readProgress(ctx)
	if err != nil {
		return err
	}
	now := s.slotOf(time.Now())
	for shard, from := range next {
		if _, _, err := s.processShard(ctx, int16(shard), from, now); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) readProgress(ctx context.Context) ([pendingShards]int64, error) {
	var next [pendingShards]int64
	iter := s.session.Query(fmt.Sprintf(`SELECT shard, next_slot FROM %s.sessions_progress`, s.opts.Keyspace)).WithContext(ctx).Iter()
	var shard int16
	var slot int64
	for iter.Scan(&shard, &slot) {
		if shard >= 0 && shard < pendingShards {
			next[shard] = slot
		}
	}
	if err := iter.Close(); err != nil {
		return next, fmt.Errorf("reading sessions progress: %w", err)
	}
	return next, nil
}

// ensureProgress creates the shards' progress rows that do not exist yet,
// starting at the current slot (no marker can be older).
func (s *Sink) ensureProgress(ctx context.Context) error {
	have := map[int16]bool{}
	iter := s.session.Query(fmt.Sprintf(`SELECT shard FROM %s.sessions_progress`, s.opts.Keyspace)).WithContext(ctx).Iter()
	var shard int16
	for iter.Scan(&shard) {
		have[shard] = true
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("reading sessions progress: %w", err)
	}
	for sh := int16(0); sh < pendingShards; sh++ {
		if have[sh] {
			continue
		}
		_, err := s.session.Query(fmt.Sprintf(`INSERT INTO %s.sessions_progress (shard, next_slot, owner, lease_until) VALUES (?, ?, '', ?) IF NOT EXISTS`,
			s.opts.Keyspace), sh, s.slotOf(time.Now()), time.UnixMilli(0)).WithContext(ctx).MapScanCAS(map[string]any{})
		if err != nil {
			return fmt.Errorf("creating sessions progress of shard %d: %w", sh, err)
		}
	}
	return nil
}

// sessionizer runs the rounds in the background while the sink is open.
type sessionizer struct {
	s     *Sink
	owner string
	held  map[int16]*lease
	stop  chan struct{}
	done  chan struct{}
	cas   atomic.Int64 // lightweight transactions sent to take or renew leases
}

type lease struct {
	until time.Time
	next  int64     // the next slot to recompute
	saved time.Time // when next was last written to sessions_progress
}

func newSessionizer(s *Sink) *sessionizer {
	host, _ := os.Hostname()
	return &sessionizer{s: s, owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8]),
		held: map[int16]*lease{}, stop: make(chan struct{}), done: make(chan struct{})}
}

func (z *sessionizer) run() {
	defer close(z.done)
	t := time.NewTicker(z.s.slot)
	defer t.Stop()
	for {
		select {
		case <-z.stop:
			z.release()
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseFor/2)
			if err := z.round(ctx); err != nil {
				z.s.log.Warn().Err(err).Msg("session round incomplete; retried next round")
			}
			cancel()
		}
	}
}

// round renews or takes the shards' leases and processes every closed
// slot of the shards held.
func (z *sessionizer) round(ctx context.Context) error {
	closed := z.s.slotOf(time.Now().Add(-z.s.opts.SessionsDelay)) - 1
	var errs []error
	for sh := int16(0); sh < pendingShards; sh++ {
		l, err := z.lease(ctx, sh)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if l == nil || l.next > closed {
			continue
		}
		next, found, err := z.s.processShard(ctx, sh, l.next, closed)
		if next > l.next {
			l.next = next
			// Past empty slots only now and then: whoever takes the
			// shard next reads the few empty slots since again.
			if found || time.Since(l.saved) >= leaseFor {
				if e := z.s.session.Query(fmt.Sprintf(`UPDATE %s.sessions_progress SET next_slot = ? WHERE shard = ?`, z.s.opts.Keyspace),
					next, sh).WithContext(ctx).Exec(); e != nil {
					errs = append(errs, fmt.Errorf("saving sessions progress of shard %d: %w", sh, e))
				} else {
					l.saved = time.Now()
				}
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// lease renews the shard's lease if held and past half its time (plus a
// round), else tries to take it once it has expired; nil means another
// sink holds it. Each renewal or attempt is a lightweight transaction, a
// Paxos round on every replica (on a ring at RF 3 the 16 shards' renewals
// every round cost a node more CPU than 1,000 events/s of session work,
// benchmarks.md), so a holder renews every few rounds, and a sink that
// does not hold a shard first reads its lease and tries only when the
// lease has run out or was given back.
func (z *sessionizer) lease(ctx context.Context, sh int16) (*lease, error) {
	now := time.Now()
	until := now.Add(leaseFor)
	ks := z.s.opts.Keyspace
	var q *gocql.Query
	l, ok := z.held[sh]
	fresh := !ok || !now.Before(l.until) // taking it (again): read where the shard stands
	if !fresh && l.until.Sub(now) > leaseFor/2+z.s.slot {
		return l, nil // renewed at a later round, still with more than half its time
	}
	if fresh {
		var taken time.Time
		err := z.s.session.Query(fmt.Sprintf(`SELECT lease_until FROM %s.sessions_progress WHERE shard = ?`, ks), sh).
			WithContext(ctx).Scan(&taken)
		if err != nil {
			return nil, fmt.Errorf("reading the lease of sessions shard %d: %w", sh, err)
		}
		if now.Before(taken) {
			z.drop(sh)
			return nil, nil
		}
	}
	if !fresh {
		q = z.s.session.Query(fmt.Sprintf(`UPDATE %s.sessions_progress SET lease_until = ? WHERE shard = ? IF owner = ?`, ks), until, sh, z.owner)
	} else {
		q = z.s.session.Query(fmt.Sprintf(`UPDATE %s.sessions_progress SET owner = ?, lease_until = ? WHERE shard = ? IF lease_until < ?`, ks),
			z.owner, until, sh, now)
	}
	z.cas.Add(1)
	applied, err := q.WithContext(ctx).MapScanCAS(map[string]any{})
	if err != nil {
		z.drop(sh)
		return nil, fmt.Errorf("lease on sessions shard %d: %w", sh, err)
	}
	if !applied {
		z.drop(sh)
		return nil, nil
	}
	if fresh {
		z.s.held.lost(sh)   // until the shard's progress is read
		z.s.latest.drop(sh) // another sink may have written its sessions meanwhile
		l = &lease{}
		err := z.s.session.Query(fmt.Sprintf(`SELECT next_slot FROM %s.sessions_progress WHERE shard = ?`, ks), sh).
			WithContext(ctx).Scan(&l.next)
		if err != nil {
			return nil, fmt.Errorf("reading sessions progress of shard %d: %w", sh, err)
		}
		z.held[sh] = l
		z.s.slotsDone[sh].Store(l.next - 1) // what another sink did
		z.s.held.taken(sh, until)
	}
	l.until = until
	z.s.held.set(sh, until)
	return l, nil
}

// drop forgets a shard this sink does not hold (any more): no direct
// session writes for it, and no cached latest session of its visitors.
func (z *sessionizer) drop(sh int16) {
	delete(z.held, sh)
	z.s.held.lost(sh)
	z.s.latest.drop(sh)
}

// release gives the held shards back at once, so another sink need not
// wait for the leases to expire.
func (z *sessionizer) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for sh := range z.held {
		z.s.held.lost(sh)
		_, err := z.s.session.Query(fmt.Sprintf(`UPDATE %s.sessions_progress SET lease_until = ? WHERE shard = ? IF owner = ?`, z.s.opts.Keyspace),
			time.UnixMilli(0), sh, z.owner).WithContext(ctx).MapScanCAS(map[string]any{})
		if err != nil {
			z.s.log.Debug().Err(err).Int16("shard", sh).Msg("releasing sessions lease")
		}
	}
}
