package person

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// count reads how many rows a partition query finds.
func (w *world) count(table, where string, args ...any) int {
	w.t.Helper()
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM %s.%s WHERE %s ALLOW FILTERING", w.cql.Keyspace, table, where)
	if err := w.cql.Session.Query(q, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestForgetRemovesThePersonEverywhereAndOnlyThem(t *testing.T) {
	// vt: the table that holds the visitors' rows.
	for _, vt := range []string{"events_by_visitor", "visitor_events"} {
		t.Run(vt, func(t *testing.T) {
			w := newWorld(t)
			w.oldTables = vt == "events_by_visitor"
			forgetStory(t, w, vt)
		})
	}
}

func forgetStory(t *testing.T, w *world, vt string) {
	story(w)
	w.write(w.ev(20, "bystander", "v5", "u5"))
	ctx := context.Background()
	grace := sinks.ForgottenRefresh + 100*time.Millisecond
	r, err := w.store.Forget(ctx, Request{App: "shop", Kind: "user", ID: "u1", By: "test@example.com", Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.IDs) != "[user:u1 visitor:v1]" {
		t.Fatalf("ids %v", r.IDs)
	}
	// 9 events of u1 (7 on v1 or the user alone, 2 in the shared window);
	// 2 links (v1, v9) both ways; 2 traits × values; in the old layout
	// v1's visitors row (the sink writes none since decision 0008).
	want := map[string]int64{"events_by_day": 9, vt: 8, "events_by_user": 7,
		"identity_by_visitor": 2, "identity_by_user": 2, "user_traits": 5}
	if vt == "events_by_visitor" {
		want["visitors"] = 1
	}
	if fmt.Sprint(r.Removed) != fmt.Sprint(want) {
		t.Fatalf("removed %v\n   want %v", r.Removed, want)
	}
	// Nothing of u1 or v1 is left anywhere; the shared browser keeps the
	// other user's events and its anonymous past; the bystander is whole.
	for _, c := range []struct {
		table, where string
		arg          string
		n            int
	}{
		{"events_by_day", "user_id = ?", "u1", 0},
		{"events_by_day", "visitor_id = ?", "v1", 0},
		{"events_by_user", "user_id = ?", "u1", 0},
		{"events_by_visitor", "visitor_id = ?", "v1", 0},
		{vt, "visitor_id = ?", "v1", 0},
		{vt, "visitor_id = ?", "v9", 3},
		{"events_by_day", "visitor_id = ?", "v9", 3},
		{"identity_by_user", "user_id = ?", "u1", 0},
		{"identity_by_visitor", "visitor_id = ?", "v9", 1},
		{"user_traits", "user_id = ?", "u1", 0},
		{"visitors", "visitor_id = ?", "v1", 0},
		{"visitors", "visitor_id = ?", "v9", 1}, // the old layout's first touch of the shared browser stays
		{"events_by_user", "user_id = ?", "u5", 1},
		{"identity_by_user", "user_id = ?", "u5", 1},
	} {
		if c.table == "visitors" && c.arg == "v9" && vt != "events_by_visitor" {
			continue
		}
		if n := w.count(c.table, "app = 'shop' AND "+c.where, c.arg); n != c.n {
			t.Errorf("%s where %s %s: %d rows, want %d", c.table, c.where, c.arg, n, c.n)
		}
	}

	// Events of the person still in flight arrive after the forget: the
	// sink drops them, and a bystander in the same batch is stored.
	before := w.sink.(*cassandra.Sink).ForgottenDropped()
	w.write(w.ev(30, "late_view", "v1", ""), w.ev(31, "late_server", "", "u1"), w.ev(32, "bystander_again", "v5", ""))
	if d := w.sink.(*cassandra.Sink).ForgottenDropped() - before; d != 2 {
		t.Fatalf("dropped %d late events, want 2", d)
	}
	if n := w.count(vt, "app = 'shop' AND visitor_id = ?", "v1"); n != 0 {
		t.Fatalf("a late event of v1 landed")
	}
	if n := w.count(vt, "app = 'shop' AND visitor_id = ?", "v5"); n != 2 {
		t.Fatalf("the bystander has %d events, want 2", n)
	}

	// A repeat finds nothing, and both requests are in the log, without data.
	r2, err := w.store.Forget(ctx, Request{App: "shop", Kind: "user", ID: "u1", By: "test@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Total() != 0 {
		t.Fatalf("repeat removed %v", r2.Removed)
	}
	logs, err := w.cql.ReadLog(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[1].RequestID != r.RequestID || logs[1].By != "test@example.com" || logs[1].Removed["events_by_day"] != 9 {
		t.Fatalf("log %+v", logs)
	}
	sort.Strings(logs[0].IDs)
	if !strings.Contains(fmt.Sprint(logs[0].IDs), "user:u1") || len(logs[0].Removed) != 0 {
		t.Fatalf("repeat's log row %+v", logs[0])
	}
}

// allLines returns every line of every published file under dir.
func allLines(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := file.Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range paths {
		if err := file.Scan(p, func(l []byte) error { out = append(out, string(l)); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func countWith(lines []string, subs ...string) int {
	n := 0
	for _, l := range lines {
		for _, s := range subs {
			if strings.Contains(l, s) {
				n++
				break
			}
		}
	}
	return n
}

func TestForgetInTheFileStore(t *testing.T) {
	w := newFileWorld(t)
	story(w)
	w.write(w.ev(20, "bystander", "v5", "u5"))
	ctx := context.Background()
	// An in-progress file (the sink's, not yet published) holding the
	// person: the forget waits for the sink to publish it, then rewrites it.
	grace := sinks.ForgottenRefresh + 100*time.Millisecond
	w.sink.Write(ctx, []*schema.Event{w.ev(21, "in_progress", "v1", "")})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		time.Sleep(grace + 500*time.Millisecond)
		w.sink.Close() // publishes the in-progress file, after the grace
	}()
	defer func() { <-closed }()
	r, err := w.store.Forget(ctx, Request{App: "shop", Kind: "user", ID: "u1", By: "test", Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	// 9 of the story's + the in-progress one; the links (v1, u1), (v9, u1).
	if fmt.Sprint(r.IDs) != "[user:u1 visitor:v1]" || r.Removed["events"] != 10 || r.Removed["identity_links"] != 2 {
		t.Fatalf("report %+v", r)
	}
	evs := allLines(t, w.files.Events)
	if n := countWith(evs, `"user_id":"u1"`, `"visitor_id":"v1"`); n != 0 {
		t.Fatalf("%d lines of the person left", n)
	}
	if n := countWith(evs, `"visitor_id":"v9"`); n != 3 {
		t.Fatalf("the shared browser keeps %d lines, want 3 (the other user's and the anonymous one)", n)
	}
	if n := countWith(evs, `"visitor_id":"v5"`); n != 1 {
		t.Fatalf("the bystander has %d lines", n)
	}
	links := allLines(t, w.files.Identity)
	if countWith(links, `"user_id":"u1"`) != 0 || countWith(links, `"user_id":"u2"`) != 1 {
		t.Fatalf("links left: %v", links)
	}
	for _, dir := range []string{w.files.Events, w.files.Identity} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".forget-") {
				t.Errorf("temporary file left: %s", p)
			}
			return nil
		})
	}

	// Late events of the person are dropped by the sink; a bystander's stored.
	late := fileSink(*w.files)
	if err := late.Open(ctx); err != nil {
		t.Fatal(err)
	}
	raw := func(e *schema.Event) *schema.Event {
		b, _ := e.Encode()
		h, _ := schema.DecodeHead(b)
		return h
	}
	if err := late.Write(ctx, []*schema.Event{raw(w.ev(30, "late", "v1", "")), raw(w.ev(31, "late_server", "", "u1")),
		raw(w.ev(32, "bystander_again", "v5", ""))}); err != nil {
		t.Fatal(err)
	}
	if d := late.ForgottenDropped(); d != 2 {
		t.Fatalf("dropped %d, want 2", d)
	}
	late.Close()
	evs = allLines(t, w.files.Events)
	if countWith(evs, `"visitor_id":"v1"`, `"user_id":"u1"`) != 0 || countWith(evs, "bystander_again") != 1 {
		t.Fatal("a late event of the person landed, or the bystander's did not")
	}

	r2, err := w.store.Forget(ctx, Request{App: "shop", Kind: "user", ID: "u1", By: "test"})
	if err != nil || r2.Total() != 0 {
		t.Fatalf("repeat: %v %v", r2.Removed, err)
	}
	b, err := os.ReadFile(w.files.ForgetLog)
	if err != nil || strings.Count(string(b), "\n") != 2 || !strings.Contains(string(b), r.RequestID) || strings.Contains(string(b), "Ann") {
		t.Fatalf("forget log: %s %v", b, err)
	}
}

// An in-progress file that never publishes (no sink running to roll it)
// stops the forget with a message saying what to do; the ids are already
// refused.
func TestForgetInTheFileStoreWaitsForInProgressFiles(t *testing.T) {
	w := newFileWorld(t)
	story(w)
	w.sink.Write(context.Background(), []*schema.Event{w.ev(21, "in_progress", "v1", "")})
	s := w.store.(Files)
	s.Settle = 300 * time.Millisecond
	_, err := s.Forget(context.Background(), Request{App: "shop", Kind: "visitor", ID: "v1"})
	if err == nil || !strings.Contains(err.Error(), "not published") || !strings.Contains(err.Error(), "forget again") {
		t.Fatalf("err = %v", err)
	}
	ids, _ := file.ReadForgotten(w.files.Forgotten)
	if !ids[[3]string{"shop", "visitor", "v1"}] || !ids[[3]string{"shop", "user", "u1"}] {
		t.Fatalf("forgotten: %v", ids)
	}
}

// A person's failed events (messages refused with their reason, kept in
// the failed store) are forgotten with their events; a bystander's stay.
func TestForgetReachesFailedEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, w *world) {
		story(w)
		ctx := context.Background()
		var failed sinks.Sink
		if w.files != nil {
			failed = file.New(file.Options{Dir: w.files.Failed, RollBytes: 1 << 20, RollInterval: time.Hour, DedupWindow: 1000, NoLinks: true}, zerolog.Nop())
		} else {
			o := config.Default().Cassandra
			o.Hosts, o.Keyspace = cassandratest.Hosts(), w.cql.Keyspace
			failed = cassandra.NewFailed(o, zerolog.Nop())
		}
		if err := failed.Open(ctx); err != nil {
			t.Fatal(err)
		}
		var evs []*schema.Event
		for i, who := range [][2]string{{"v1", ""}, {"", "u1"}, {"v1", "u1"}, {"v5", "u5"}} {
			f := schema.NewFailed("tr", "shop", w.at(40+i), 0, "invalid_field", `field "w": not a number`, []byte(`{"w":"wide","email":"ann@example.com"}`))
			f.VisitorID, f.UserID = who[0], who[1]
			b, err := f.Encode()
			if err != nil {
				t.Fatal(err)
			}
			h, err := schema.DecodeHead(b)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, h)
		}
		if err := failed.Write(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if err := failed.Close(); err != nil { // publishes the file store's
			t.Fatal(err)
		}
		r, err := w.store.Forget(ctx, Request{App: "shop", Kind: "user", ID: "u1", By: "test", Grace: sinks.ForgottenRefresh + 100*time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if r.Removed["failed_events"] != 3 {
			t.Fatalf("removed %v, want 3 failed events", r.Removed)
		}
		left := 0
		if w.files != nil {
			fs, err := file.ReadFailed(w.files.Failed)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if f.UserID == "u1" || f.VisitorID == "v1" {
					t.Errorf("failed event of the person left: %+v", f)
				}
			}
			left = len(fs)
		} else {
			left = w.count("failed_events", "app = 'shop'")
			if n := w.count("failed_by_person", "app = 'shop' AND kind = 'user' AND id = 'u1'"); n != 0 {
				t.Errorf("%d index rows of u1 left", n)
			}
		}
		if left != 1 {
			t.Fatalf("%d failed events left, want the bystander's 1", left)
		}
	})
}
