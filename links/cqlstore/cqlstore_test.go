package cqlstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/links"
	"github.com/spoor-dev/spoor/links/cqlstore"
	"github.com/spoor-dev/spoor/links/storetest"
	"github.com/spoor-dev/spoor/schema/cql"
)

// The contract against a real Cassandra (migration 007 applied to a fresh
// keyspace per test) with change notices on a real, embedded NATS.
func TestCassandraStore(t *testing.T) {
	s := cassandratest.Session(t)
	b := storetest.Bus(t)
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) links.Store {
		ks := cassandratest.Keyspace(t, s)
		migs, err := cql.Migrations(ks)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range migs {
			if m.Version != 7 {
				continue
			}
			for _, stmt := range m.Statements {
				if err := s.Query(stmt).Exec(); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
		}
		return cqlstore.New(s, ks, b, fmt.Sprintf("links.changed.test%d", n.Add(1)))
	})
}
