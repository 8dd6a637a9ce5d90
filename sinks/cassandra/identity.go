package cassandra

import (
	"context"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spoor-dev/spoor/schema"
)

// writeLink stores one link both ways: one single-partition batch each.
func (s *Sink) writeLink(ctx context.Context, l *schema.Link) error {
	firstTS, lastTS := firstTouchTimestamp(l.First), l.Last.UnixMicro()
	for _, q := range []struct {
		table, key, other string
		k, o              string
	}{
		{"identity_by_visitor", "visitor_id", "user_id", l.VisitorID, l.UserID},
		{"identity_by_user", "user_id", "visitor_id", l.UserID, l.VisitorID},
	} {
		b := s.newBatch()
		add(b, fmt.Sprintf("UPDATE %s.%s USING TIMESTAMP ? SET first_seen = ?, via = ? WHERE app = ? AND %s = ? AND %s = ?",
			s.opts.Keyspace, q.table, q.key, q.other), firstTS, l.First, l.Via, l.App, q.k, q.o)
		add(b, fmt.Sprintf("UPDATE %s.%s USING TIMESTAMP ? SET last_seen = ? WHERE app = ? AND %s = ? AND %s = ?",
			s.opts.Keyspace, q.table, q.key, q.other), lastTS, l.Last, l.App, q.k, q.o)
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
