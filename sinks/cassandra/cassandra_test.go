package cassandra

import (
	"context"
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
			byVisitor, err := ReadTable(context.Background(), s, ksFor(t), "events_by_visitor")
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
				t.Fatalf("events_by_visitor has %d rows, want %d", len(byVisitor), withVisitor)
			}
			return evs
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

// First touch is the earliest event whatever the arrival order; last seen
// the latest.
func TestFirstTouchOutOfOrder(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	sink := New(testOptions(ks), zerolog.Nop())
	if err := sink.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	base := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	ev := func(min int, url, source string) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: base.Add(time.Duration(min) * time.Minute), App: "shop",
			VisitorID: "v1", URL: url, Source: source}
	}
	middle, first, last := ev(10, "/b", "mail"), ev(0, "/landing", "news"), ev(20, "/c", "")
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
	// A redelivery of the middle event changes nothing.
	if err := sink.Write(context.Background(), []*schema.Event{middle}); err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadVisitor(context.Background(), s, ks, "shop", "v1"); again != v {
		t.Fatalf("redelivery changed the visitor: %+v -> %+v", v, again)
	}
}
