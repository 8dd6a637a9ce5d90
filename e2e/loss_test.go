package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/cassandratest"
	"github.com/spoor-dev/spoor/loss"
)

// Loss as it happens, on both stores: the sink counts each visitor's
// message indexes (gaps, late arrivals, duplicates) per app and hour, and
// a visitor's state survives the sink's restart: after it, the next index
// is not a gap from 1, a lower one fills the earlier gap, a repeat is a
// duplicate; the counts of before and after add up.
func TestClientLossAcrossRestart(t *testing.T) {
	for _, store := range []string{"file", "cassandra"} {
		t.Run(store, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(dir)
			if store == "cassandra" {
				cfg = cassandraConfig(t, dir, cassandratest.Keyspace(t, cassandratest.Session(t)))
			}
			send := func(a *app.App, idx ...int) {
				t.Helper()
				body := "["
				for i, n := range idx {
					if i > 0 {
						body += ","
					}
					body += fmt.Sprintf(`{"app":"shop","ename":"view","vid":"v-loss","cidx":%d}`, n)
				}
				if r := do(t, "POST", "http://"+a.Addr()+"/tr/v1/", []byte(body+"]"), nil); r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
			}
			today := func(a *app.App, want loss.Counts) {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				for {
					by, err := app.LossToday(context.Background(), a.Bus)
					if err == nil && by["shop"] == want {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("today's counts of shop: %+v (%v), want %+v", by["shop"], err, want)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			a := start(t, cfg)
			send(a, 1, 2, 4)
			today(a, loss.Counts{Received: 3, Gap: 1})
			if r := do(t, "GET", "http://"+a.Addr()+"/metrics", nil, nil); !metricIs(r.body, `spoor_client_messages_total{app="shop",outcome="gap"}`, 1) {
				t.Errorf("the gap is not in /metrics")
			}
			a.Stop()

			a = start(t, cfg)
			defer a.Stop()
			send(a, 5)
			today(a, loss.Counts{Received: 4, Gap: 1})
			send(a, 3)
			send(a, 5)
			c := loss.Counts{Received: 5, Gap: 1, Late: 1, Duplicate: 1}
			today(a, c)
			if c.Share() != 0 {
				t.Errorf("share %v", c.Share())
			}
		})
	}
}
