package person

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// count reads how many rows a partition query finds.
func (w *world) count(table, where string, args ...any) int {
	w.t.Helper()
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM %s.%s WHERE %s ALLOW FILTERING", w.store.Keyspace, table, where)
	if err := w.store.Session.Query(q, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestForgetRemovesThePersonEverywhereAndOnlyThem(t *testing.T) {
	w := newWorld(t)
	story(w)
	w.write(w.ev(20, "bystander", "v5", "u5"))
	ctx := context.Background()
	grace := cassandra.ForgottenRefresh + 100*time.Millisecond
	r, err := w.store.Forget(ctx, Request{App: "shop", Kind: "user", ID: "u1", By: "test@example.com", Grace: grace})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.IDs) != "[user:u1 visitor:v1]" {
		t.Fatalf("ids %v", r.IDs)
	}
	// 9 events of u1 (7 on v1 or the user alone, 2 in the shared window);
	// v1's visitors row; 2 links (v1, v9) both ways; 2 traits × values.
	want := map[string]int64{"events_by_day": 9, "events_by_visitor": 8, "events_by_user": 7,
		"visitors": 1, "identity_by_visitor": 2, "identity_by_user": 2, "user_traits": 5}
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
		{"events_by_visitor", "visitor_id = ?", "v9", 3},
		{"events_by_day", "visitor_id = ?", "v9", 3},
		{"identity_by_user", "user_id = ?", "u1", 0},
		{"identity_by_visitor", "visitor_id = ?", "v9", 1},
		{"user_traits", "user_id = ?", "u1", 0},
		{"visitors", "visitor_id = ?", "v1", 0},
		{"visitors", "visitor_id = ?", "v9", 1},
		{"events_by_user", "user_id = ?", "u5", 1},
		{"identity_by_user", "user_id = ?", "u5", 1},
	} {
		if n := w.count(c.table, "app = 'shop' AND "+c.where, c.arg); n != c.n {
			t.Errorf("%s where %s %s: %d rows, want %d", c.table, c.where, c.arg, n, c.n)
		}
	}

	// Events of the person still in flight arrive after the forget: the
	// sink drops them, and a bystander in the same batch is stored.
	before := w.sink.ForgottenDropped()
	w.write(w.ev(30, "late_view", "v1", ""), w.ev(31, "late_server", "", "u1"), w.ev(32, "bystander_again", "v5", ""))
	if d := w.sink.ForgottenDropped() - before; d != 2 {
		t.Fatalf("dropped %d late events, want 2", d)
	}
	if n := w.count("events_by_visitor", "app = 'shop' AND visitor_id = ?", "v1"); n != 0 {
		t.Fatalf("a late event of v1 landed")
	}
	if n := w.count("events_by_visitor", "app = 'shop' AND visitor_id = ?", "v5"); n != 2 {
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
	logs, err := w.store.ReadLog(ctx, "shop")
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
