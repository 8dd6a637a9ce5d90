package cassandra

import (
	"context"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// events_by_user has every column of events_by_visitor (user_id among its
// keys, visitor_id among the rest), so one column list serves both.
func userInsert(ks string) string {
	return fmt.Sprintf("INSERT INTO %s.events_by_user (%s) VALUES (%s) USING TTL ?", ks,
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
func (s *Sink) writeUser(ctx context.Context, events []*schema.Event, ids []gocql.UUID, ttl []int, idx []int) error {
	for _, chunk := range chunks(events, idx) {
		b := s.newBatch()
		for _, i := range chunk {
			e := events[i]
			add(b, s.insertUser, append(rowArgs(e, e.App, bindPtr(&e.VisitorID), e.ReceivedAt.UTC().Truncate(time.Millisecond), ids[i]), ttl[i])...)
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

// refreshForgotten reloads the forgotten ids (a scan of the small
// forgotten table) when they are stale.
func (s *Sink) refreshForgotten(ctx context.Context) error {
	if !s.forgotten.Stale(time.Now()) {
		return nil
	}
	ids, err := ReadForgotten(ctx, s.session, s.opts.Keyspace)
	if err != nil {
		return classify(err)
	}
	s.forgotten.Set(ids, time.Now())
	return nil
}

// ReadForgotten reads the forgotten ids (a scan of the small forgotten
// table) as a set of (app, kind, id): the sink's, and a destination's.
func ReadForgotten(ctx context.Context, session *gocql.Session, keyspace string) (map[[3]string]bool, error) {
	iter := session.Query(fmt.Sprintf("SELECT app, kind, id FROM %s.forgotten", keyspace)).WithContext(ctx).Iter()
	ids := map[[3]string]bool{}
	var app, kind, id string
	for iter.Scan(&app, &kind, &id) {
		ids[[3]string{app, kind, id}] = true
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading forgotten ids: %w", err)
	}
	return ids, nil
}

// ForgottenDropped counts the events dropped on arrival because their
// person was forgotten (the metric spoor_sink_forgotten_events_total).
func (s *Sink) ForgottenDropped() int64 { return s.forgotten.Dropped() }
