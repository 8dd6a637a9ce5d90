package person

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// Apps reads the apps from events_by_day's partition keys (apps × days ×
// buckets: a few thousand keys, not the events), then looks for one row of
// the id in each app's identity and event tables (a visitor's events:
// ReadPartition).
func (s Cassandra) Apps(ctx context.Context, kind, id string) ([]string, error) {
	idTable, evTable, col := "identity_by_user", "events_by_user", "user_id"
	if kind == "visitor" {
		idTable, evTable, col = "identity_by_visitor", "events_by_visitor", "visitor_id"
	}
	iter := s.Session.Query(fmt.Sprintf("SELECT DISTINCT app, day, bucket FROM %s.events_by_day", s.Keyspace)).
		WithContext(ctx).PageSize(5000).Iter()
	seen := map[string]bool{}
	var app string
	var day time.Time
	var bucket int16
	for iter.Scan(&app, &day, &bucket) {
		seen[app] = true
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("listing the apps: %w", err)
	}
	var out []string
	for app := range seen {
		if kind == "visitor" {
			// events_by_visitor and visitor_events (day by day) together.
			evs, err := cassandra.ReadPartition(ctx, s.Session, s.Keyspace, "events_by_visitor", app, id, time.Time{}, time.Time{}, 1)
			if err != nil {
				return nil, fmt.Errorf("looking for visitor %s in app %q: %w", id, app, err)
			}
			if len(evs) > 0 {
				out = append(out, app)
				continue
			}
		}
		for _, table := range []string{idTable, evTable} {
			if table == "events_by_visitor" {
				continue // read above
			}
			var got string
			err := s.Session.Query(fmt.Sprintf("SELECT %s FROM %s.%s WHERE app = ? AND %s = ? LIMIT 1", col, s.Keyspace, table, col),
				app, id).WithContext(ctx).Scan(&got)
			if errors.Is(err, gocql.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("looking for %s %s in app %q: %w", kind, id, app, err)
			}
			out = append(out, app)
			break
		}
	}
	slices.Sort(out)
	return out, nil
}

// Apps reads the identity files and peeks at every event line.
func (s Files) Apps(_ context.Context, kind, id string) ([]string, error) {
	seen := map[string]bool{}
	lines, err := file.ReadLinks(s.Paths.Identity)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if kind == "user" && l.UserID == id || kind == "visitor" && l.VisitorID == id {
			seen[l.App] = true
		}
	}
	paths, err := file.Files(s.Paths.Events)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, path := range paths {
		err := file.Scan(path, func(line []byte) error {
			app, visitor, user, ok := schema.PeekIDs(line)
			if !ok {
				e, err := schema.Decode(line)
				if err != nil {
					return nil
				}
				app, visitor, user = e.App, e.VisitorID, e.UserID
			}
			if kind == "user" && user == id || kind == "visitor" && visitor == id {
				seen[app] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for app := range seen {
		out = append(out, app)
	}
	slices.Sort(out)
	return out, nil
}
