package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// ownCassandra is a second real Cassandra node on its own ports and data
// directory, so a test can stop it without disturbing the shared one.
type ownCassandra struct {
	t   *testing.T
	env []string
	ran bool
}

func startOwnCassandra(t *testing.T) *ownCassandra {
	t.Helper()
	native, storage := freePort(t), freePort(t)
	c := &ownCassandra{t: t, env: append(os.Environ(),
		"CASSANDRA_DIR="+filepath.Join(t.TempDir(), "cassandra"),
		"SPOOR_CASSANDRA_PORT="+native[strings.LastIndex(native, ":")+1:],
		"CASSANDRA_STORAGE_PORT="+storage[strings.LastIndex(storage, ":")+1:],
		"CASSANDRA_HEAP=512M")}
	c.run("start")
	t.Cleanup(func() { c.run("stop") })
	return c
}

func (c *ownCassandra) host() string {
	for _, kv := range c.env {
		if p, ok := strings.CutPrefix(kv, "SPOOR_CASSANDRA_PORT="); ok {
			return "127.0.0.1:" + p
		}
	}
	return ""
}

func (c *ownCassandra) run(cmd string) {
	c.t.Helper()
	cmdx := exec.Command("bash", "../scripts/cassandra.sh", cmd)
	cmdx.Env = c.env
	out, err := cmdx.CombinedOutput()
	if err != nil {
		msg := fmt.Sprintf("scripts/cassandra.sh %s: %v\n%s", cmd, err, out)
		if os.Getenv("CI") == "true" || cmd != "start" {
			c.t.Fatal(msg)
		}
		c.t.Skip(msg)
	}
}

// Cassandra stopped for a while under load, then started: every event
// answered 200 is in Cassandra exactly once afterwards, none dead-lettered.
func TestCassandraOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts its own Cassandra node")
	}
	node := startOwnCassandra(t)
	dir := t.TempDir()
	cfg := cassandraConfig(t, dir, "spoor_outage")
	cfg.Cassandra.Hosts = []string{node.host()}
	a := start(t, cfg)
	defer a.Stop()

	stop := make(chan struct{})
	acked, statuses := load("http://"+a.Addr(), 4, stop)
	time.Sleep(time.Second)
	node.run("stop") // the store goes away; the collector never notices
	time.Sleep(3 * time.Second)
	node.run("start")
	time.Sleep(time.Second)
	close(stop)
	ids := acked()
	t.Logf("answered during the outage: %v", statuses())
	if st := statuses(); len(st) != 1 || st[200] == 0 {
		t.Fatalf("every request must be answered 200 while Cassandra is down, got %v", st)
	}

	cluster := cassandratest.Cluster()
	cluster.Hosts = []string{node.host()}
	s, err := cluster.CreateSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		evs, err := cassandra.ReadTable(context.Background(), s, "spoor_outage", "events_by_day")
		if err == nil && len(evs) >= len(ids) {
			count := map[string]int{}
			for _, e := range evs {
				count[e.EventID]++
			}
			for _, id := range ids {
				if count[id] != 1 {
					t.Fatalf("event %s stored %d times", id, count[id])
				}
			}
			if len(evs) != len(ids) {
				t.Fatalf("%d rows for %d answered events", len(evs), len(ids))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events in Cassandra after the outage (%v)", len(evs), len(ids), err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	dl, err := a.Bus.DeadLetters(context.Background(), 10)
	if err != nil || len(dl) != 0 {
		t.Fatalf("dead letters after an outage: %d (%v), want none", len(dl), err)
	}
}
