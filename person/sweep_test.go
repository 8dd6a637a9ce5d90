package person

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// The sweep finds the day tables' rows before the cutoff: whole days, and
// in the cutoff's own day those before it, visitor by visitor.
func TestSweepReachesTheDayTables(t *testing.T) {
	w := newWorld(t)
	now := cassandra.Day(time.Now()).Add(12 * time.Hour)
	cut := now.Add(-30 * 24 * time.Hour)
	ev := func(name, visitor string, at time.Time) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: at, Endpoint: "tr", App: "shop", EventName: name, VisitorID: visitor}
	}
	w.write(ev("40d", "v1", now.Add(-40*24*time.Hour)), ev("before", "v1", cut.Add(-time.Minute)), ev("after", "v1", cut.Add(time.Minute)),
		ev("1h", "v1", now.Add(-time.Hour)), ev("before", "v2", cut.Add(-2*time.Minute)))
	s, ks := w.cql.Session, w.cql.Keyspace
	for _, start := range []time.Time{now.Add(-40 * 24 * time.Hour), cut.Add(-time.Minute), cut.Add(time.Minute)} {
		if err := s.Query(fmt.Sprintf("INSERT INTO %s.sessions_by_day (app, day, vbucket, visitor_id, session_start, event_count) VALUES (?, ?, ?, ?, ?, 1)", ks),
			"shop", cassandra.Day(start), cassandra.VisitorBucket("shop", "v1", 4), "v1", start).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	reps, err := w.cql.Sweep(context.Background(), config.Quality{RetentionDays: []string{"shop=30"}}.Retention(), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].Removed["visitor_events"] != 3 || reps[0].Removed["sessions_by_day"] != 2 || reps[0].Removed["events_by_day"] != 3 {
		t.Fatalf("swept %+v", reps)
	}
	evs, err := cassandra.ReadPartition(context.Background(), s, ks, "events_by_visitor", "shop", "v1", time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(names(evs)); got != "[1h after]" {
		t.Errorf("v1 holds %s", got)
	}
	ss, err := cassandra.ReadSessions(context.Background(), s, ks, "shop", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || !ss[0].Start.Equal(cut.Add(time.Minute)) {
		t.Errorf("v1's sessions %+v", ss)
	}
	if n := w.count("visitor_events", "app = 'shop' AND visitor_id = ?", "v2"); n != 0 {
		t.Errorf("v2 keeps %d rows", n)
	}
}
