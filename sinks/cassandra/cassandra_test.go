package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/sinktest"
)

func testOptions(keyspace string) Options {
	o := config.Default().Cassandra
	o.Hosts = cassandratest.Hosts()
	o.Keyspace = keyspace
	o.Buckets = 4
	o.Timeout = 10 * time.Second
	o.ConnectTimeout = 10 * time.Second
	return o
}

// pendingMarkers is how many session markers wait in the keyspace.
func pendingMarkers(t *testing.T, s *gocql.Session, ks string) int {
	t.Helper()
	var n int
	if err := s.Query(fmt.Sprintf("SELECT COUNT(*) FROM %s.sessions_pending", ks)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// openSink opens a sink on a fresh keyspace of the test server; it is
// closed when the test ends.
func openSink(t *testing.T) (*gocql.Session, string, *Sink) {
	t.Helper()
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	sink := New(testOptions(ks), zerolog.Nop())
	if err := sink.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return s, ks, sink
}

// The same contract suite the file sink passes, against the real server.
func TestContract(t *testing.T) {
	s := cassandratest.Session(t)
	keyspaces := map[string]string{}
	ksFor := func(t *testing.T) string {
		if keyspaces[t.Name()] == "" {
			keyspaces[t.Name()] = cassandratest.Keyspace(t, s)
		}
		return keyspaces[t.Name()]
	}
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinks.Sink { return New(testOptions(ksFor(t)), zerolog.Nop()) },
		Stored: func(t *testing.T) []*schema.Event {
			evs, err := ReadTable(context.Background(), s, ksFor(t), "events_by_day")
			if err != nil {
				t.Fatal(err)
			}
			byVisitor, err := ReadTable(context.Background(), s, ksFor(t), "visitor_events")
			if err != nil {
				t.Fatal(err)
			}
			withVisitor := 0
			for _, e := range evs {
				if e.VisitorID != "" {
					withVisitor++
				}
			}
			if len(byVisitor) != withVisitor {
				t.Fatalf("visitor_events has %d rows, want %d", len(byVisitor), withVisitor)
			}
			byUser, err := ReadTable(context.Background(), s, ksFor(t), "events_by_user")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for _, e := range evs {
				if e.UserID != "" {
					b, _ := e.Encode()
					want[e.EventID] = string(b)
				}
			}
			if len(byUser) != len(want) {
				t.Fatalf("events_by_user has %d rows, want %d", len(byUser), len(want))
			}
			for _, e := range byUser {
				if b, _ := e.Encode(); string(b) != want[e.EventID] {
					t.Fatalf("events_by_user row differs:\n got %s\nwant %s", b, want[e.EventID])
				}
			}
			return evs
		},
		Links: func(t *testing.T, app, by, id string) []sinktest.Link {
			ls, err := ReadLinks(context.Background(), s, ksFor(t), app, by, id)
			if err != nil {
				t.Fatal(err)
			}
			var out []sinktest.Link
			for _, l := range ls {
				out = append(out, sinktest.Link{Visitor: l.Visitor, User: l.User, Via: l.Via, First: l.FirstSeen, Last: l.LastSeen})
			}
			return out
		},
	})
}

func TestApplyIsIdempotent(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	o := testOptions(ks)
	for i := 0; i < 2; i++ {
		if err := Apply(context.Background(), o, zerolog.Nop()); err != nil {
			t.Fatalf("apply %d: %v", i+1, err)
		}
	}
	var n int
	if err := s.Query("SELECT count(*) FROM " + ks + ".schema_migrations").Scan(&n); err != nil || n < 2 {
		t.Fatalf("schema_migrations rows = %d, %v", n, err)
	}
	o.Buckets = 99 // ignored: fixed at the first apply
	if err := Apply(context.Background(), o, zerolog.Nop()); err != nil {
		t.Fatal(err)
	}
	var b string
	if err := s.Query("SELECT value FROM " + ks + ".settings WHERE name = 'buckets'").Scan(&b); err != nil || b != "4" {
		t.Fatalf("buckets = %q, %v", b, err)
	}
}

