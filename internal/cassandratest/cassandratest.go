// Package cassandratest connects integration tests to the real Cassandra
// that scripts/cassandra.sh starts (make test starts it). Under CI=true a
// test that cannot connect fails; elsewhere it is skipped with the command
// that would start the server.
package cassandratest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// Hosts is where the test server is: SPOOR_CASSANDRA_HOSTS, else the port
// scripts/cassandra.sh uses.
func Hosts() []string {
	if h := os.Getenv("SPOOR_CASSANDRA_HOSTS"); h != "" {
		return strings.Split(h, ",")
	}
	port := os.Getenv("SPOOR_CASSANDRA_PORT")
	if port == "" {
		port = "19042"
	}
	return []string{"127.0.0.1:" + port}
}

// Cluster returns a cluster config for the test server.
func Cluster() *gocql.ClusterConfig {
	c := gocql.NewCluster(Hosts()...)
	c.Consistency = gocql.One
	c.Timeout = 20 * time.Second
	c.ConnectTimeout = 10 * time.Second
	c.DisableInitialHostLookup = true
	return c
}

// Session connects or fails (CI) / skips (elsewhere).
func Session(t testing.TB) *gocql.Session {
	t.Helper()
	s, err := Cluster().CreateSession()
	if err != nil {
		msg := fmt.Sprintf("Cassandra not reachable at %v (start it: scripts/cassandra.sh start): %v", Hosts(), err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(s.Close)
	return s
}

var seq atomic.Int64

// Keyspace creates a fresh SimpleStrategy RF 1 keyspace for one test and
// drops it afterwards.
func Keyspace(t testing.TB, s *gocql.Session) string {
	t.Helper()
	ks := fmt.Sprintf("spoor_test_%d_%d", time.Now().UnixNano()%1e9, seq.Add(1))
	if err := s.Query(fmt.Sprintf(`CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`, ks)).Exec(); err != nil {
		t.Fatalf("creating keyspace %s: %v", ks, err)
	}
	t.Cleanup(func() { _ = s.Query("DROP KEYSPACE IF EXISTS " + ks).Exec() })
	return ks
}

// LogFile is the system.log of the server scripts/cassandra.sh started
// (CASSANDRA_DIR, else .scratch/cassandra of the repository), or "" when
// the tests run against other hosts (SPOOR_CASSANDRA_HOSTS) or it is not
// there.
func LogFile() string {
	if os.Getenv("SPOOR_CASSANDRA_HOSTS") != "" {
		return ""
	}
	dir := os.Getenv("CASSANDRA_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return ""
		}
		for ; ; wd = filepath.Dir(wd) {
			if _, err := os.Stat(filepath.Join(wd, "go.mod")); err == nil {
				dir = filepath.Join(wd, ".scratch", "cassandra")
				break
			}
			if filepath.Dir(wd) == wd {
				return ""
			}
		}
	}
	f := filepath.Join(dir, "logs", "system.log")
	if _, err := os.Stat(f); err != nil {
		return ""
	}
	return f
}
