package cassandra

import (
	"context"
	"fmt"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// events_by_user has every column of events_by_visitor (user_id among its
// keys, visitor_id among the rest), so one column list serves both.
func userInsert(ks string) string {
	return fmt.Sprintf("INSERT INTO %s.events_by_user (%s) VALUES (%s)", ks,
		columnList("app", "visitor_id", "ts", "event_id"), placeholders(4+len(eventColumns)))
}

// byUser groups the indexes of valid events that carry a user id by
// (app, user).
func byUser(events []*schema.Event, errs []error) [][]int {
	by := map[[2]string]int{}
	var out [][]int
	for i, e := range events {
		if e.UserID == "" || errs[i] != nil {
			continue
		}
		k := [2]string{e.App, e.UserID}
		n, ok := by[k]
		if !ok {
			n = len(out)
			by[k] = n
			out = append(out, nil)
		}
		out[n] = append(out[n], i)
	}
	return out
}

// writeUser stores one user's events of the batch in events_by_user, and
// the traits its identify events set in user_traits.
func (s *Sink) writeUser(ctx context.Context, events []*schema.Event, ids []gocql.UUID, idx []int) error {
	for _, chunk := range chunks(events, idx) {
		b := s.newBatch()
		for _, i := range chunk {
			e := events[i]
			add(b, s.insertUser, rowArgs(e, e.App, bindPtr(&e.VisitorID), e.ReceivedAt.UTC().Truncate(time.Millisecond), ids[i])...)
		}
		if err := s.execBatch(ctx, b, len(chunk)); err != nil {
			return err
		}
	}
	b := s.newBatch()
	for _, i := range idx {
		e := events[i]
		if e.EventName != "identify" {
			continue
		}
		for _, t := range schema.Traits(e) {
			add(b, s.insertTrait, e.App, e.UserID, t.Name, e.ReceivedAt.UTC().Truncate(time.Millisecond), t.Value, e.EventID)
			if len(b.Entries) == maxBatchRows {
				if err := s.execBatch(ctx, b, len(b.Entries)); err != nil {
					return err
				}
				b = s.newBatch()
			}
		}
	}
	if len(b.Entries) > 0 {
		return s.execBatch(ctx, b, len(b.Entries))
	}
	return nil
}

// forgottenSet is every forgotten id, loaded whole and refreshed: people
// who asked to be forgotten are few, and a map lookup per event costs the
// sink's path nothing, where a read per visitor would double its load.
type forgottenSet struct {
	mu      sync.RWMutex
	ids     map[[3]string]bool // app, kind, id
	loaded  time.Time
	dropped int64
}

// ForgottenRefresh is how often the sink reloads the forgotten ids: a
// forget waits for it (and one write) before it deletes, so that no event
// in flight lands after the delete.
const ForgottenRefresh = time.Second

func (s *Sink) refreshForgotten(ctx context.Context) error {
	f := &s.forgotten
	f.mu.RLock()
	fresh := time.Since(f.loaded) < ForgottenRefresh
	f.mu.RUnlock()
	if fresh {
		return nil
	}
	iter := s.session.Query(fmt.Sprintf("SELECT app, kind, id FROM %s.forgotten", s.opts.Keyspace)).WithContext(ctx).Iter()
	ids := map[[3]string]bool{}
	var app, kind, id string
	for iter.Scan(&app, &kind, &id) {
		ids[[3]string{app, kind, id}] = true
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("reading forgotten ids: %w", classify(err))
	}
	f.mu.Lock()
	f.ids, f.loaded = ids, time.Now()
	f.mu.Unlock()
	return nil
}

// dropForgotten marks the events of forgotten people as handled (errs
// stays nil: they are acked) and returns how many; the caller writes none
// of them.
func (s *Sink) dropForgotten(events []*schema.Event, skip []bool) int {
	f := &s.forgotten
	f.mu.RLock()
	defer f.mu.RUnlock()
	if len(f.ids) == 0 {
		return 0
	}
	n := 0
	for i, e := range events {
		if f.ids[[3]string{e.App, "visitor", e.VisitorID}] || f.ids[[3]string{e.App, "user", e.UserID}] {
			skip[i] = true
			n++
		}
	}
	return n
}

// ForgottenDropped counts the events dropped on arrival because their
// person was forgotten (the metric spoor_sink_forgotten_events_total).
func (s *Sink) ForgottenDropped() int64 {
	s.forgotten.mu.RLock()
	defer s.forgotten.mu.RUnlock()
	return s.forgotten.dropped
}
