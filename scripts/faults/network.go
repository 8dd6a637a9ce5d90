package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// The faults the network and the disk make (issue 29). They need the cluster
// in network namespaces (CLUSTER_NETNS=1 scripts/cluster.sh start, see
// scripts/clusternet.sh): links are cut with nftables rules inside a member's
// namespace (packets dropped, so the other side sees silence, not a refusal),
// torn with TCP resets the same way, and slowed or silenced between the
// collectors and NATS by toxiproxy.
var networkFaults = []fault{
	{name: "nats-partition", what: "the NATS node leading partition 0 cut off from its two peers (clients still reach it) under load for -partition (60 s), then healed",
		inject: natsPartition, minAnswered: 1, needsNetns: true, p99Bound: true},
	{name: "nats-leader-isolated", what: "the NATS node leading the last partition cut off from everyone (peers and clients) under load for -partition (60 s), then healed",
		inject: natsLeaderIsolated, minAnswered: 1, needsNetns: true, p99Bound: true},
	{name: "collector-nats-slow", what: "200 ms added to every round trip between the collectors and NATS for -silence (30 s), then the links silent both ways (no data, no close, no reset) as long",
		inject: collectorNATSSlow, minAnswered: 1, needsNetns: true, p99Bound: true},
	{name: "sink-cassandra-resets", what: "the sinks' packets to Cassandra answered with TCP resets at random (3%) for -partition (60 s), then one Cassandra node cut off from the other two (the sinks still reach it) as long",
		inject: sinkCassandraResets, minAnswered: 1, needsNetns: true, p99Bound: true},
	{name: "collector-clock-ahead", what: "collector1 restarted with its clock 10 minutes ahead (spoor -clock-offset), under load for -partition (60 s), then restarted right",
		inject: collectorClockAhead, minAnswered: 1, needsNetns: true, check: oneSessionEach},
	{name: "spool-disk-full", what: "all NATS nodes stopped and each collector's spool filesystem left 1 MiB of room: it fills; 503 with Retry-After from then on; NATS started again",
		inject: spoolDiskFull, minAnswered: 0.05, needsNetns: true},
}

