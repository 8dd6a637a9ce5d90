package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/internal/bus"
)

// fault is one injected failure. inject runs while the load flows: it
// breaks something, waits, repairs it, and returns the moment the cluster
// was whole again (from then on the backlog drains).
type fault struct {
	name, what string
	inject     func(ctx context.Context, r *runner) (recovered time.Time, note string, err error)
	// minAnswered is the share of sent events the run must answer 2xx:
	// 1 for a fault that should not refuse traffic (collectors spool,
	// balancers move traffic); lower only for a fault whose refusals are
	// the right answer (503 while nothing can be made durable), or which
	// cuts requests off mid-flight (kill -9: no answer, nothing promised).
	minAnswered float64
	// needsDestinations: the fault breaks a destination (CLUSTER_DESTINATIONS=1).
	needsDestinations bool
	// needsNetns: the fault cuts, slows or resets links (CLUSTER_NETNS=1, network.go).
	needsNetns bool
	// p99Bound: the collectors' p99 answer time must stay within
	// collector.ack_timeout plus a spool fsync through the fault.
	p99Bound bool
	// check, when set, looks at what the run stored beyond the
	// reconciliation (after it); an error fails the run.
	check func(r *runner, res *result) error
}

var faults = []fault{
	{"none", "no fault: steady load only", func(ctx context.Context, r *runner) (time.Time, string, error) {
		return time.Now(), "", nil
	}, 1, false, false, false, nil},
	{"nats-kill", "the NATS node leading partition 0 killed with -9 under load, restarted after 30 s", natsKill, 1, false, false, false, nil},
	{"cassandra-kill", "one Cassandra node of three killed with -9 under load (writes go on at LOCAL_QUORUM), restarted after 30 s", cassandraKill, 1, false, false, false, nil},
	{"cassandra-outage", "the whole Cassandra cluster stopped under load for 2 minutes, then started", cassandraOutage, 1, false, false, false, nil},
	{"sink-kill", "a sink worker killed with -9 mid-batch (messages delivered to it, not acked), restarted after 5 s", sinkKill, 1, false, false, false, nil},
	{"collector-term", "a collector sent SIGTERM under load (the balancer's health check moves traffic), restarted after 5 s", collectorTerm, 1, false, false, false, nil},
	{"collector-kill", "a collector killed with -9 under load (what it answered is in JetStream or, with collector.ack: local, in its fsynced spool), restarted after 5 s", collectorKill, 0.99, false, false, false, nil},
	{"nats-outage", "all three NATS nodes stopped for 60 s under load (collectors spool to disk), then started", natsOutage, 1, false, false, false, nil},
	{"leader-stepdown", "every partition's stream leader stepped down under load (`nats stream cluster step-down`)", leaderStepDown, 1, false, false, false, nil},
	{"dest-webhook-down", "the webhook destination's receiver answers 503 under load (10 min), then takes them again", destWebhookDown, 1, true, false, false, nil},
	{"kafka-kill", "the Kafka destination's broker killed with -9 under load, restarted after 30 s", kafkaKill, 1, true, false, false, nil},
	{"dest-sink-kill", "the destinations' sink process killed with -9 mid-batch (messages delivered to it, not acked), restarted after 5 s", destSinkKill, 1, true, false, false, nil},
}

func init() { faults = append(faults, networkFaults...) }

func faultByName(name string) (fault, bool) {
	for _, f := range faults {
		if f.name == name {
			return f, true
		}
	}
	return fault{}, false
}

// member runs scripts/cluster.sh up|down for one member.
func (r *runner) member(action, name string, signal ...string) error {
	args := append([]string{r.clusterScript, action, name}, signal...)
	cmd := exec.Command("bash", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster.sh %s %s: %w", action, name, err)
	}
	return nil
}

// all runs f for every name concurrently.
func all(names []string, f func(string) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(n) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func natsKill(ctx context.Context, r *runner) (time.Time, string, error) {
	victim := "nats2"
	if st, err := r.states(""); err == nil && len(st) > 0 && st[0].Leader != "" {
		victim = st[0].Leader
	}
	r.logf("kill -9 %s (leader of partition 0)", victim)
	if err := r.member("down", victim, "KILL"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.natsDown)
	r.logf("restarting %s", victim)
	if err := r.member("up", victim); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), "killed " + victim, nil
}

func cassandraKill(ctx context.Context, r *runner) (time.Time, string, error) {
	r.logf("kill -9 cass2 (127.0.0.2)")
	if err := r.member("down", "cass2", "KILL"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.cassandraDown)
	r.logf("restarting cass2")
	if err := r.member("up", "cass2"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), "killed cass2", nil
}

func cassandraOutage(ctx context.Context, r *runner) (time.Time, string, error) {
	nodes := []string{"cass1", "cass2", "cass3"}
	r.logf("stopping all three Cassandra nodes")
	if err := all(nodes, func(n string) error { return r.member("down", n) }); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.outage)
	r.logf("starting all three Cassandra nodes")
	if err := all(nodes, func(n string) error { return r.member("up", n) }); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), "", nil
}

