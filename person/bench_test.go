package person

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// benchWorld is one keyspace with user "u1" who has 10,000 events: 5,000
// in a browser (v1) after an identify, 5,000 server-side; two traits.
var benchWorld struct {
	once  sync.Once
	store Cassandra
	err   error
}

func seedBench(b *testing.B) Cassandra {
	benchWorld.once.Do(func() {
		cl := cassandratest.Cluster()
		cl.Timeout = 30 * time.Second
		s, err := cl.CreateSession()
		if err != nil {
			benchWorld.err = err
			return
		}
		ks := fmt.Sprintf("bench_person_%d", time.Now().UnixNano())
		o := config.Default().Cassandra
		o.Hosts, o.Keyspace, o.Buckets, o.Sessions = cassandratest.Hosts(), ks, 4, false
		o.Timeout, o.ConnectTimeout = 30*time.Second, 10*time.Second
		sink := cassandra.New(o, zerolog.Nop())
		if benchWorld.err = sink.Open(context.Background()); benchWorld.err != nil {
			return
		}
		defer sink.Close()
		base := time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Millisecond)
		var batch []*schema.Event
		for i := 0; i < 10000; i++ {
			e := &schema.Event{EventID: schema.NewEventID(), ReceivedAt: base.Add(time.Duration(i) * time.Minute),
				Endpoint: "tr", App: "shop", EventName: "page_view", UserID: "u1", URL: "https://shop.example/p/" + fmt.Sprint(i)}
			if i%2 == 0 {
				e.VisitorID = "v1"
			}
			if i == 0 {
				e.EventName = "identify"
				e.Props = map[string]json.RawMessage{"plan": json.RawMessage(`"pro"`), "name": json.RawMessage(`"Ann"`)}
			}
			batch = append(batch, e)
			if len(batch) == 200 {
				if benchWorld.err = sink.Write(context.Background(), batch); benchWorld.err != nil {
					return
				}
				batch = nil
			}
		}
		benchWorld.store = Cassandra{Session: s, Keyspace: ks}
	})
	if benchWorld.err != nil {
		b.Fatal(benchWorld.err)
	}
	return benchWorld.store
}

// BenchmarkPerson is what `spoor person --uid u1` does for its first page:
// resolve, traits, the newest 50 events.
func BenchmarkPerson(b *testing.B) {
	s := seedBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Resolve(ctx, "shop", "user", "u1")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Traits(ctx, p); err != nil {
			b.Fatal(err)
		}
		tl, err := s.Timeline(ctx, p, time.Time{}, 50)
		if err != nil || len(tl) != 50 {
			b.Fatal(len(tl), err)
		}
	}
}

// BenchmarkPersonAll reads all 10,000 events of the person.
func BenchmarkPersonAll(b *testing.B) {
	s := seedBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := s.Resolve(ctx, "shop", "user", "u1")
		if err != nil {
			b.Fatal(err)
		}
		tl, err := s.Timeline(ctx, p, time.Time{}, 0)
		if err != nil || len(tl) != 10000 {
			b.Fatal(len(tl), err)
		}
	}
}

// rawRead is the baseline: the same rows read with plain CQL, every
// column, no resolution, no merge: the user's partition and the visitor's
// slices of visitor_events (its days named in one IN).
func rawRead(b *testing.B, s Cassandra, limit string) int {
	n := 0
	days, vb, err := cassandra.VisitorDays(context.Background(), s.Session, s.Keyspace, "shop", "v1", time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	var in []time.Time
	for _, ds := range days {
		in = append(in, ds...)
	}
	for _, q := range []string{"SELECT * FROM %s.events_by_user WHERE app = 'shop' AND user_id = 'u1'" + limit,
		"SELECT * FROM %s.visitor_events WHERE app = 'shop' AND day IN ? AND vbucket = ? AND visitor_id = 'v1'" + limit} {
		var args []any
		if strings.Contains(q, "IN ?") {
			args = []any{in, vb}
		}
		iter := s.Session.Query(fmt.Sprintf(q, s.Keyspace), args...).PageSize(5000).Iter()
		for row := map[string]any{}; iter.MapScan(row); row = map[string]any{} {
			n++
		}
		if err := iter.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

func BenchmarkRawCQL(b *testing.B) {
	s := seedBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if n := rawRead(b, s, " LIMIT 50"); n != 100 {
			b.Fatal(n)
		}
	}
}

func BenchmarkRawCQLAll(b *testing.B) {
	s := seedBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if n := rawRead(b, s, ""); n != 15000 {
			b.Fatal(n)
		}
	}
}
