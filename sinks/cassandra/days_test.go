package cassandra

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/schema"
)

// A visitor's rows in the day tables (decision 0007) and in the tables
// written before them are read as one history: newest first, an event or a
// session in both once, across more days than one read names.
func TestDayTablesAndOldTablesReadAsOne(t *testing.T) {
	s, ks, sink := openSink(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	ev := func(name string, age time.Duration) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: now.Add(-age), Endpoint: "tr", App: "shop", VisitorID: "v1",
			EventName: name, URL: "/" + name}
	}
	day := 24 * time.Hour
	old, mid, recent := ev("old", 40*day), ev("mid", 3*day), ev("recent", time.Hour)
	if err := sink.Write(ctx, []*schema.Event{old, mid, recent}); err != nil {
		t.Fatal(err)
	}
	// old and recent move to visitor_events; mid is in both.
	for _, e := range []*schema.Event{old, mid, recent} {
		id, _ := gocql.ParseUUID(e.EventID)
		ts := e.ReceivedAt
		if err := s.Query(fmt.Sprintf("INSERT INTO %s.visitor_events (app, day, vbucket, visitor_id, ts, event_id) VALUES (?, ?, ?, ?, ?, ?)", ks),
			"shop", Day(ts), VisitorBucket("shop", "v1", 4), "v1", ts, id).Exec(); err != nil {
			t.Fatal(err)
		}
		if e != mid {
			if err := s.Query(fmt.Sprintf("DELETE FROM %s.events_by_visitor WHERE app = 'shop' AND visitor_id = 'v1' AND ts = ? AND event_id = ?", ks),
				ts, id).Exec(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name         string
		from, before time.Time
		limit        int
		want         string
	}{
		{"all", time.Time{}, time.Time{}, 0, "[recent mid old]"},
		{"newest", time.Time{}, time.Time{}, 1, "[recent]"},
		{"two", time.Time{}, time.Time{}, 2, "[recent mid]"},
		{"from", now.Add(-10 * day), time.Time{}, 0, "[recent mid]"},
		{"before", time.Time{}, now.Add(-2 * day), 0, "[mid old]"},
		{"window", now.Add(-41 * day), now.Add(-39 * day), 0, "[old]"},
	} {
		got, err := ReadPartition(ctx, s, ks, "events_by_visitor", "shop", "v1", c.from, c.before, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			if e.URL != "/"+e.EventName || e.Endpoint != "tr" {
				t.Errorf("%s: %s not completed from events_by_day: %+v", c.name, e.EventName, e)
			}
			names = append(names, e.EventName)
		}
		if fmt.Sprint(names) != c.want {
			t.Errorf("%s: read %v, want %s", c.name, names, c.want)
		}
	}
	v, err := ReadVisitor(ctx, s, ks, "shop", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if v.LastEventID != recent.EventID || v.LastURL != "/recent" || v.FirstEventID != old.EventID {
		t.Errorf("visitor %+v", v)
	}
	if at, ok, err := StoredAt(ctx, s, ks, "shop", "v1", now.Add(-2*time.Hour)); err != nil || !ok || at.Before(now.Add(-time.Minute)) || at.After(time.Now()) {
		t.Errorf("StoredAt: %v %v %v", at, ok, err)
	}
	if _, ok, err := StoredAt(ctx, s, ks, "shop", "v1", now.Add(time.Minute)); err != nil || ok {
		t.Errorf("StoredAt of nothing: %v %v", ok, err)
	}
	if _, ok, err := StoredAt(ctx, s, ks, "shop", "nobody", time.Time{}); err != nil || ok {
		t.Errorf("StoredAt of an unknown visitor: %v %v", ok, err)
	}

	// Sessions: one only in sessions, one in both (sessions_by_day's wins),
	// one only in sessions_by_day.
	session := func(table string, start time.Time, count int) {
		q := fmt.Sprintf("INSERT INTO %s.sessions (app, visitor_id, session_start, session_end, event_count) VALUES ('shop', 'v1', ?, ?, ?)", ks)
		args := []any{start, start, count}
		if table == "sessions_by_day" {
			q = fmt.Sprintf("INSERT INTO %s.sessions_by_day (app, day, vbucket, visitor_id, session_start, session_end, event_count) VALUES ('shop', ?, ?, 'v1', ?, ?, ?)", ks)
			args = append([]any{Day(start), VisitorBucket("shop", "v1", 4)}, args...)
		}
		if err := s.Query(q, args...).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	session("sessions", old.ReceivedAt, 1)
	session("sessions", mid.ReceivedAt, 1)
	session("sessions_by_day", mid.ReceivedAt, 2)
	session("sessions_by_day", recent.ReceivedAt, 3)
	ss, err := ReadSessions(ctx, s, ks, "shop", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range ss {
		got = append(got, fmt.Sprintf("%s:%d", now.Sub(x.Start).Round(time.Hour), x.EventCount))
	}
	if fmt.Sprint(got) != "[1h0m0s:3 72h0m0s:2 960h0m0s:1]" {
		t.Errorf("sessions %v", got)
	}
}

// A keyspace upgraded to the day tables (migration 015 on a keyspace that
// had events_by_visitor) records when; on the days up to then the
// sessionizer counts the old tables' events and sessions with the new ones,
// so a session begun before the upgrade goes on after it, once. A keyspace
// created with the day tables records nothing.
func TestSessionsGoOnAcrossTheUpgrade(t *testing.T) {
	s, ks, sink := openSink(t)
	ctx := context.Background()
	if !sink.oldUntil.IsZero() {
		t.Fatalf("a new keyspace has visitor_tables_until %v", sink.oldUntil)
	}
	t0 := Day(time.Now()).Add(time.Minute)
	ev := func(name string, at time.Time) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: at, Endpoint: "tr", App: "shop", VisitorID: "v1", EventName: name, URL: "/" + name}
	}
	a := ev("a", t0)
	if err := sink.Write(ctx, []*schema.Event{a}); err != nil {
		t.Fatal(err)
	}
	if err := sink.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	sink.Close()
	// As an earlier sink would have stored it: a's row in
	// events_by_visitor, its session in sessions.
	vb := VisitorBucket("shop", "v1", 4)
	id, _ := gocql.ParseUUID(a.EventID)
	for _, q := range []string{
		"INSERT INTO %s.events_by_visitor (app, visitor_id, ts, event_id, slim) VALUES ('shop', 'v1', ?, ?, true)",
		"DELETE FROM %s.visitor_events WHERE app = 'shop' AND day = ? AND vbucket = ? AND visitor_id = 'v1'",
		"INSERT INTO %s.sessions (app, visitor_id, session_start, session_id, session_end, event_count, landing_url) VALUES ('shop', 'v1', ?, ?, ?, 1, '/a')",
		"DELETE FROM %s.sessions_by_day WHERE app = 'shop' AND day = ? AND vbucket = ? AND visitor_id = 'v1'",
		"DELETE FROM %s.schema_migrations WHERE version = 15",
	} {
		var args []any
		switch {
		case strings.Contains(q, "INSERT INTO %s.events_by_visitor"):
			args = []any{t0, id}
		case strings.Contains(q, "INSERT INTO %s.sessions"):
			args = []any{t0, id, t0}
		case strings.Contains(q, "day = ?"):
			args = []any{Day(t0), vb}
		}
		if err := s.Query(fmt.Sprintf(q, ks), args...).Exec(); err != nil {
			t.Fatal(err)
		}
	}
	o := testOptions(ks)
	o.ApplySchema = true
	if err := Apply(ctx, o, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	sink = New(o, zerolog.Nop())
	if err := sink.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if d := time.Since(sink.oldUntil); d < 0 || d > time.Minute {
		t.Fatalf("the upgrade was recorded at %v", sink.oldUntil)
	}
	// b continues a's session; c, late, comes before a: one session of 3.
	if err := sink.Write(ctx, []*schema.Event{ev("b", t0.Add(5*time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := sink.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	ss, err := ReadSessions(ctx, s, ks, "shop", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].EventCount != 2 || !ss[0].Start.Equal(t0) || ss[0].LandingURL != "/a" {
		t.Fatalf("after b: %+v", ss)
	}
	c := ev("c", t0.Add(-30*time.Second))
	if err := sink.Write(ctx, []*schema.Event{c}); err != nil {
		t.Fatal(err)
	}
	if err := sink.FlushSessions(ctx); err != nil {
		t.Fatal(err)
	}
	if ss, err = ReadSessions(ctx, s, ks, "shop", "v1"); err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].EventCount != 3 || ss[0].ID != c.EventID || ss[0].LandingURL != "/c" {
		t.Fatalf("after c: %+v", ss)
	}
}
