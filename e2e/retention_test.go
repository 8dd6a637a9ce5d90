package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks"
	"github.com/spoor-dev/spoor/sinks/cassandra"
	"github.com/spoor-dev/spoor/sinks/file"
)

// aged is an event of app received age ago, with a user so that every
// per-person table holds it.
func aged(t *testing.T, app, name string, age time.Duration) *schema.Event {
	e := &schema.Event{EventID: gocql.MustRandomUUID().String(), ReceivedAt: time.Now().UTC().Add(-age).Truncate(time.Millisecond),
		App: app, VisitorID: "v-" + app, UserID: "u-" + app, EventName: name, Endpoint: "tr"}
	raw, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	e.Raw = raw
	return e
}

// writeStore writes events into the configured store with no retention,
// as a sink did before one was set.
func writeStore(t *testing.T, cfg config.Config, events []*schema.Event) {
	t.Helper()
	var s sinks.Sink = file.New(file.Options{Dir: cfg.File.Dir, RollBytes: cfg.File.RollBytes, RollInterval: cfg.File.RollInterval,
		DedupWindow: cfg.File.DedupWindow}, zerolog.Nop())
	if cfg.SinkType() == "cassandra" {
		s = cassandra.New(cfg.Cassandra, zerolog.Nop())
	}
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, events); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func storedNames(t *testing.T, cfg config.Config, app string) []string {
	t.Helper()
	var names []string
	err := readAllEvents(cfg, app, func(e *schema.Event) { names = append(names, e.EventName) })
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

func readAllEvents(cfg config.Config, name string, fn func(*schema.Event)) error {
	return app.ReadEvents(context.Background(), cfg, name, time.Now().Add(-500*24*time.Hour), zerolog.Nop(), fn)
}

// Retention, on both stores: events written before a retention was set
// are swept (Cassandra: every event table, by partition or range; files:
// whole dt= partitions, or the lines of a partition shared with an app
// kept longer), each app's sweep is in forget_log with its counts, and
// asking for an event older than the retention returns nothing; an app
// kept forever loses nothing; a second sweep removes nothing more.
func TestRetentionSweep(t *testing.T) {
	for _, store := range []string{"file", "cassandra"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			var ks string
			if store == "cassandra" {
				ks = cassandratest.Keyspace(t, cassandratest.Session(t))
				cfg = cassandraConfig(t, dir, ks)
			}
			day := 24 * time.Hour
			writeStore(t, cfg, []*schema.Event{
				aged(t, "shop", "shop-40d", 40*day), aged(t, "shop", "shop-10d", 10*day), aged(t, "shop", "shop-1h", time.Hour),
				aged(t, "blog", "blog-40d", 40*day+time.Hour), aged(t, "blog", "blog-10d", 10*day), aged(t, "blog", "blog-1h", time.Hour),
				aged(t, "audit", "audit-400d", 400*day),
			})
			if got := storedNames(t, cfg, "shop"); strings.Join(got, " ") != "shop-10d shop-1h shop-40d" {
				t.Fatalf("before the sweep, shop holds %v", got)
			}
			cfg.Quality.RetentionDays = []string{"shop=30", "*=7", "audit=0"}
			began := time.Now()
			reps, err := app.SweepRetention(context.Background(), cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("the sweep took %v", time.Since(began))
			for app, want := range map[string]string{"shop": "shop-10d shop-1h", "blog": "blog-1h", "audit": "audit-400d"} {
				if got := strings.Join(storedNames(t, cfg, app), " "); got != want {
					t.Errorf("after the sweep, %s holds %q, want %q", app, got, want)
				}
			}
			removed := map[string]map[string]int64{}
			for _, r := range reps {
				removed[r.App] = r.Removed
			}
			if store == "file" {
				if removed["shop"]["events"] != 1 || removed["blog"]["events"] != 2 || len(removed["audit"]) != 0 {
					t.Errorf("swept %v", removed)
				}
				// The 40-day-old partitions held only swept events: gone whole.
				for _, age := range []time.Duration{40 * day, 40*day + time.Hour} {
					p := filepath.Join(cfg.File.Dir, "dt="+time.Now().UTC().Add(-age).Format("2006-01-02"))
					if _, err := os.Stat(p); !os.IsNotExist(err) {
						t.Errorf("%s is still there (%v)", p, err)
					}
				}
				if removed["shop"]["partitions_removed"] < 1 {
					t.Errorf("no partition removed whole: %v", removed)
				}
			} else {
				for _, table := range []string{"events_by_day", "visitor_events", "events_by_user"} {
					if removed["shop"][table] != 1 || removed["blog"][table] != 2 {
						t.Errorf("%s: swept shop %d, blog %d; want 1, 2", table, removed["shop"][table], removed["blog"][table])
					}
					evs, err := cassandra.ReadTable(context.Background(), cassandratest.Session(t), ks, table)
					if err != nil {
						t.Fatal(err)
					}
					if len(evs) != 4 {
						t.Errorf("%s holds %d rows after the sweep, want 4", table, len(evs))
					}
				}
			}
			logged := sweepLog(t, cfg, ks)
			if logged["shop"] != 1 || logged["blog"] != 1 {
				t.Errorf("forget_log holds sweeps %v, want one for shop and one for blog", logged)
			}
			// Again: nothing more goes, and the sweep is logged again.
			reps, err = app.SweepRetention(context.Background(), cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reps {
				if r.Total() != 0 {
					t.Errorf("second sweep removed %v from %s", r.Removed, r.App)
				}
			}
			if got := strings.Join(storedNames(t, cfg, "shop"), " "); got != "shop-10d shop-1h" {
				t.Errorf("after a second sweep, shop holds %q", got)
			}
		})
	}
}

// sweepLog counts the retention sweeps in forget_log by app.
func sweepLog(t *testing.T, cfg config.Config, ks string) map[string]int {
	t.Helper()
	out := map[string]int{}
	if ks != "" {
		s := person.Cassandra{Session: cassandratest.Session(t), Keyspace: ks}
		for _, app := range []string{"shop", "blog", "audit"} {
			logs, err := s.ReadLog(context.Background(), app)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range logs {
				if l.By == person.SweptBy {
					out[app]++
				}
			}
		}
		return out
	}
	f, err := os.Open(file.PathsOf(cfg.File.Dir).ForgetLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l person.LogLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.RequestedBy == person.SweptBy {
			out[l.App]++
		}
	}
	return out
}

// Cassandra's TTL at write: an event gets what is left of its app's
// retention and is gone when that runs out; one already past is not
// written at all.
func TestRetentionTTL(t *testing.T) {
	ks := cassandratest.Keyspace(t, cassandratest.Session(t))
	cfg := cassandraConfig(t, t.TempDir(), ks)
	cfg.Quality.RetentionDays = []string{"shop=1"}
	s := cassandra.New(cfg.Cassandra, zerolog.Nop())
	s.Retain(cfg.Quality.Retention())
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	soon := aged(t, "shop", "expires-in-4s", 24*time.Hour-4*time.Second)
	if err := s.Write(ctx, []*schema.Event{soon, aged(t, "shop", "past", 25*time.Hour), aged(t, "blog", "kept", 400*24*time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if s.Expired() != 1 {
		t.Errorf("Expired() = %d, want 1", s.Expired())
	}
	names := func(table string) string {
		evs, err := cassandra.ReadTable(ctx, cassandratest.Session(t), ks, table)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, e := range evs {
			n = append(n, e.EventName)
		}
		sort.Strings(n)
		return strings.Join(n, " ")
	}
	for _, table := range []string{"events_by_day", "visitor_events", "events_by_user"} {
		if got := names(table); got != "expires-in-4s kept" {
			t.Errorf("%s holds %q at once", table, got)
		}
	}
	time.Sleep(5 * time.Second)
	for _, table := range []string{"events_by_day", "visitor_events", "events_by_user"} {
		if got := names(table); got != "kept" {
			t.Errorf("%s holds %q after the TTL", table, got)
		}
	}
}

// The store sink sweeps on its own at start (and every
// quality.retention_sweep_interval): events written before the retention
// was set are gone without a command, and the sweep is in /metrics.
func TestRetentionSweepsInTheSink(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	writeStore(t, cfg, []*schema.Event{aged(t, "shop", "shop-40d", 40*24*time.Hour), aged(t, "shop", "shop-1h", time.Hour)})
	cfg.Quality.RetentionDays = []string{"shop=30"}
	a := start(t, cfg)
	defer a.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Join(storedNames(t, cfg, "shop"), " ") != "shop-1h" {
		if time.Now().After(deadline) {
			t.Fatalf("shop still holds %v", storedNames(t, cfg, "shop"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The files go before the sweep has logged and counted what it did.
	var m []byte
	for {
		m = do(t, "GET", "http://"+a.Addr()+"/metrics", nil, nil).body
		if v, _ := metricValue(m, "spoor_retention_last_sweep_timestamp_seconds"); v != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sweep in /metrics")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v, _ := metricValue(m, `spoor_retention_removed_total{table="events"}`); v != 1 {
		t.Errorf("removed %v events", v)
	}
}