// First touch is the earliest event whatever the arrival order, of any
// day; last seen the latest; the user the latest event's that had one.
func TestFirstTouchOutOfOrder(t *testing.T) {
	s, ks, sink := openSink(t)
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ev := func(min int, url, source, user string) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: base.Add(time.Duration(min) * time.Minute), App: "shop",
			VisitorID: "v1", URL: url, Source: source, UserID: user}
	}
	middle, first, last := ev(10, "/b", "mail", "u2"), ev(0, "/landing", "news", "u1"), ev(20, "/c", "", "")
	for _, batch := range [][]*schema.Event{{middle}, {last}, {first}} { // arrives out of order
		if err := sink.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	v, err := ReadVisitor(context.Background(), s, ks, "shop", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if v.FirstEventID != first.EventID || v.FirstURL != "/landing" || v.FirstSource != "news" || !v.FirstSeen.Equal(first.ReceivedAt) {
		t.Fatalf("first touch = %+v, want event %s", v, first.EventID)
	}
	if v.LastEventID != last.EventID || v.LastURL != "/c" || !v.LastSeen.Equal(last.ReceivedAt) {
		t.Fatalf("last seen = %+v, want event %s", v, last.EventID)
	}
	if v.UserID != "u2" {
		t.Fatalf("user = %q, want u2 (the latest event with a user)", v.UserID)
	}
	// A redelivery of the middle event changes nothing.
	if err := sink.Write(context.Background(), []*schema.Event{middle}); err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadVisitor(context.Background(), s, ks, "shop", "v1"); again != v {
		t.Fatalf("redelivery changed the visitor: %+v -> %+v", v, again)
	}
	// An event of 40 days before, arriving last (a replay), is the first
	// touch now: its day is among the app's days (app_days).
	older := ev(-40*24*60, "/old", "ads", "")
	if err := sink.Write(context.Background(), []*schema.Event{older}); err != nil {
		t.Fatal(err)
	}
	if v, err = ReadVisitor(context.Background(), s, ks, "shop", "v1"); err != nil || v.FirstEventID != older.EventID || v.FirstURL != "/old" {
		t.Fatalf("first touch = %+v, %v; want event %s", v, err, older.EventID)
	}
	// Nothing is written per visitor partition (decision 0008).
	var n int
	if err := s.Query("SELECT count(*) FROM " + ks + ".visitors WHERE app = 'shop' AND visitor_id = 'v1'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("visitors rows = %d, %v; want none", n, err)
	}
	if _, err := ReadVisitor(context.Background(), s, ks, "shop", "nobody"); !errors.Is(err, gocql.ErrNotFound) {
		t.Fatalf("an unknown visitor: %v, want not found", err)
	}
}

// Sessions split after 30 minutes without an event; a late event that
// bridges two sessions merges them, whatever the arrival order.
func TestSessions(t *testing.T) {
	s, ks, sink := openSink(t)
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ev := func(min int, url string) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: t0.Add(time.Duration(min) * time.Minute), App: "shop",
			VisitorID: "v1", URL: url, Source: "src-" + url}
	}
	write := func(evs ...*schema.Event) {
		t.Helper()
		if err := sink.Write(context.Background(), evs); err != nil {
			t.Fatal(err)
		}
	}
	sessions := func() []Session {
		t.Helper()
		if err := sink.FlushSessions(context.Background()); err != nil {
			t.Fatal(err)
		}
		ss, err := ReadSessions(context.Background(), s, ks, "shop", "v1")
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	a, b, c, d := ev(0, "/a"), ev(10, "/b"), ev(50, "/c"), ev(80, "/d") // 40 min gap between b and c; exactly 30 between c and d
	write(c, d)
	if got := sessions(); len(got) != 1 || got[0].EventCount != 2 {
		t.Fatalf("want one session of c and d, got %+v", got)
	}
	write(a)
	write(b)
	got := sessions()
	if len(got) != 2 {
		t.Fatalf("want 2 sessions, got %+v", got)
	}
	if got[1].Start != a.ReceivedAt || got[1].End != b.ReceivedAt || got[1].EventCount != 2 || got[1].LandingURL != "/a" ||
		got[1].ID != a.EventID || got[1].Source != "src-/a" {
		t.Fatalf("first session wrong: %+v", got[1])
	}
	if got[0].Start != c.ReceivedAt || got[0].End != d.ReceivedAt || got[0].EventCount != 2 {
		t.Fatalf("second session wrong: %+v", got[0])
	}
	// A late event at minute 30 leaves no gap above 30 minutes: one session.
	late := ev(30, "/late")
	write(late)
	got = sessions()
	if len(got) != 1 || got[0].Start != a.ReceivedAt || got[0].End != d.ReceivedAt || got[0].EventCount != 5 || got[0].LastEventID != d.EventID ||
		got[0].LandingURL != "/a" || got[0].Source != "src-/a" { // recomputed: the landing read from events_by_day
		t.Fatalf("after the late event want one merged session, got %+v", got)
	}
	if _, fromEvents := sink.SessionWork(); fromEvents == 0 {
		t.Fatal("no session was recomputed from the events")
	}
	// Redelivery of everything changes nothing.
	write(a, b, c, d, late)
	if again := sessions(); len(again) != 1 || again[0] != got[0] {
		t.Fatalf("redelivery changed sessions: %+v", again)
	}
}

