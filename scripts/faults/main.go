// Command faults drives steady load of known events through the
// collectors of a running cluster (scripts/cluster.sh start), injects one
// fault at a time, waits for recovery and the backlog to drain, and then
// reconciles independently of spoor's own counters: every event answered
// 2xx must be in Cassandra exactly once (read back from events_by_day by
// its partition keys) or in the dead letters with a reason. It prints, per
// fault, sent / answered 2xx / stored / duplicated / lost / dead-lettered
// and the backlog's drain rate after recovery, and exits 1 when an event
// was lost or duplicated (or, for collector-term, a request in flight was
// not answered).
//
//	scripts/cluster.sh start
//	. .scratch/cluster/spoor.env
//	go run ./scripts/faults -faults sink-kill,collector-term,leader-stepdown
//
// The cluster's addresses come from spoor's own configuration (config.json
// and the SPOOR_* variables scripts/cluster.sh writes), so the runner
// looks where the processes look.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

type runner struct {
	cfg           config.Config
	clusterScript string
	collectors    []string
	bus           *bus.Bus
	session       *gocql.Session
	rate          float64
	visitors      int
	warmup, after time.Duration
	drainTimeout  time.Duration
	natsDown      time.Duration
	cassandraDown time.Duration
	outage        time.Duration
	natsOutage    time.Duration
	started       time.Time
	// The cluster's destinations (destinations.go); recv is nil without.
	recv       *receiver
	kafka      []string
	destOutage time.Duration
	// The network faults (network.go): the cluster runs in namespaces.
	netns      bool
	clusterDir string
	partition  time.Duration // how long a link stays cut
	silence    time.Duration // collector-nats-slow: how long slow, then how long silent
}

