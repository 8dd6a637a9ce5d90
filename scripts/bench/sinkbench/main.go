// Command sinkbench measures the Cassandra sink against the practical limit:
// a raw gocql loop writing the same event rows (events_by_day and
// events_by_visitor) with the same concurrency, into the same local
// Cassandra, alternating, several runs. It prints a Markdown table.
//
//	go run ./scripts/bench/sinkbench -hosts 127.0.0.1:19042 -events 40000 -runs 3
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/sinktest"
)

func main() {
	hosts := flag.String("hosts", "127.0.0.1:19042", "Cassandra host:port")
	n := flag.Int("events", 40000, "events per run")
	runs := flag.Int("runs", 3, "runs of each")
	batch := flag.Int("batch", 500, "events per Write (sink.batch_size)")
	conc := flag.Int("concurrency", 64, "statements in flight (cassandra.concurrency)")
	flag.Parse()
	ctx := context.Background()

	o := config.Default().Cassandra
	o.Hosts, o.Keyspace, o.Concurrency = []string{*hosts}, "spoor_bench", *conc
	o.Consistency = "one"
	if err := cassandra.Apply(ctx, o, zerolog.Nop()); err != nil {
		fail(err)
	}
	// Sessions are recomputed below, between writes, every slot (5 s) and
	// at the end, as the background sessionizer would in steady state; the
	// delay keeps the background one out of the measurement.
	o.SessionsDelay = time.Hour
	sink := cassandra.New(o, zerolog.Nop())
	if err := sink.Open(ctx); err != nil {
		fail(err)
	}
	defer sink.Close()
	o.Sessions = false
	noSessions := cassandra.New(o, zerolog.Nop())
	if err := noSessions.Open(ctx); err != nil {
		fail(err)
	}
	defer noSessions.Close()
	cluster, _ := cassandra.NewCluster(o, zerolog.Nop())
	raw, err := cluster.CreateSession()
	if err != nil {
		fail(err)
	}
	defer raw.Close()

	rates := map[string][]float64{}
	viaSink := func(name string, sk *cassandra.Sink) {
		evs := events(*n)
		start := time.Now()
		flushed := start
		flush := func() {
			if err := sk.FlushSessions(ctx); err != nil {
				fail(err)
			}
			flushed = time.Now()
		}
		for i := 0; i < len(evs); i += *batch {
			if err := sk.Write(ctx, evs[i:min(i+*batch, len(evs))]); err != nil {
				fail(err)
			}
			if name == "sink" && time.Since(flushed) >= 5*time.Second {
				flush()
			}
		}
		if name == "sink" {
			flush()
		}
		rates[name] = append(rates[name], float64(len(evs))/time.Since(start).Seconds())
	}
	viaRaw := func(name string, withVisitors bool) {
		evs := events(*n)
		start := time.Now()
		rawLoop(ctx, raw, o.Keyspace, evs, *conc, withVisitors)
		rates[name] = append(rates[name], float64(len(evs))/time.Since(start).Seconds())
	}
	for r := 0; r < *runs; r++ {
		viaRaw("raw4", false)
		viaSink("nosess", noSessions)
		viaRaw("raw5", true)
		viaSink("sink", sink)
		fmt.Fprintf(os.Stderr, "run %d: %v\n", r+1, rates)
	}
	m := func(k string) float64 { return median(rates[k]) }
	fmt.Printf("Measured %s, Cassandra 5.0.8 single node (1 GiB heap) on the same 2 cores as the writer, %d events per run "+
		"(2 000 visitors over one hour), batches of %d, %d statements in flight, consistency ONE, medians of %d alternating runs.\n\n",
		time.Now().Format("2006-01-02"), *n, *batch, *conc, *runs)
	fmt.Println("| writer | writes per event | events/s | ratio to the raw loop writing the same rows |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| raw gocql loop, one statement per row | events_by_day + events_by_visitor rows, visitors first/last touch | %.0f | 1.00× |\n", m("raw4"))
	fmt.Printf("| spoor sink, `cassandra.sessions: false` | the same | %.0f | **%.2f×** |\n", m("nosess"), m("nosess")/m("raw4"))
	fmt.Printf("| raw gocql loop, one statement per row | the same rows + visitors first/last touch + one session row (no reads) | %.0f | 1.00× |\n", m("raw5"))
	fmt.Printf("| spoor sink, default (sessions on) | the same rows + one marker per visitor and batch; then each marked visitor's neighbourhood read and its sessions rewritten, once per 5-second slot (timed until the last slot is done) | %.0f | **%.2f×** |\n", m("sink"), m("sink")/m("raw5"))
}