// spoolFsync is what a spool append may add to an answer (one fdatasync of
// a group, generously).
const spoolFsync = 100 * time.Millisecond

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// net runs `scripts/cluster.sh net ARGS...`.
func (r *runner) net(args ...string) error {
	cmd := exec.Command("bash", append([]string{r.clusterScript, "net"}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster.sh net %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// leaderOf is the node leading partition p (nats2 when nobody answers).
func (r *runner) leaderOf(p int) string {
	if st, err := r.states(""); err == nil && p < len(st) && st[p].Leader != "" {
		return st[p].Leader
	}
	return "nats2"
}

func peersOf(node string) []string {
	var out []string
	for _, n := range []string{"nats1", "nats2", "nats3"} {
		if n != node {
			out = append(out, n)
		}
	}
	return out
}

// heal removes every rule and toxic, whatever happened.
func (r *runner) heal() {
	_ = r.net("heal")
	_ = r.net("untoxic", "latency")
	_ = r.net("untoxic", "silence")
}

// newLeader waits until partition p is led by a node other than old, and
// says who and when.
func (r *runner) newLeader(ctx context.Context, p int, old string, within time.Duration) (string, time.Duration) {
	start := time.Now()
	for time.Since(start) < within && ctx.Err() == nil {
		if st, err := r.states(""); err == nil && p < len(st) && st[p].Leader != "" && st[p].Leader != old {
			return st[p].Leader, time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return "", time.Since(start)
}

func natsPartition(ctx context.Context, r *runner) (time.Time, string, error) {
	victim := r.leaderOf(0)
	defer r.heal()
	r.logf("cutting %s (leader of partition 0) off from %v", victim, peersOf(victim))
	if err := r.net(append([]string{"cut", victim}, peersOf(victim)...)...); err != nil {
		return time.Time{}, "", err
	}
	// Who leads, as the majority sees it (their monitoring), and as the
	// node cut off sees it: it may go on believing it leads, but without
	// a quorum it confirms no write.
	stream := r.bus.StreamName(0)
	start := time.Now()
	var leader string
	var took time.Duration
	for time.Since(start) < r.partition && ctx.Err() == nil {
		if l, err := monitorLeader(peersOf(victim)[0], stream); err == nil && l != "" && l != victim {
			leader, took = l, time.Since(start)
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	sleepCtx(ctx, r.partition-time.Since(start))
	itself, _ := monitorLeader(victim, stream)
	r.logf("healing %s", victim)
	if err := r.net("heal", victim); err != nil {
		return time.Time{}, "", err
	}
	note := fmt.Sprintf("%s cut off; the majority elected %s for partition 0 after %.1f s; %s itself named %q as leader at the end",
		victim, leader, took.Seconds(), victim, itself)
	if leader == "" {
		note = fmt.Sprintf("%s cut off; the majority elected no other leader for partition 0 within %s", victim, r.partition)
	}
	return time.Now(), note, nil
}

func natsLeaderIsolated(ctx context.Context, r *runner) (time.Time, string, error) {
	p := r.bus.Partitions() - 1
	victim := r.leaderOf(p)
	defer r.heal()
	r.logf("isolating %s (leader of partition %d) from everyone", victim, p)
	if err := r.net("isolate", victim); err != nil {
		return time.Time{}, "", err
	}
	start := time.Now()
	leader, took := r.newLeader(ctx, p, victim, r.partition)
	sleepCtx(ctx, r.partition-time.Since(start))
	r.logf("healing %s", victim)
	if err := r.net("heal", victim); err != nil {
		return time.Time{}, "", err
	}
	if leader == "" {
		return time.Now(), "", fmt.Errorf("partition %d had no new leader within %s of isolating %s", p, r.partition, victim)
	}
	return time.Now(), fmt.Sprintf("%s isolated; partition %d led by %s after %.1f s", victim, p, leader, took.Seconds()), nil
}

func collectorNATSSlow(ctx context.Context, r *runner) (time.Time, string, error) {
	defer r.heal()
	r.logf("adding 200 ms to every round trip between the collectors and NATS")
	if err := r.net("toxic", "latency", "latency", "latency=100"); err != nil { // each way
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.silence)
	_ = r.net("untoxic", "latency")
	r.logf("the collectors' links to NATS go silent")
	if err := r.net("toxic", "silence", "timeout", "timeout=0"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.silence)
	r.logf("the links carry again")
	if err := r.net("untoxic", "silence"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), fmt.Sprintf("%s slow, then %s silent", r.silence, r.silence), nil
}

func sinkCassandraResets(ctx context.Context, r *runner) (time.Time, string, error) {
	defer r.heal()
	port := fmt.Sprint(r.cfg.Cassandra.Port)
	r.logf("resetting 3%% of the sinks' packets to Cassandra (port %s)", port)
	for _, s := range []string{"sink1", "sink2"} {
		if err := r.net("reset", s, port, "3"); err != nil {
			return time.Time{}, "", err
		}
	}
	sleepCtx(ctx, r.partition)
	if err := r.net("heal", "sink1", "sink2"); err != nil {
		return time.Time{}, "", err
	}
	r.logf("cutting cass2 off from cass1 and cass3 (the sinks still reach it)")
	if err := r.net("cut", "cass2", "cass1", "cass3"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.partition)
	r.logf("healing cass2")
	if err := r.net("heal", "cass2"); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), fmt.Sprintf("resets for %s, then cass2 cut off for %s", r.partition, r.partition), nil
}

// spoolDiskFull stops NATS, so that the collectors spool, and shrinks each
// spool's filesystem to what it holds plus 1 MiB, so that it fills.
func spoolDiskFull(ctx context.Context, r *runner) (time.Time, string, error) {
	collectors := []string{"collector1", "collector2"}
	defer func() {
		for _, c := range collectors {
			_ = r.net("spool", c, "1g")
		}
	}()
	for _, c := range collectors {
		used, err := dirBytes(r.spoolDir(c))
		if err != nil {
			return time.Time{}, "", err
		}
		size := fmt.Sprintf("%dk", (used+1<<20)/1024+1)
		r.logf("%s's spool filesystem: %s (holds %d bytes)", c, size, used)
		if err := r.net("spool", c, size); err != nil {
			return time.Time{}, "", err
		}
	}
	back, note, err := natsOutage(ctx, r) // then the outage, as nats-outage
	return back, "spools filled; " + note, err
}

// spoolDir is where collector c's spool is (scripts/cluster.sh: DIR/c/spool).
func (r *runner) spoolDir(c string) string { return r.clusterDir + "/" + c + "/spool" }

func dirBytes(dir string) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", dir, err)
	}
	var n int64
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && !fi.IsDir() {
			n += fi.Size()
		}
	}
	return n, nil
}

func collectorClockAhead(ctx context.Context, r *runner) (time.Time, string, error) {
	restart := func(flags string) error {
		if err := r.member("down", "collector1", "TERM"); err != nil {
			return err
		}
		os.Setenv("CLUSTER_SPOOR_FLAGS", flags)
		defer os.Unsetenv("CLUSTER_SPOOR_FLAGS")
		return r.member("up", "collector1")
	}
	r.logf("restarting collector1 with its clock 10 minutes ahead")
	if err := restart("-clock-offset 10m"); err != nil {
		return time.Time{}, "", err
	}
	sleepCtx(ctx, r.partition)
	r.logf("restarting collector1 with the machine's clock")
	if err := restart(""); err != nil {
		return time.Time{}, "", err
	}
	return time.Now(), fmt.Sprintf("collector1 10 minutes ahead for %s", r.partition), nil
}

// oneSessionEach: the run lasts minutes and a visitor's events reach both
// collectors, 10 minutes apart on their clocks, well inside the 30-minute
// session gap, so each visitor of the run has exactly one session (one a
// day, when the run crosses midnight UTC), and the
// sessions count every stored event. The sink computes sessions as it
// writes, so this waits for them a little.
func oneSessionEach(r *runner, res *result) error {
	ks := r.cfg.Cassandra.Keyspace
	var last string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(3 * time.Second) {
		total, bad := 0, ""
		for v := range r.visitors {
			vid := fmt.Sprintf("fv-%03d", v)
			ss, err := cassandra.ReadSessions(context.Background(), r.session, ks, res.App, vid)
			if err != nil {
				return fmt.Errorf("reading %s's sessions: %w", vid, err)
			}
			days := map[time.Time]int{} // sessions are cut at midnight UTC too
			for _, x := range ss {
				total += x.EventCount
				days[cassandra.Day(x.Start)]++
			}
			for _, n := range days {
				if n > 1 && bad == "" {
					bad = fmt.Sprintf("visitor %s has %d sessions in a day", vid, n)
				}
			}
		}
		if bad == "" && total == res.Stored {
			res.Note += fmt.Sprintf("; one session per visitor, %d events in them", total)
			return nil
		}
		last = fmt.Sprintf("%s; sessions count %d events of %d stored", bad, total, res.Stored)
	}
	return fmt.Errorf("sessions do not hold: %s", strings.TrimPrefix(last, "; "))
}

// monitorLeader asks node's monitoring endpoint (scripts/cluster.sh: port
// 28221+N on its address) who leads stream, as that node sees it.
func monitorLeader(node, stream string) (string, error) {
	n := int(node[len(node)-1] - '0')
	url := fmt.Sprintf("http://10.77.0.1%d:%d/jsz?streams=true", n, 28221+n)
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name    string `json:"name"`
				Cluster struct {
					Leader string `json:"leader"`
				} `json:"cluster"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(res.Body).Decode(&jsz); err != nil {
		return "", fmt.Errorf("reading %s: %w", url, err)
	}
	for _, a := range jsz.Accounts {
		for _, s := range a.Streams {
			if s.Name == stream {
				return s.Cluster.Leader, nil
			}
		}
	}
	return "", nil
}
