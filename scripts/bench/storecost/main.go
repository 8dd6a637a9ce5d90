// Command storecost measures what storing events costs Cassandra: the CPU
// seconds its process spends per 1,000 events the Cassandra sink writes at a
// fixed rate, from the first write until the sessions are computed, the
// memtables flushed and no compaction is pending; and the same less what
// the node burns idle over that time (measured just before), which is the
// cost an event adds to a busy node. It uses only the sink's
// public API, so scripts/bench/storecost.sh builds the same file against an
// older commit and runs both, alternating, on the same node: the ratio is
// the design's, not the machine's.
//
//	go run ./scripts/bench/storecost -hosts 127.0.0.1:19042 -cass-pid $(cat .scratch/cassandra/cassandra.pid)
//
// The events are the cluster benchmark's (scripts/bench/loadgen through
// /tr/v1/): a page-load event per request from 5,000 visitors, with the
// server fields a collector adds. One JSON line goes to stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

type result struct {
	Label          string  `json:"label"`
	Events         int     `json:"events"`
	Seconds        float64 `json:"seconds"`
	CassCPU        float64 `json:"cassandra_cpu_s"`
	CassPer1000    float64 `json:"cassandra_cpu_s_per_1000"`
	IdleCPUPerSec  float64 `json:"cassandra_idle_cpu_s_per_s"`   // measured just before the writes
	NetPer1000     float64 `json:"cassandra_net_cpu_s_per_1000"` // less the idle rate over the same time`
	WriterPer1000  float64 `json:"writer_cpu_s_per_1000"`
	BehindSeconds  float64 `json:"behind_s"` // how far the writes fell behind the rate
	SessionsOn     bool    `json:"sessions"`
	Replication    string  `json:"replication"`
	BatchesPerSec  float64 `json:"batches_per_s"`
	EventsPerBatch int     `json:"events_per_batch"`
	FromMarkers    int64   `json:"sessions_from_markers"` // -1: this version has no such count
	FromEvents     int64   `json:"sessions_from_events"`
	Direct         int64   `json:"sessions_with_events"` // visitor batches written with their sessions; -1: not in this version
	Filled         int64   `json:"sessions_filled"`      // visitors whose latest session was read for a direct write; -1: not in this version
	QuietAfter     float64 `json:"quiet_after_s"`        // how long the schema's creation kept the nodes busy
	// RowBytes is what the two event tables hold on disk per event (one
	// replica, LZ4, after the flush; 0: not measured, no -nodetool).
	RowBytes float64 `json:"row_bytes_per_event"`
}

