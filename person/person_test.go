package person

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// world is a store with its running sink, and helpers to send it events
// at minutes after base.
type world struct {
	t     *testing.T
	store Store
	cql   Cassandra // the Cassandra world's store
	sink  sinks.Sink
	base  time.Time
	// files: the file world's layout; its sink is closed and reopened
	// after each write, so the files are published.
	files *file.Paths
	// oldTables: the Cassandra world's visitor rows are moved to
	// events_by_visitor after each write, as sinks before decision 0007
	// wrote them.
	oldTables bool
}

// eachStore runs fn on a Cassandra world, on one whose visitor rows are in
// the tables written before the day tables, and on a file-store world.
func eachStore(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Run("cassandra", func(t *testing.T) { fn(t, newWorld(t)) })
	t.Run("cassandra-old-tables", func(t *testing.T) { w := newWorld(t); w.oldTables = true; fn(t, w) })
	t.Run("files", func(t *testing.T) { fn(t, newFileWorld(t)) })
}

// toOldTables moves the visitor_events rows of the visitors of evs to
// events_by_visitor, as slim rows, and writes the visitors' first touch
// (the layout before decision 0007; the world has 4 buckets).
func (w *world) toOldTables(evs []*schema.Event) {
	w.t.Helper()
	s, ks := w.cql.Session, w.cql.Keyspace
	done := map[[2]string]bool{}
	for _, e := range evs {
		k := [2]string{e.VisitorID, cassandra.Day(e.ReceivedAt).String()}
		if e.VisitorID == "" || done[k] {
			continue
		}
		done[k] = true
		day, vb := cassandra.Day(e.ReceivedAt), cassandra.VisitorBucket(e.App, e.VisitorID, 4)
		iter := s.Query(fmt.Sprintf("SELECT ts, event_id, user_id FROM %s.visitor_events WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id = ?", ks),
			e.App, day, vb, e.VisitorID).Iter()
		var ts time.Time
		var id gocql.UUID
		var uid string
		for iter.Scan(&ts, &id, &uid) {
			if err := s.Query(fmt.Sprintf("INSERT INTO %s.events_by_visitor (app, visitor_id, ts, event_id, user_id, slim) VALUES (?, ?, ?, ?, ?, true)", ks),
				e.App, e.VisitorID, ts, id, uid).Exec(); err != nil {
				w.t.Fatal(err)
			}
			if err := s.Query(fmt.Sprintf("UPDATE %s.visitors USING TIMESTAMP ? SET first_seen = ?, first_event_id = ? WHERE app = ? AND visitor_id = ?", ks),
				(int64(1)<<62-1)-ts.UnixMicro(), ts, id, e.App, e.VisitorID).Exec(); err != nil {
				w.t.Fatal(err)
			}
			if err := s.Query(fmt.Sprintf("DELETE FROM %s.visitor_events WHERE app = ? AND day = ? AND vbucket = ? AND visitor_id = ? AND ts = ? AND event_id = ?", ks),
				e.App, day, vb, e.VisitorID, ts, id).Exec(); err != nil {
				w.t.Fatal(err)
			}
		}
		if err := iter.Close(); err != nil {
			w.t.Fatal(err)
		}
	}
}

func fileSink(p file.Paths) *file.Sink {
	return file.New(file.Options{Dir: p.Events, RollBytes: 1 << 20, RollInterval: time.Hour, DedupWindow: 1000}, zerolog.Nop())
}

func newFileWorld(t *testing.T) *world {
	p := file.PathsOf(filepath.Join(t.TempDir(), "events"))
	sink := fileSink(p)
	if err := sink.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, store: Files{Paths: p, Settle: 5 * time.Second}, sink: sink, files: &p,
		base: time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Millisecond)}
	t.Cleanup(func() { w.sink.Close() })
	return w
}

func newWorld(t *testing.T) *world {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	o := config.Default().Cassandra
	o.Hosts, o.Keyspace, o.Buckets, o.Sessions = cassandratest.Hosts(), ks, 4, false
	o.Timeout, o.ConnectTimeout = 10*time.Second, 10*time.Second
	sink := cassandra.New(o, zerolog.Nop())
	if err := sink.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	cql := Cassandra{Session: s, Keyspace: ks}
	return &world{t: t, store: cql, cql: cql, sink: sink,
		base: time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Millisecond)}
}

func (w *world) at(min int) time.Time { return w.base.Add(time.Duration(min) * time.Minute) }