func main() {
	names := flag.String("faults", "none", "comma-separated faults to run in turn ("+faultNames()+"), all, or network (those of network.go)")
	cfgPath := flag.String("config", "config.json", "spoor configuration (with SPOOR_* overrides): where NATS and Cassandra are")
	collectors := flag.String("collectors", "http://127.0.0.1:18181,http://127.0.0.1:18182", "collector base URLs (the load balancer's pool)")
	clusterScript := flag.String("cluster", "scripts/cluster.sh", "the script that starts and stops cluster members")
	rate := flag.Float64("rate", 200, "events per second offered (singles and batches)")
	visitors := flag.Int("visitors", 50, "distinct visitors")
	warmup := flag.Duration("warmup", 10*time.Second, "steady load before the fault")
	after := flag.Duration("after", 10*time.Second, "load after recovery")
	drainTimeout := flag.Duration("drain-timeout", 5*time.Minute, "longest wait for the backlog to drain after the load")
	natsDown := flag.Duration("nats-down", 30*time.Second, "nats-kill: how long the killed node stays down")
	cassDown := flag.Duration("cassandra-down", 30*time.Second, "cassandra-kill: how long the killed node stays down")
	outage := flag.Duration("outage", 2*time.Minute, "cassandra-outage: how long the whole cluster stays down")
	natsOut := flag.Duration("nats-outage", 60*time.Second, "nats-outage: how long all NATS nodes stay down")
	results := flag.String("results", "", "append each fault's result as a JSON line to this file")
	receiverAddr := flag.String("receiver", "127.0.0.1:18199", "where the destinations' webhook receiver listens (when dest1 runs)")
	kafkaBrokers := flag.String("kafka", "127.0.0.1:29092", "the cluster's Kafka broker (when dest1 runs)")
	destStatus := flag.String("dest-status", "127.0.0.1:18193", "dest1's status address: destinations are reconciled when it answers")
	destOutage := flag.Duration("dest-outage", 10*time.Minute, "dest-webhook-down: how long the receiver answers 503")
	render := flag.String("render", "", "write the results (JSON lines) of this file as the table of -doc, and exit")
	doc := flag.String("doc", "docs/reliability.md", "with -render: the document whose results table is replaced")
	command := flag.String("command", "bash scripts/faults/matrix.sh", "with -render: the command named above the table")
	partition := flag.Duration("partition", 60*time.Second, "network faults: how long a link stays cut or resetting")
	silence := flag.Duration("silence", 30*time.Second, "collector-nats-slow: how long the link is slow, then how long silent")
	clusterDir := flag.String("cluster-dir", ".scratch/cluster", "the cluster's directory (scripts/cluster.sh CLUSTER_DIR)")
	block := flag.String("block", "FAULTS", "with -render: the table's block in -doc, between <!-- BLOCK:begin --> and <!-- BLOCK:end -->")
	flag.Parse()
	if *render != "" {
		if err := renderDoc(*render, *doc, *block, *command); err != nil {
			fatal(err)
		}
		return
	}

	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fatal(err)
	}
	r := &runner{cfg: cfg, clusterScript: *clusterScript, collectors: strings.Split(*collectors, ","), rate: *rate,
		visitors: *visitors, warmup: *warmup, after: *after, drainTimeout: *drainTimeout, natsDown: *natsDown,
		cassandraDown: *cassDown, outage: *outage, natsOutage: *natsOut, started: time.Now(),
		kafka: strings.Split(*kafkaBrokers, ","), destOutage: *destOutage,
		netns: os.Getenv("CLUSTER_NETNS") == "1", clusterDir: *clusterDir, partition: *partition, silence: *silence}
	if c, err := net.DialTimeout("tcp", *destStatus, time.Second); err == nil {
		c.Close()
		if r.recv, err = startReceiver(*receiverAddr); err != nil {
			fatal(err)
		}
		r.logf("dest1 runs: the webhook and Kafka destinations are reconciled too")
	}
	var list []fault
	switch *names {
	case "all":
		for _, f := range faults[1:] {
			if (r.recv != nil || !f.needsDestinations) && (r.netns || !f.needsNetns) {
				list = append(list, f)
			}
		}
	case "network":
		list = networkFaults
	default:
		for _, n := range strings.Split(*names, ",") {
			f, ok := faultByName(strings.TrimSpace(n))
			if !ok {
				fatal(fmt.Errorf("unknown fault %q (known: %s)", n, faultNames()))
			}
			list = append(list, f)
		}
	}
	for _, f := range list {
		if f.needsNetns && !r.netns {
			fatal(fmt.Errorf("%s needs the cluster in network namespaces: CLUSTER_NETNS=1 scripts/cluster.sh start", f.name))
		}
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(zerolog.ErrorLevel).With().Timestamp().Logger()
	n := cfg.NATS
	r.bus, err = bus.Connect(bus.Options{URL: n.URL, Name: "spoor-faults", Stream: n.Stream, Subject: n.Subject, DLQStream: n.DLQStream,
		DLQSubject: n.DLQSubject, Replicas: n.Replicas, Partitions: n.Partitions, MaxPending: 16, ConnectTimeout: 5 * time.Second,
		PingInterval: 2 * time.Second}, nil, log) // a partitioned server is left quickly
	if err != nil {
		fatal(err)
	}
	defer r.bus.Close()
	cluster, err := cassandra.NewCluster(cfg.Cassandra, zerolog.Nop()) // a node down is the point, not news
	if err != nil {
		fatal(err)
	}
	cluster.Timeout = 20 * time.Second
	if r.session, err = cluster.CreateSession(); err != nil {
		fatal(fmt.Errorf("connecting to cassandra: %w", err))
	}
	defer r.session.Close()

	failed := false
	var rows []result
	for _, f := range list {
		res, err := r.run(f)
		if err != nil {
			r.logf("%s: %v", f.name, err)
			res.Error = err.Error()
		}
		rows = append(rows, res)
		if !res.ok() {
			failed = true
		}
		if *results != "" {
			appendJSON(*results, res)
		}
	}
	fmt.Println()
	printTable(os.Stdout, rows)
	if failed {
		os.Exit(1)
	}
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "faults %6.1fs: %s\n", time.Since(r.started).Seconds(), fmt.Sprintf(format, a...))
}