func main() {
	hosts := flag.String("hosts", "127.0.0.1:19042", "Cassandra hosts (comma-separated host:port)")
	pids := flag.String("cass-pid", "", "Cassandra process ids whose CPU is counted (comma-separated)")
	nodetool := flag.String("nodetool", "", "command that runs nodetool against every node, e.g. 'bash scripts/cassandra.sh nodetool' (flush and compactions are counted when set)")
	keyspace := flag.String("keyspace", "spoor_cost", "keyspace (dropped and created)")
	repl := flag.String("replication", "{'class': 'SimpleStrategy', 'replication_factor': 1}", "keyspace replication")
	consistency := flag.String("consistency", "one", "write consistency")
	rate := flag.Int("rate", 1500, "events per second offered")
	secs := flag.Int("seconds", 60, "seconds of writes")
	every := flag.Duration("every", 200*time.Millisecond, "one Write per interval (the sink's fetch cadence)")
	visitors := flag.Int("visitors", 5000, "distinct visitors")
	sessions := flag.Bool("sessions", true, "cassandra.sessions")
	label := flag.String("label", "", "name of this run")
	idle := flag.Duration("idle", 15*time.Second, "how long Cassandra's idle CPU is measured before the writes (0: not)")
	watch := flag.String("quiet-pid", "", "Cassandra process ids that must be quiet before the idle measurement (comma-separated; default: -cass-pid)")
	flag.Parse()
	ctx := context.Background()
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)

	o := config.Default().Cassandra
	o.Hosts, o.Keyspace, o.Replication, o.Consistency = strings.Split(*hosts, ","), *keyspace, *repl, *consistency
	o.Sessions = *sessions
	o.SessionsDelay = 2 * time.Second
	dropKeyspace(ctx, o, log)
	sink := cassandra.New(o, log)
	if err := sink.Open(ctx); err != nil {
		fail(err)
	}
	per := *rate * int(*every) / int(time.Second)
	total := per * (*secs * int(time.Second) / int(*every))
	evs := events(total, *visitors)

	if *watch == "" {
		*watch = *pids
	}
	quiet := waitQuiet(*watch)
	var idleRate float64
	if *idle > 0 {
		c0, t0 := cpuOf(*pids), time.Now()
		time.Sleep(*idle)
		idleRate = (cpuOf(*pids) - c0) / time.Since(t0).Seconds()
	}
	cass0, self0 := cpuOf(*pids), selfCPU()
	start := time.Now()
	for i, n := 0, 0; i < total; i, n = i+per, n+1 {
		if wait := time.Until(start.Add(time.Duration(n) * *every)); wait > 0 {
			time.Sleep(wait)
		}
		batch := evs[i:min(i+per, total)]
		now := time.Now().UTC().Truncate(time.Millisecond)
		for _, e := range batch {
			e.ReceivedAt = now
		}
		if err := sink.Write(ctx, batch); err != nil {
			fail(fmt.Errorf("writing: %w", err))
		}
	}
	behind := time.Since(start) - time.Duration(*secs)*time.Second
	if *sessions {
		time.Sleep(o.SessionsDelay + 6*time.Second) // the background sessionizer takes the last slots
		if err := sink.FlushSessions(ctx); err != nil {
			fail(err)
		}
	}
	work := [2]int64{-1, -1}
	if w, ok := any(sink).(interface{ SessionWork() (int64, int64) }); ok {
		work[0], work[1] = w.SessionWork()
	}
	direct := int64(-1)
	if d, ok := any(sink).(interface{ SessionsDirect() int64 }); ok {
		direct = d.SessionsDirect()
	}
	filled := int64(-1)
	if f, ok := any(sink).(interface{ SessionsFilled() (int64, int64) }); ok {
		filled, _ = f.SessionsFilled()
	}
	sink.Close()
	if *nodetool != "" {
		settle(*nodetool, *keyspace)
	}
	cass, self := cpuOf(*pids)-cass0, selfCPU()-self0
	var rowBytes float64
	if *nodetool != "" {
		rowBytes = float64(liveBytes(*nodetool, *keyspace, "events_by_day", "events_by_visitor", "visitor_events")) / float64(total)
	}
	elapsed := time.Since(start).Seconds()
	r := result{Label: *label, Events: total, Seconds: elapsed, CassCPU: cass,
		CassPer1000: cass / float64(total) * 1000, WriterPer1000: self / float64(total) * 1000,
		IdleCPUPerSec: idleRate, NetPer1000: (cass - idleRate*elapsed) / float64(total) * 1000,
		BehindSeconds: max(behind.Seconds(), 0), SessionsOn: *sessions, Replication: *repl,
		BatchesPerSec: float64(time.Second) / float64(*every), EventsPerBatch: per, FromMarkers: work[0], FromEvents: work[1], Direct: direct, Filled: filled,
		RowBytes: rowBytes, QuietAfter: quiet.Seconds()}
	json.NewEncoder(os.Stdout).Encode(r)
}

// events are the loadgen's requests as a collector stores them.
func events(n, visitors int) []*schema.Event {
	out := make([]*schema.Event, n)
	for i := range out {
		idx := int64(i/visitors + 1)
		out[i] = &schema.Event{
			EventID: schema.NewEventID(), App: "bench", Endpoint: "tr", EventName: "load",
			VisitorID:   fmt.Sprintf("v-%d", i%visitors),
			URL:         fmt.Sprintf("https://shop.example/p/%d", i%300),
			IPHash:      fmt.Sprintf("%016x", uint64(i%visitors)*0x9E3779B97F4A7C15),
			UserAgent:   "Go-http-client/1.1",
			ClientIndex: &idx,
		}
	}
	return out
}

