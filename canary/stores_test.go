package canary

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// The Cassandra store finds a probe by its visitor, at the time the sink
// wrote it, and does not find one that was never written.
func TestCassandraFindsProbesAtTheirWriteTime(t *testing.T) {
	s := cassandratest.Session(t)
	ks := cassandratest.Keyspace(t, s)
	o := config.Default().Cassandra
	o.Hosts, o.Keyspace, o.Buckets = cassandratest.Hosts(), ks, 4
	o.Timeout, o.ConnectTimeout = 10*time.Second, 10*time.Second
	sink := cassandra.New(o, zerolog.Nop())
	ctx := context.Background()
	if err := sink.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sent := time.Now()
	time.Sleep(20 * time.Millisecond)
	if err := sink.Write(ctx, []*schema.Event{{EventID: schema.NewEventID(), ReceivedAt: time.Now(), Endpoint: "tr", App: "shop",
		VisitorID: "canary-tr-1", EventName: "canary"}}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	found, err := Cassandra{Session: s, Keyspace: ks}.Find(ctx, []Probe{
		{Visitor: "canary-tr-1", App: "shop", Entry: "tr", Sent: sent},
		{Visitor: "canary-tr-2", App: "shop", Entry: "tr", Sent: sent},
	})
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := found["canary-tr-1"]; !ok || !at.After(sent) || at.After(written) {
		t.Errorf("probe 1 found %v (%v), want between %v and %v", at, ok, sent, written)
	}
	if _, ok := found["canary-tr-2"]; ok || len(found) != 1 {
		t.Errorf("found %v", found)
	}
}