func sinkKill(ctx context.Context, r *runner) (time.Time, string, error) {
	// Mid-batch: only once messages are out for acknowledgement.
	pending, err := waitUnacked(func() ([]bus.PartitionState, error) { return r.states(r.cfg.Sink.Consumer) }, 15*time.Second, 50*time.Millisecond)
	if err != nil {
		return time.Time{}, "", err
	}
	r.logf("kill -9 sink1 with %d messages delivered and not yet acknowledged", pending)
	if err := r.member("down", "sink1", "KILL"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, 5*time.Second)
	if err := r.member("up", "sink1"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), fmt.Sprintf("%d messages unacked at the kill", pending), nil
}

func collectorTerm(ctx context.Context, r *runner) (time.Time, string, error) {
	r.logf("SIGTERM collector1")
	start := time.Now()
	if err := r.member("down", "collector1", "TERM"); err != nil {
		return time.Time{}, "", err
	}
	took := time.Since(start)
	sleepCtx(ctx, 5*time.Second)
	if err := r.member("up", "collector1"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), fmt.Sprintf("collector1 exited %.1f s after SIGTERM", took.Seconds()), nil
}

func collectorKill(ctx context.Context, r *runner) (time.Time, string, error) {
	r.logf("kill -9 collector1 (collector.ack: %s)", r.cfg.Collector.Ack)
	if err := r.member("down", "collector1", "KILL"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, 5*time.Second)
	if err := r.member("up", "collector1"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), fmt.Sprintf("collector1 restarted (collector.ack: %s)", r.cfg.Collector.Ack), nil
}

func natsOutage(ctx context.Context, r *runner) (time.Time, string, error) {
	nodes := []string{"nats1", "nats2", "nats3"}
	r.logf("stopping all three NATS nodes")
	if err := all(nodes, func(n string) error { return r.member("down", n) }); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.natsOutage)
	r.logf("starting all three NATS nodes")
	if err := all(nodes, func(n string) error { return r.member("up", n) }); err != nil {
		return time.Time{}, "", err
	}
	// Recovery is the servers being back; electing the partitions' leaders
	// and replaying the collectors' spools is part of the drain.
	back := time.Now()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if st, err := r.states(""); err == nil && leaders(st) {
			return back, fmt.Sprintf("every partition had a leader %.1f s after the servers were back", time.Since(back).Seconds()), nil
		}
	}
	return back, "", fmt.Errorf("partitions without a leader 2 minutes after the restart")
}

func leaderStepDown(ctx context.Context, r *runner) (time.Time, string, error) {
	before, err := r.states("")
	if err != nil {
		return time.Time{}, "", err
	}
	var moved []string
	for p, st := range before {
		r.logf("stepping down %s's leader %s", st.Stream, st.Leader)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := r.bus.StepDown(sctx, p)
		cancel()
		if err != nil {
			return time.Time{}, "", err
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			now, err := r.states("")
			if err == nil && now[p].Leader != "" && now[p].Leader != st.Leader {
				moved = append(moved, fmt.Sprintf("%s %s→%s", st.Stream, st.Leader, now[p].Leader))
				break
			}
			if time.Now().After(deadline) {
				return time.Time{}, "", fmt.Errorf("%s has no new leader after 30 s", st.Stream)
			}
		}
		sleepCtx(ctx, 2*time.Second)
	}
	return time.Now(), fmt.Sprint(moved), nil
}

// leaders reports whether every partition's stream has a leader.
func leaders(st []bus.PartitionState) bool {
	for _, s := range st {
		if s.Leader == "" {
			return false
		}
	}
	return len(st) > 0
}

// states asks the bus for every partition's state, giving up after 5 s:
// right after a cluster restart a request can go unanswered, and the
// runner must not hang on it.
func (r *runner) states(consumer string) ([]bus.PartitionState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.bus.PartitionStates(ctx, consumer)
}

// waitUnacked polls the consumer's state until some messages are delivered
// and not yet acknowledged, and returns how many. None within timeout is
// an error: a kill then would not be mid-batch, and the row would not mean
// what it says.
func waitUnacked(states func() ([]bus.PartitionState, error), timeout, every time.Duration) (int, error) {
	var lastErr error
	for deadline := time.Now().Add(timeout); ; time.Sleep(every) {
		st, err := states()
		if err == nil {
			pending := 0
			for _, s := range st {
				pending += s.AckWait
			}
			if pending > 0 {
				return pending, nil
			}
		}
		lastErr = err
		if time.Now().After(deadline) {
			if lastErr != nil {
				return 0, fmt.Errorf("no message out for acknowledgement in %s (last error: %w): the kill would not be mid-batch", timeout, lastErr)
			}
			return 0, fmt.Errorf("no message out for acknowledgement in %s: the kill would not be mid-batch", timeout)
		}
	}
}

// errNoDestinations: a destination fault on a cluster without them.
var errNoDestinations = fmt.Errorf("the cluster runs no destinations: start it with CLUSTER_DESTINATIONS=1")

// busState is a partition's state as the bus reports it.
type busState = bus.PartitionState