// run is one fault: load, inject, recover, drain, reconcile.
func (r *runner) run(f fault) (result, error) {
	app := fmt.Sprintf("faults_%s_%d", strings.ReplaceAll(f.name, "-", "_"), time.Now().Unix())
	res := result{Date: time.Now().UTC().Format("2006-01-02 15:04"), Fault: f.name, What: f.what, App: app, Rate: r.rate, MinAnswered: f.minAnswered}
	r.logf("%s: %s (app %s)", f.name, f.what, app)
	ld := newLoader(app, r.collectors, r.rate, r.visitors)
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	loadStart := time.Now()
	// Clients are many and independent: enough in flight that the offered
	// rate holds while a collector answers each request only at its ack
	// deadline (1 s), as through a partition.
	go func() { ld.run(ctx, max(32, int(2*r.rate))); close(loadDone) }()
	smp := newSampler(r, app)
	sctx, stopSampling := context.WithCancel(context.Background())
	defer stopSampling()
	go smp.run(sctx)

	sleepCtx(ctx, r.warmup)
	baseline := smp.peak() // the backlog steady load keeps in flight
	bctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	recovered, note, err := f.inject(bctx, r)
	cancel()
	res.Note = note
	if err != nil {
		stopLoad()
		<-loadDone
		return res, err
	}
	r.logf("%s: recovered; load goes on for %s", f.name, r.after)
	smp.recovered(recovered)
	sleepCtx(context.Background(), r.after)
	stopLoad()
	<-loadDone
	loadEnd := time.Now()

	// Drained: the consumers' backlog and every spool back to what steady
	// load keeps in flight, then empty once the load has stopped.
	deadline := time.Now().Add(r.drainTimeout)
	drainedAt := time.Time{}
	for time.Now().Before(deadline) {
		b, ok := smp.last()
		if ok && b.total() == 0 {
			if drainedAt.IsZero() {
				drainedAt = time.Now()
			}
			if time.Since(drainedAt) > 3*time.Second { // settled: nothing left anywhere
				break
			}
		} else {
			drainedAt = time.Time{}
		}
		time.Sleep(500 * time.Millisecond)
	}
	stopSampling()
	status, codes, reasons, sent, okAt := ld.outcome()
	res.Sent = int(sent)
	res.Codes = codes
	res.Reasons = reasons
	for _, c := range status {
		if c/100 == 2 {
			res.Answered++
		}
	}
	res.IngestRate = float64(len(okAt)) / loadEnd.Sub(loadStart).Seconds()
	took := ld.answerTimes()
	ld.mu.Lock()
	res.NoRetryAfter = ld.noRetry
	ld.mu.Unlock()
	res.P50ms, res.P99ms = ms(quantile(took, 0.5)), ms(quantile(took, 0.99))
	if f.p99Bound {
		res.P99Limit = ms(r.cfg.Collector.AckTimeout + spoolFsync)
	}
	res.BacklogPeak, res.SpoolPeak = smp.peakMsgs(), smp.peakSpool()
	if d := smp.drain(baseline, res.Answered); d.seconds > 0 {
		res.DrainRate, res.DrainSeconds = d.rate, d.seconds
	}
	stored, err := r.reconcile(&res, status, loadStart)
	if err != nil {
		return res, err
	}
	if err := r.reconcileDestinations(&res, status, stored, loadStart); err != nil {
		return res, err
	}
	if f.check != nil {
		if err := f.check(r, &res); err != nil {
			return res, err
		}
	}
	r.logf("%s: %s", f.name, res.summary())
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func faultNames() string {
	var n []string
	for _, f := range faults {
		n = append(n, f.name)
	}
	return strings.Join(n, ", ")
}

func appendJSON(path string, v any) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	b, _ := json.Marshal(v)
	f.Write(append(b, '\n'))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "faults:", err)
	os.Exit(2)
}

func sortedKeys[V any](m map[int]V) []int {
	var k []int
	for c := range m {
		k = append(k, c)
	}
	sort.Ints(k)
	return k
}