// ev builds an event; props are k=v pairs of JSON values.
func (w *world) ev(min int, name, visitor, user string, props ...string) *schema.Event {
	e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: w.at(min), Endpoint: "tr", App: "shop",
		EventName: name, VisitorID: visitor, UserID: user}
	for _, kv := range props {
		k, v, _ := strings.Cut(kv, "=")
		if e.Props == nil {
			e.Props = map[string]json.RawMessage{}
		}
		e.Props[k] = json.RawMessage(v)
	}
	return e
}

// write hands evs to the sink as the worker does (a RawSink gets the
// canonical bytes with only the head decoded).
func (w *world) write(evs ...*schema.Event) {
	w.t.Helper()
	if w.files != nil {
		raw := make([]*schema.Event, len(evs))
		for i, e := range evs {
			b, err := e.Encode()
			if err == nil {
				raw[i], err = schema.DecodeHead(b)
			}
			if err != nil {
				w.t.Fatal(err)
			}
		}
		evs = raw
	}
	if err := w.sink.Write(context.Background(), evs); err != nil {
		w.t.Fatal(err)
	}
	if w.oldTables {
		w.toOldTables(evs)
	}
	if w.files != nil {
		if err := w.sink.Close(); err != nil {
			w.t.Fatal(err)
		}
		w.sink = fileSink(*w.files)
		if err := w.sink.Open(context.Background()); err != nil {
			w.t.Fatal(err)
		}
	}
}

func ids(evs []*schema.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s@%d", e.EventName, e.ReceivedAt.Unix()))
	}
	return strings.Join(out, " ")
}

func names(evs []*schema.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventName)
	}
	return out
}

// The story: a visitor browses anonymously, signs up, logs in on a shared
// family computer too, and a server-side event names only the user.
func story(w *world) {
	w.write(
		w.ev(1, "anon_view", "v1", ""),
		w.ev(2, "anon_click", "v1", ""),
		w.ev(3, "identify", "v1", "u1", `plan="free"`, `name="Ann"`),
		w.ev(4, "logged_view", "v1", "u1"),
		w.ev(5, "server_purchase", "", "u1", `total=12.5`),
		// the family computer: someone else before and after u1
		w.ev(6, "other_before", "v9", ""),
		w.ev(7, "other_login", "v9", "u2"),
		w.ev(8, "ann_login", "v9", "u1"),
		w.ev(9, "ann_view", "v9", "u1"),
		w.ev(10, "other_again", "v9", "u2"),
		w.ev(11, "identify", "v1", "u1", `plan="pro"`, `name="Ann"`),
		w.ev(12, "identify", "v1", "u1", `plan="pro"`),
	)
}

