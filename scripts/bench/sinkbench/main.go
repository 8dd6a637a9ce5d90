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
	sink := cassandra.New(o, zerolog.Nop())
	if err := sink.Open(ctx); err != nil {
		fail(err)
	}
	defer sink.Close()
	cluster, _ := cassandra.NewCluster(o, zerolog.Nop())
	raw, err := cluster.CreateSession()
	if err != nil {
		fail(err)
	}
	defer raw.Close()

	var sinkRates, rawRates []float64
	for r := 0; r < *runs; r++ {
		evs := events(*n)
		start := time.Now()
		for i := 0; i < len(evs); i += *batch {
			if err := sink.Write(ctx, evs[i:min(i+*batch, len(evs))]); err != nil {
				fail(err)
			}
		}
		sinkRates = append(sinkRates, float64(len(evs))/time.Since(start).Seconds())

		evs = events(*n)
		start = time.Now()
		rawLoop(ctx, raw, o.Keyspace, evs, *conc)
		rawRates = append(rawRates, float64(len(evs))/time.Since(start).Seconds())
		fmt.Fprintf(os.Stderr, "run %d: sink %.0f events/s, raw loop %.0f events/s\n", r+1, sinkRates[r], rawRates[r])
	}
	s, rw := median(sinkRates), median(rawRates)
	fmt.Printf("Measured %s, Cassandra 5.0.8 single node (1 GiB heap) on the same 2 cores, %d events per run, batches of %d, "+
		"%d statements in flight, consistency ONE, medians of %d alternating runs.\n\n", time.Now().Format("2006-01-02"), *n, *batch, *conc, *runs)
	fmt.Println("| writer | what it writes per event | events/s | rows/s | ratio |")
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| raw gocql loop | events_by_day + events_by_visitor rows | %.0f | %.0f | 1.00× |\n", rw, 2*rw)
	fmt.Printf("| spoor Cassandra sink | the same two rows, plus visitors first/last touch and sessions (read + write) per visitor and batch | %.0f | ≥ %.0f | **%.2f×** |\n", s, 2*s, s/rw)
}

// events makes n events over 2000 visitors and one hour, like a busy site.
func events(n int) []*schema.Event {
	base := time.Now().Add(-time.Hour)
	out := sinktest.Events(n, base)
	for i, e := range out {
		e.App = "bench"
		e.VisitorID = fmt.Sprintf("visitor-%d", i%2000)
		e.ReceivedAt = base.Add(time.Duration(i) * time.Hour / time.Duration(n)).Truncate(time.Millisecond)
		e.URL = fmt.Sprintf("https://shop.example/p/%d", i%300)
	}
	return out
}

// rawLoop writes the same rows as the sink's two INSERTs, nothing else.
func rawLoop(ctx context.Context, s *gocql.Session, ks string, evs []*schema.Event, conc int) {
	q1 := fmt.Sprintf("INSERT INTO %s.events_by_day (app, day, bucket, ts, event_id, visitor_id, event_name, url, props, client_index, width) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ks)
	q2 := fmt.Sprintf("INSERT INTO %s.events_by_visitor (app, visitor_id, ts, event_id, event_name, url, props, client_index, width) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", ks)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for _, e := range evs {
		id, _ := gocql.ParseUUID(e.EventID)
		props, _ := e.Encode() // a props-sized text value, like the sink's
		for _, q := range []func() error{
			func() error {
				return s.Query(q1, e.App, cassandra.Day(e.ReceivedAt), cassandra.Bucket(e.EventID, 16), e.ReceivedAt, id, e.VisitorID,
					e.EventName, e.URL, string(props), *e.ClientIndex, *e.Width).Idempotent(true).ExecContext(ctx)
			},
			func() error {
				return s.Query(q2, e.App, e.VisitorID, e.ReceivedAt, id, e.EventName, e.URL, string(props), *e.ClientIndex, *e.Width).
					Idempotent(true).ExecContext(ctx)
			},
		} {
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
