package cassandra

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// link is a visitor and a user of one app seen together in a batch, with
// the earliest and latest events that showed it.
type link struct {
	app, visitor, user string
	via                string // of the earliest: identify, alias or event
	first, last        time.Time
	idx                []int // the events that showed it
}

// links finds the identity links in events that parsed (errs[i] nil): an
// identify or any event with both ids, and an alias's previous_id (as the
// visitor) with its user.
func links(events []*schema.Event, errs []error) []*link {
	by := map[[3]string]*link{}
	var order []*link
	add := func(i int, e *schema.Event, visitor, via string) {
		if visitor == "" || e.UserID == "" {
			return
		}
		k := [3]string{e.App, visitor, e.UserID}
		l := by[k]
		if l == nil {
			l = &link{app: e.App, visitor: visitor, user: e.UserID, via: via, first: e.ReceivedAt, last: e.ReceivedAt}
			by[k] = l
			order = append(order, l)
		}
		if e.ReceivedAt.Before(l.first) {
			l.first, l.via = e.ReceivedAt, via
		}
		if e.ReceivedAt.After(l.last) {
			l.last = e.ReceivedAt
		}
		l.idx = append(l.idx, i)
	}
	for i, e := range events {
		if errs[i] != nil {
			continue
		}
		via := "event"
		if e.EventName == "identify" {
			via = "identify"
		}
		add(i, e, e.VisitorID, via)
		if e.EventName == "alias" {
			var prev string
			if json.Unmarshal(e.Props["previous_id"], &prev) == nil {
				add(i, e, prev, "alias")
			}
		}
	}
	return order
}

// writeLink stores one link both ways: one single-partition batch each.
func (s *Sink) writeLink(ctx context.Context, l *link) error {
	firstTS, lastTS := firstTouchTimestamp(l.first), l.last.UnixMicro()
	for _, q := range []struct {
		table, key, other string
		k, o              string
	}{
		{"identity_by_visitor", "visitor_id", "user_id", l.visitor, l.user},
		{"identity_by_user", "user_id", "visitor_id", l.user, l.visitor},
	} {
		b := s.newBatch()
		add(b, fmt.Sprintf("UPDATE %s.%s USING TIMESTAMP ? SET first_seen = ?, via = ? WHERE app = ? AND %s = ? AND %s = ?",
			s.opts.Keyspace, q.table, q.key, q.other), firstTS, l.first, l.via, l.app, q.k, q.o)
		add(b, fmt.Sprintf("UPDATE %s.%s USING TIMESTAMP ? SET last_seen = ? WHERE app = ? AND %s = ? AND %s = ?",
			s.opts.Keyspace, q.table, q.key, q.other), lastTS, l.last, l.app, q.k, q.o)
		if err := s.execBatch(ctx, b, 2); err != nil {
			return err
		}
	}
	return nil
}

// Link is one identity link as stored.
type Link struct {
	Visitor, User       string
	FirstSeen, LastSeen time.Time
	Via                 string
}

// ReadLinks returns the links of a visitor (by "visitor") or of a user
// (by "user"), for tests and `spoor person`.
func ReadLinks(ctx context.Context, s *gocql.Session, ks, app, by, id string) ([]Link, error) {
	table, key, other := "identity_by_visitor", "visitor_id", "user_id"
	if by == "user" {
		table, key, other = "identity_by_user", "user_id", "visitor_id"
	}
	iter := s.Query(fmt.Sprintf("SELECT %s, first_seen, last_seen, via FROM %s.%s WHERE app = ? AND %s = ?", other, ks, table, key),
		app, id).WithContext(ctx).Iter()
	var out []Link
	var o, via string
	var first, last time.Time
	for iter.Scan(&o, &first, &last, &via) {
		l := Link{FirstSeen: first.UTC(), LastSeen: last.UTC(), Via: via}
		if by == "user" {
			l.User, l.Visitor = id, o
		} else {
			l.Visitor, l.User = id, o
		}
		out = append(out, l)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading links of %s %s: %w", by, id, err)
	}
	return out, nil
}
