package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/internal/app"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

// startNATSCluster starts three real nats-server nodes in this process,
// clustered over loopback routes, and returns their client URLs.
func startNATSCluster(t *testing.T, dir string) string {
	t.Helper()
	clients := []string{freePort(t), freePort(t), freePort(t)}
	routes := []string{freePort(t), freePort(t), freePort(t)}
	var nodes []*bus.Embedded
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		var others []string
		for j, r := range routes {
			if j != i {
				others = append(others, "nats://"+r)
			}
		}
		wg.Add(1)
		go func() { // each node waits for its routes: start them together
			defer wg.Done()
			n, err := bus.StartNode(bus.NodeOptions{Name: fmt.Sprintf("n%d", i+1), Dir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
				Listen: clients[i], ClusterName: "spoor-test", Cluster: routes[i], Routes: others})
			errs[i] = err
			if err == nil {
				mu.Lock()
				nodes = append(nodes, n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Shutdown()
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return "nats://" + strings.Join(clients, ",nats://")
}

// On a three-node cluster with three partitioned streams at R3, every
// visitor's events land in its own partition, in the order it sent them,
// and every event is stored exactly once.
func TestPartitionsOnACluster(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.NATS.URL = startNATSCluster(t, filepath.Join(dir, "nats"))
	cfg.NATS.Replicas = 3
	cfg.NATS.Partitions = 3
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()

	const visitors, perVisitor = 12, 20
	vid := func(v int) string { return fmt.Sprintf("visitor-%02d", v) }
	ev := func(v, idx int) string {
		return fmt.Sprintf(`{"eid":%q,"ename":"step","vid":%q,"cidx":%d}`, schema.NewEventID(), vid(v), idx)
	}
	var wg sync.WaitGroup
	for v := range visitors {
		wg.Add(1)
		go func() { // one visitor sends in order, waiting for each answer
			defer wg.Done()
			for i := 0; i < perVisitor; {
				body := ev(v, i)
				n := 1
				if i%5 == 1 { // a batch of three of this visitor's events
					body, n = "["+ev(v, i)+","+ev(v, i+1)+","+ev(v, i+2)+"]", 3
				}
				if r := do(t, "POST", base+"/tr/v1/", []byte(body), nil); r.status != 200 {
					t.Errorf("visitor %d event %d: %d %s", v, i, r.status, r.body)
					return
				}
				i += n
			}
		}()
	}
	wg.Wait()
	// A server's batch for every visitor at once: split across partitions.
	var all []string
	for v := range visitors {
		all = append(all, ev(v, perVisitor))
	}
	if r := do(t, "POST", base+"/str/v1/", []byte("["+strings.Join(all, ",")+"]"), nil); r.status != 200 {
		t.Fatalf("mixed batch: %d %s", r.status, r.body)
	}
	total := visitors * (perVisitor + 1)
	evs := waitStored(t, dir, total, 60*time.Second)
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.EventID] {
			t.Fatalf("event %s stored twice", e.EventID)
		}
		seen[e.EventID] = true
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	states, err := a.Bus.PartitionStates(ctx, cfg.Sink.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	for p, st := range states {
		if len(st.Replicas) != 2 || st.Leader == "" {
			t.Fatalf("partition %d: leader %q, replicas %v; want a leader and two more replicas", p, st.Leader, st.Replicas)
		}
		msgs, err := a.Bus.EventsOf(ctx, p, 100000)
		if err != nil {
			t.Fatal(err)
		}
		events := 0
		for _, m := range msgs {
			for _, line := range strings.Split(string(m.Data), "\n") {
				e, err := schema.Decode([]byte(line))
				if err != nil {
					t.Fatal(err)
				}
				events++
				if want := bus.Partition(e.VisitorID, 3); want != p {
					t.Fatalf("%s's event in partition %d, want %d", e.VisitorID, p, want)
				}
				if prev, ok := last[e.VisitorID]; ok && *e.ClientIndex <= prev {
					t.Fatalf("%s: index %d after %d in partition %d: order lost", e.VisitorID, *e.ClientIndex, prev, p)
				}
				last[e.VisitorID] = *e.ClientIndex
			}
		}
		if events == 0 {
			t.Fatalf("partition %d holds no event", p)
		}
		t.Logf("partition %d (%s): leader %s, replicas %v, %d events", p, st.Stream, st.Leader, st.Replicas, events)
	}
	if len(last) != visitors {
		t.Fatalf("%d visitors in the streams, want %d", len(last), visitors)
	}
}

// inTheirPartitions checks that every event on the bus sits in the
// partition of its visitor (of its event id when it has none).
func inTheirPartitions(t *testing.T, a *app.App, partitions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for p := range partitions {
		msgs, err := a.Bus.EventsOf(ctx, p, 1000000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			for _, line := range strings.Split(string(m.Data), "\n") {
				e, err := schema.Decode([]byte(line))
				if err != nil {
					t.Fatal(err)
				}
				key := e.VisitorID
				if key == "" {
					key = e.EventID
				}
				if want := bus.Partition(key, partitions); want != p {
					t.Fatalf("event %s in partition %d, want %d", e.EventID, p, want)
				}
			}
		}
	}
}