func dropKeyspace(ctx context.Context, o config.Cassandra, log zerolog.Logger) {
	c, err := cassandra.NewCluster(o, log)
	if err != nil {
		fail(err)
	}
	c.Keyspace = ""
	s, err := c.CreateSession()
	if err != nil {
		fail(fmt.Errorf("connecting: %w", err))
	}
	defer s.Close()
	if err := s.Query("DROP KEYSPACE IF EXISTS " + o.Keyspace).WithContext(ctx).Exec(); err != nil {
		fail(fmt.Errorf("dropping %s: %w", o.Keyspace, err))
	}
	if err := cassandra.Apply(ctx, o, log); err != nil {
		fail(err)
	}
}

// waitQuiet waits until the processes are done with the keyspace's
// creation: on a ring, every node pulls and merges the new schema, flushes
// and compacts its schema tables for half a minute or more, which no
// running cluster does and which would otherwise land in the idle
// measurement or the writes. Quiet is a 3 s window under 0.1 CPU s/s per
// process; it gives up after 3 minutes (and says so on stderr).
func waitQuiet(pids string) time.Duration {
	start := time.Now()
	n := float64(len(strings.Split(pids, ",")))
	for time.Since(start) < 3*time.Minute {
		c0, t0 := cpuOf(pids), time.Now()
		time.Sleep(3 * time.Second)
		if (cpuOf(pids)-c0)/time.Since(t0).Seconds() < 0.1*n {
			return time.Since(start)
		}
	}
	fmt.Fprintln(os.Stderr, "storecost: Cassandra did not go quiet in 3 minutes; measuring anyway")
	return time.Since(start)
}

// runNodetool runs one nodetool command and returns what it printed.
func runNodetool(nodetool string, args ...string) string {
	f := strings.Fields(nodetool)
	out, err := exec.Command(f[0], append(f[1:], args...)...).CombinedOutput()
	if err != nil {
		fail(fmt.Errorf("nodetool %v: %w: %s", args, err, out))
	}
	return string(out)
}

// liveBytes sums the "Space used (live)" nodetool tablestats reports, for
// those of keyspace's tables named that it has.
func liveBytes(nodetool, keyspace string, tables ...string) int64 {
	want := map[string]bool{}
	for _, t := range tables {
		want[t] = true
	}
	var n int64
	in := false // in the block of a wanted table
	for _, l := range strings.Split(runNodetool(nodetool, "tablestats", keyspace), "\n") {
		l = strings.TrimSpace(l)
		if name, ok := strings.CutPrefix(l, "Table:"); ok {
			in = want[strings.TrimSpace(name)]
		}
		if v, ok := strings.CutPrefix(l, "Space used (live):"); ok && in {
			b, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				fail(fmt.Errorf("reading tablestats' %q: %w", l, err))
			}
			n += b
		}
	}
	return n
}

// settle flushes the keyspace's memtables and waits until no compaction
// is pending, so their cost is counted.
func settle(nodetool, ks string) {
	run := func(args ...string) string { return runNodetool(nodetool, args...) }
	run("flush", ks)
	for range 600 {
		out := run("compactionstats")
		if pendingZero(out) {
			return
		}
		time.Sleep(time.Second)
	}
	fail(fmt.Errorf("compactions still pending after 10 minutes"))
}

// pendingZero reads the "pending tasks N" line nodetool printed.
func pendingZero(out string) bool {
	seen := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if v, ok := strings.CutPrefix(l, "pending tasks"); ok {
			v = strings.TrimPrefix(strings.TrimSpace(v), ":")
			seen = true
			if n, _ := strconv.Atoi(strings.TrimSpace(v)); n != 0 {
				return false
			}
		}
	}
	return seen
}

// cpuOf sums the CPU seconds (user+system) of the processes.
func cpuOf(pids string) float64 {
	var t float64
	for _, p := range strings.Split(pids, ",") {
		if p == "" {
			continue
		}
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			fail(fmt.Errorf("reading the CPU of process %s: %w", p, err))
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseFloat(f[11], 64)
		k, _ := strconv.ParseFloat(f[12], 64)
		t += (u + k) / 100 // USER_HZ is 100 on Linux
	}
	return t
}

func selfCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "storecost:", err)
	os.Exit(1)
}