// Without FlushSessions: the background sessionizer takes the shards'
// leases, recomputes each marked visitor once its slot is closed, deletes
// the markers and moves the shards on. A second sink on the same keyspace
// takes no shard while the first holds them, and takes them all once the
// first closes (it gives them back).
func TestSessionizerInBackground(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	open := func() *Sink { return openSessionSink(t, ks, 200*time.Millisecond, 200*time.Millisecond) }
	first := open()
	t0 := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var evs []*schema.Event
	for v := 0; v < 40; v++ {
		for m := 0; m < 3; m++ { // 3 events, 10 minutes apart: one session each
			evs = append(evs, &schema.Event{EventID: schema.NewEventID(), ReceivedAt: t0.Add(time.Duration(10*m) * time.Minute),
				App: "shop", VisitorID: fmt.Sprintf("v%d", v), URL: fmt.Sprintf("/%d", m)})
		}
	}
	if err := first.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for v := 0; v < 40; v++ {
		for {
			ss, err := ReadSessions(context.Background(), s, ks, "shop", fmt.Sprintf("v%d", v))
			if err != nil {
				t.Fatal(err)
			}
			if len(ss) == 1 && ss[0].EventCount == 3 && ss[0].LandingURL == "/0" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("visitor v%d: sessions %+v, want one of 3 events", v, ss)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var pending int
	for time.Now().Before(deadline) {
		if err := s.Query(fmt.Sprintf("SELECT COUNT(*) FROM %s.sessions_pending", ks)).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pending != 0 {
		t.Fatalf("%d markers left after the sessionizer ran", pending)
	}
	owners := func() map[string]int {
		t.Helper()
		iter := s.Query(fmt.Sprintf("SELECT owner, lease_until FROM %s.sessions_progress", ks)).Iter()
		out := map[string]int{}
		var owner string
		var until time.Time
		for iter.Scan(&owner, &until) {
			if until.After(time.Now()) {
				out[owner]++
			}
		}
		if err := iter.Close(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := owners(); len(got) != 1 || got[first.z.owner] != pendingShards {
		t.Fatalf("leases %v, want all %d held by the first sink", got, pendingShards)
	}
	second := open()
	defer second.Close()
	time.Sleep(time.Second)
	if got := owners(); got[second.z.owner] != 0 {
		t.Fatalf("the second sink took %d shards from a live first sink", got[second.z.owner])
	}
	owner2 := second.z.owner
	first.Close()
	for time.Now().Before(deadline) && owners()[owner2] != pendingShards {
		time.Sleep(50 * time.Millisecond)
	}
	if got := owners(); got[owner2] != pendingShards {
		t.Fatalf("after the first sink closed, leases %v, want all with the second", got)
	}
}

// A lease is a lightweight transaction, a Paxos round on every replica: the
// holder renews its shards only once they are past half their time, and a
// sink that holds none reads the leases and sends no transaction while
// they run. Over 40 rounds, the holder takes its 16 shards once (nothing
// is past half of 30 s) and the second sink tries none.
func TestLeasesCostNoTransactionPerRound(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	open := func() *Sink { return openSessionSink(t, ks, 50*time.Millisecond, 50*time.Millisecond) }
	first := open()
	defer first.Close()
	for deadline := time.Now().Add(10 * time.Second); len(heldShards(first)) < pendingShards; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the first sink holds %d shards, want %d", len(heldShards(first)), pendingShards)
		}
	}
	second := open()
	defer second.Close()
	time.Sleep(2 * time.Second) // 40 rounds of each
	if n := first.z.cas.Load(); n != pendingShards {
		t.Errorf("the holder sent %d lease transactions in 40 rounds, want %d (one per shard, taken once)", n, pendingShards)
	}
	if n := second.z.cas.Load(); n != 0 {
		t.Errorf("the second sink sent %d lease transactions while every lease was held, want 0", n)
	}
	if got := heldShards(second); len(got) != 0 {
		t.Errorf("the second sink holds shards %v of a live first sink", got)
	}
}

// openSessionSink opens a sink on ks whose sessionizer runs rounds of
// slot and takes slots delay after they close; the caller closes it.
func openSessionSink(t *testing.T, ks string, delay, slot time.Duration) *Sink {
	t.Helper()
	o := testOptions(ks)
	o.SessionsDelay = delay
	sink := New(o, zerolog.Nop())
	sink.slot = slot
	if err := sink.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sink
}

// heldShards is the shards whose lease a sink holds now.
func heldShards(s *Sink) []int16 {
	var out []int16
	for sh := int16(0); sh < pendingShards; sh++ {
		if time.Until(time.Unix(0, s.held.until[sh].Load())) > 0 {
			out = append(out, sh)
		}
	}
	return out
}

// Identity links (decision 0004): an identify, an alias and a logged-in
// event link a visitor and a user both ways, with the earliest and the
// latest time and how they were first linked, whatever the arrival order;
// a second user on the same browser is a second link, not a merge; a
// redelivery changes nothing; an event without both ids links nothing.
func TestIdentityLinks(t *testing.T) {
	s, ks, sink := openSink(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ev := func(min int, name, vid, uid string, props map[string]string) *schema.Event {
		e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: base.Add(time.Duration(min) * time.Minute), App: "shop",
			EventName: name, VisitorID: vid, UserID: uid}
		for k, v := range props {
			if e.Props == nil {
				e.Props = map[string]json.RawMessage{}
			}
			b, _ := json.Marshal(v)
			e.Props[k] = b
		}
		return e
	}
	anon := ev(0, "page_view", "v1", "", nil)                                           // before sign-up: no link
	signup := ev(5, "identify", "v1", "u1", nil)                                        // the first link
	later := ev(30, "page_view", "v1", "u1", nil)                                       // seen again
	shared := ev(40, "page_view", "v1", "u2", nil)                                      // another user on the same browser
	alias := ev(50, "alias", "", "u1", map[string]string{"previous_id": "v-app"})       // the app's anonymous id
	for _, batch := range [][]*schema.Event{{later, shared}, {alias}, {anon, signup}} { // out of order
		if err := sink.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Write(ctx, []*schema.Event{signup, later}); err != nil { // a redelivery
		t.Fatal(err)
	}
	byVisitor, err := ReadLinks(ctx, s, ks, "shop", "visitor", "v1")
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{
		{Visitor: "v1", User: "u1", FirstSeen: signup.ReceivedAt, LastSeen: later.ReceivedAt, Via: "identify"},
		{Visitor: "v1", User: "u2", FirstSeen: shared.ReceivedAt, LastSeen: shared.ReceivedAt, Via: "event"},
	}
	if !reflect.DeepEqual(byVisitor, want) {
		t.Errorf("links of v1:\n got %+v\nwant %+v", byVisitor, want)
	}
	byUser, err := ReadLinks(ctx, s, ks, "shop", "user", "u1")
	if err != nil {
		t.Fatal(err)
	}
	wantUser := []Link{
		{Visitor: "v-app", User: "u1", FirstSeen: alias.ReceivedAt, LastSeen: alias.ReceivedAt, Via: "alias"},
		{Visitor: "v1", User: "u1", FirstSeen: signup.ReceivedAt, LastSeen: later.ReceivedAt, Via: "identify"},
	}
	if !reflect.DeepEqual(byUser, wantUser) {
		t.Errorf("links of u1:\n got %+v\nwant %+v", byUser, wantUser)
	}
	if none, _ := ReadLinks(ctx, s, ks, "shop", "visitor", "nobody"); len(none) != 0 {
		t.Errorf("links of an unknown visitor: %+v", none)
	}
}

// visitor_events holds the keys and the user id only (issue 28);
// reading a visitor's events gives them whole, from events_by_day, also
// for an event id sent in capitals (bucketed as sent).
func TestVisitorRowsAreCompletedFromTheDay(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	o := testOptions(ks)
	o.Buckets = 7 // FNV-1a mod a power of two below 64 cannot tell the case of a letter
	sink := New(o, zerolog.Nop())
	ctx := context.Background()
	if err := sink.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	lower := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: at, App: "shop", VisitorID: "v1", EventName: "view",
		UserAgent: "ua", URL: "/a", Props: map[string]json.RawMessage{"k": json.RawMessage(`"v"`)}}
	id := schema.NewEventID()
	for Bucket(id, 7) == Bucket(strings.ToUpper(id), 7) { // the spelling must matter
		id = schema.NewEventID()
	}
	upper := &schema.Event{EventID: strings.ToUpper(id), ReceivedAt: at.Add(time.Minute), App: "shop", VisitorID: "v1",
		EventName: "buy", Endpoint: "tr", URL: "/b", UserID: "u1"}
	if err := sink.Write(ctx, []*schema.Event{lower, upper}); err != nil {
		t.Fatal(err)
	}
	var uid string
	if err := s.Query(fmt.Sprintf("SELECT user_id FROM %s.visitor_events WHERE app = 'shop' AND day = ? AND vbucket = ? AND visitor_id = 'v1' LIMIT 1", ks),
		Day(at), VisitorBucket("shop", "v1", 7)).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	if uid != "u1" {
		t.Fatalf("the visitor row holds user_id %q, want u1", uid)
	}
	got, err := ReadPartition(ctx, s, ks, "events_by_visitor", "shop", "v1", time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].EventName != "buy" || got[0].Endpoint != "tr" || got[0].URL != "/b" || got[1].EventName != "view" ||
		got[1].UserAgent != "ua" || got[1].URL != "/a" || string(got[1].Props["k"]) != `"v"` {
		t.Fatalf("read back %d events: %+v", len(got), got)
	}
}