var generation int

// events makes n events over 2000 fresh visitors and one hour, like a busy
// site: every call uses new visitors, so runs do not grow each other's
// sessions.
func events(n int) []*schema.Event {
	generation++
	base := time.Now().Add(-time.Hour)
	out := sinktest.Events(n, base)
	for i, e := range out {
		e.App = "bench"
		e.VisitorID = fmt.Sprintf("visitor-%d-%d", generation, i%2000)
		e.ReceivedAt = base.Add(time.Duration(i) * time.Hour / time.Duration(n)).Truncate(time.Millisecond)
		e.URL = fmt.Sprintf("https://shop.example/p/%d", i%300)
	}
	return out
}

// rawLoop writes the same rows as the sink's two INSERTs, nothing else.
func rawLoop(ctx context.Context, s *gocql.Session, ks string, evs []*schema.Event, conc int, withSession bool) {
	q1 := fmt.Sprintf("INSERT INTO %s.events_by_day (app, day, bucket, ts, event_id, visitor_id, event_name, url, props, client_index, width) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ks)
	q2 := fmt.Sprintf("INSERT INTO %s.events_by_visitor (app, visitor_id, ts, event_id, event_name, url, props, client_index, width) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ks)
	q3 := fmt.Sprintf("UPDATE %s.visitors USING TIMESTAMP ? SET first_seen = ?, first_event_id = ?, first_url = ? WHERE app = ? AND visitor_id = ?", ks)
	q4 := fmt.Sprintf("UPDATE %s.visitors USING TIMESTAMP ? SET last_seen = ?, last_event_id = ?, last_url = ? WHERE app = ? AND visitor_id = ?", ks)
	q5 := fmt.Sprintf("INSERT INTO %s.sessions (app, visitor_id, session_start, session_id, session_end, event_count, landing_url) VALUES (?, ?, ?, ?, ?, ?, ?)", ks)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, e := range evs {
		id, _ := gocql.ParseUUID(e.EventID)
		props, _ := e.Encode() // a props-sized text value, like the sink's
		stmts := []func() error{
			func() error {
				return s.Query(q1, e.App, cassandra.Day(e.ReceivedAt), cassandra.Bucket(e.EventID, 16), e.ReceivedAt, id, e.VisitorID,
					e.EventName, e.URL, string(props), *e.ClientIndex, *e.Width).Idempotent(true).ExecContext(ctx)
			},
			func() error {
				return s.Query(q2, e.App, e.VisitorID, e.ReceivedAt, id, e.EventName, e.URL, string(props), *e.ClientIndex, *e.Width).
					Idempotent(true).ExecContext(ctx)
			},
		}
		stmts = append(stmts,
			func() error {
				return s.Query(q3, (1<<62-1)-e.ReceivedAt.UnixMicro(), e.ReceivedAt, id, e.URL, e.App, e.VisitorID).Idempotent(true).ExecContext(ctx)
			},
			func() error {
				return s.Query(q4, e.ReceivedAt.UnixMicro(), e.ReceivedAt, id, e.URL, e.App, e.VisitorID).Idempotent(true).ExecContext(ctx)
			},
		)
		if withSession {
			stmts = append(stmts, func() error {
				return s.Query(q5, e.App, e.VisitorID, e.ReceivedAt, id, e.ReceivedAt, 1, e.URL).Idempotent(true).ExecContext(ctx)
			})
		}
		for _, q := range stmts {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := q(); err != nil {
					fail(err)
				}
			}()
		}
	}
	wg.Wait()
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sinkbench:", err)
	os.Exit(1)
}