func TestResolveAcrossSignUpAndSharedBrowser(t *testing.T) {
	eachStore(t, func(t *testing.T, w *world) {
		story(w)
		ctx := context.Background()
		for _, c := range []struct{ kind, id string }{{"user", "u1"}, {"visitor", "v1"}} {
			p, err := w.store.Resolve(ctx, "shop", c.kind, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p.Users) != "[u1]" || len(p.Visitors) != 2 {
				t.Fatalf("%s %s: users %v visitors %+v", c.kind, c.id, p.Users, p.Visitors)
			}
			v9 := p.Visitors[1]
			if v9.ID != "v9" || !v9.Shared || v9.OtherUsers != 1 || len(v9.Windows) != 1 ||
				!v9.Windows[0].From.Equal(w.at(8)) || !v9.Windows[0].To.Equal(w.at(9)) {
				t.Fatalf("shared browser: %+v", v9)
			}
			if p.Visitors[0].Shared {
				t.Fatalf("v1 is not shared: %+v", p.Visitors[0])
			}
			tl, err := w.store.Timeline(ctx, p, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := "identify identify ann_view ann_login server_purchase logged_view identify anon_click anon_view"
			if got := strings.Join(names(tl), " "); got != want {
				t.Fatalf("timeline of %s %s:\n got %s\nwant %s", c.kind, c.id, got, want)
			}
		}
		// The shared browser asked for itself is the browser, nobody's person.
		p, err := w.store.Resolve(ctx, "shop", "visitor", "v9")
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Users) != 0 || len(p.Visitors) != 1 || !p.Visitors[0].Shared || p.Visitors[0].OtherUsers != 2 {
			t.Fatalf("v9 alone: %+v", p)
		}
		// u2 gets the family computer only inside their own window.
		p, err = w.store.Resolve(ctx, "shop", "user", "u2")
		if err != nil {
			t.Fatal(err)
		}
		tl, err := w.store.Timeline(ctx, p, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// u2's window is 7..10, so u1's login inside it shows: a shared browser
		// is an approximation, and the docs say so.
		if got := strings.Join(names(tl), " "); got != "other_again ann_view ann_login other_login" {
			t.Fatalf("u2's timeline: %s", got)
		}
	})
}

func TestTimelinePages(t *testing.T) {
	eachStore(t, func(t *testing.T, w *world) {
		story(w)
		ctx := context.Background()
		p, err := w.store.Resolve(ctx, "shop", "user", "u1")
		if err != nil {
			t.Fatal(err)
		}
		var all []string
		before := time.Time{}
		for page := 0; page < 10; page++ {
			tl, err := w.store.Timeline(ctx, p, before, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(tl) == 0 {
				break
			}
			if len(tl) > 2 {
				t.Fatalf("page of %d", len(tl))
			}
			all = append(all, names(tl)...)
			before = tl[len(tl)-1].ReceivedAt
		}
		want := "identify identify ann_view ann_login server_purchase logged_view identify anon_click anon_view"
		if got := strings.Join(all, " "); got != want {
			t.Fatalf("paged:\n got %s\nwant %s", got, want)
		}
	})
}

func TestAliasChainsResolve(t *testing.T) {
	eachStore(t, func(t *testing.T, w *world) {
		alias := func(min int, prev, user string) *schema.Event {
			return w.ev(min, "alias", "", user, fmt.Sprintf(`previous_id=%q`, prev))
		}
		w.write(w.ev(1, "anon_view", "a", ""), alias(2, "a", "b"), w.ev(3, "as_b", "", "b"), alias(4, "b", "c"), w.ev(5, "as_c", "", "c"))
		ctx := context.Background()
		for _, c := range []struct{ kind, id string }{{"user", "c"}, {"user", "b"}, {"visitor", "a"}, {"user", "a"}} {
			p, err := w.store.Resolve(ctx, "shop", c.kind, c.id)
			if err != nil {
				t.Fatal(err)
			}
			tl, err := w.store.Timeline(ctx, p, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(names(tl), " "); got != "as_c alias as_b alias anon_view" {
				t.Errorf("from %s %s: users %v visitors %+v timeline %s", c.kind, c.id, p.Users, p.Visitors, got)
			}
		}
	})
}

func TestTraitsLatestAndWhenChanged(t *testing.T) {
	eachStore(t, func(t *testing.T, w *world) {
		story(w)
		story(w) // replayed: changes nothing
		p, err := w.store.Resolve(context.Background(), "shop", "user", "u1")
		if err != nil {
			t.Fatal(err)
		}
		ts, err := w.store.Traits(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tr := range ts {
			got = append(got, fmt.Sprintf("%s=%s set %d changed %d", tr.Name, tr.Value, tr.SetAt.Sub(w.base)/time.Minute, tr.ChangedAt.Sub(w.base)/time.Minute))
		}
		want := `name="Ann" set 11 changed 3; plan="pro" set 12 changed 11`
		if strings.Join(got, "; ") != want {
			t.Fatalf("traits:\n got %s\nwant %s", strings.Join(got, "; "), want)
		}
	})
}

// Apps finds where an id lives, in both stores: an id of one app, one of
// two apps, a visitor known only by its events, and an unknown id.
func TestApps(t *testing.T) {
	eachStore(t, func(t *testing.T, w *world) {
		blog := w.ev(20, "read", "v7", "u1")
		blog.App = "blog"
		w.write(w.ev(1, "identify", "v1", "u1"), w.ev(2, "view", "v2", ""), blog)
		for _, c := range []struct {
			kind, id string
			want     []string
		}{
			{"user", "u1", []string{"blog", "shop"}},
			{"visitor", "v1", []string{"shop"}},
			{"visitor", "v2", []string{"shop"}}, // no identity link: found by its events
			{"visitor", "v7", []string{"blog"}},
			{"user", "nobody", nil},
			{"visitor", "u1", nil}, // a user id is no visitor id
		} {
			got, err := w.store.Apps(context.Background(), c.kind, c.id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Apps(%s %s) = %q, want %q", c.kind, c.id, got, c.want)
			}
		}
	})
}
