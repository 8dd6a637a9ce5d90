package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

const ordersPlanV1 = `{"version": "v1", "events": {"Order Completed": {"mode": "block", "properties": {"type": "object",
  "required": ["order_id"], "properties": {"order_id": {"type": "string"}, "total": {"type": "number"}}}}}}`

// v2 takes a total written as a string too; order_id is still required.
var ordersPlanV2 = strings.Replace(strings.Replace(ordersPlanV1, `"v1"`, `"v2"`, 1),
	`"total": {"type": "number"}`, `"total": {"type": ["number", "string"]}`, 1)

// spoor failed replay, on both stores: the events a plan blocked are
// checked against the plan in force now; the one that passes is stored,
// with the event id it had, the one still blocked stays a failed event,
// a message that never became an event (bad field) is not a plan's to
// judge; a second replay sends nothing again.
func TestFailedReplay(t *testing.T) {
	for _, store := range []string{"file", "cassandra"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			var ks string
			if store == "cassandra" {
				ks = cassandratest.Keyspace(t, cassandratest.Session(t))
				cfg = cassandraConfig(t, dir, ks)
			}
			if err := os.MkdirAll(cfg.Plans.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			writePlan := func(p string) {
				if err := os.WriteFile(filepath.Join(cfg.Plans.Dir, "shop.json"), []byte(p), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			writePlan(ordersPlanV1)
			a := start(t, cfg)
			defer a.Stop()
			base := "http://" + a.Addr()
			if r := do(t, "POST", base+"/tr/v1/", []byte(`[
			  {"app":"shop","ename":"Order Completed","vid":"v1","props":{"order_id":"o1","total":10}},
			  {"app":"shop","ename":"Order Completed","vid":"v1","props":{"order_id":"o2","total":"ten"}},
			  {"app":"shop","ename":"Order Completed","vid":"v1","props":{"total":5}},
			  {"app":"shop","ename":"Order Completed","vid":"v1","w":"wide"}]`), nil); r.status != 200 || !strings.Contains(string(r.body), `"failed":3`) {
				t.Fatalf("batch: %d %s", r.status, r.body)
			}
			failed := waitFailedIn(t, cfg, 3)
			var o2 string // the failed event of order o2: its id is the event's
			for _, f := range failed {
				if strings.Contains(string(f.Event), `"o2"`) {
					o2 = f.EventID
				}
			}
			if o2 == "" {
				t.Fatalf("no failed event keeps order o2's event: %+v", failed)
			}
			stored := func(want int) []*schema.Event {
				t.Helper()
				if store == "cassandra" {
					return waitRows(t, ks, want, 30*time.Second)
				}
				return waitStored(t, dir, want, 10*time.Second)
			}
			stored(1)

			writePlan(ordersPlanV2)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			since := time.Now().Add(-time.Hour)
			dry, err := app.ReplayFailed(ctx, a.Bus, cfg, "shop", since, true, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if dry.Read != 3 || dry.Sent != 1 || dry.StillBlocked != 1 || dry.Other["invalid_field"] != 1 || dry.PlanVersion != "v2" {
				t.Fatalf("dry run: %+v", dry)
			}
			rep, err := app.ReplayFailed(ctx, a.Bus, cfg, "shop", since, false, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != 1 || rep.StillBlocked != 1 {
				t.Fatalf("replay: %+v", rep)
			}
			evs := stored(2)
			var got *schema.Event
			for _, e := range evs {
				if e.EventID == o2 {
					got = e
				}
			}
			if len(evs) != 2 || got == nil || string(got.Props["total"]) != `"ten"` {
				t.Fatalf("after the replay the store holds %d events; order o2 under id %s: %+v", len(evs), o2, got)
			}
			again, err := app.ReplayFailed(ctx, a.Bus, cfg, "shop", since, false, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if again.Sent != 0 || again.Already != 1 {
				t.Fatalf("a second replay: %+v", again)
			}
			if store == "file" {
				if evs := settled(t, dir, viaTrack(base)); len(evs) != 2 {
					t.Fatalf("the store holds %d events after two replays, want 2", len(evs))
				}
			}
		})
	}
}

// waitFailedIn waits until the failed events' store of cfg holds want of
// app shop's.
func waitFailedIn(t *testing.T, cfg config.Config, want int) []*schema.Failed {
	t.Helper()
	if cfg.SinkType() != "cassandra" {
		return waitFailed(t, filepath.Dir(cfg.File.Dir), want)
	}
	s := cassandratest.Session(t)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var fs []*schema.Failed
		err := cassandra.ReadFailed(context.Background(), s, cfg.Cassandra.Keyspace, "shop", time.Now().Add(-time.Hour), time.Now().Add(time.Minute),
			func(f *schema.Failed) error { fs = append(fs, f); return nil })
		if err == nil && len(fs) >= want || time.Now().After(deadline) {
			if err != nil || len(fs) != want {
				t.Fatalf("failed events: %d, want %d (%v)", len(fs), want, err)
			}
			return fs
		}
		time.Sleep(200 * time.Millisecond)
	}
}
