package e2e

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/sinks/file"
)

// loadNamed posts single events without a client id (the collector
// assigns it, so their messages may be joined), each named by a counter,
// until stop is closed; it returns the names answered 200.
func loadNamed(base, prefix string, workers int, stop <-chan struct{}) func() []string {
	var n atomic.Int64
	acked, _ := post(base, workers, stop, func() (string, string) {
		name := fmt.Sprintf("%s-%d", prefix, n.Add(1))
		return name, `{"ename":"` + name + `"}`
	})
	return acked
}

// answeredOnce waits until every answered event is stored and fails if
// one is stored twice. Events the process made durable but could not
// answer (it was killed first) may be stored too; they were never promised.
func answeredOnce(t *testing.T, dir string, ids, names []string) {
	t.Helper()
	var byID, byName map[string]int
	missing := 0
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		evs, err := file.ReadAll(filepath.Join(dir, "events"))
		if err != nil {
			t.Fatal(err)
		}
		byID, byName = map[string]int{}, map[string]int{}
		for _, e := range evs {
			byID[e.EventID]++
			byName[e.EventName]++
		}
		missing = 0
		for _, id := range ids {
			if byID[id] == 0 {
				missing++
			}
		}
		for _, n := range names {
			if byName[n] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d answered events never stored", missing, len(ids)+len(names))
	}
	for id, n := range byID {
		if n > 1 {
			t.Fatalf("event %s stored %d times", id, n)
		}
	}
	for _, name := range names {
		if byName[name] > 1 {
			t.Fatalf("event %s stored %d times", name, byName[name])
		}
	}
}

// kill -9 under load, with either ack: every event answered 2xx before the
// kill (client ids and collector-assigned ones) is stored exactly once
// after the next start. With collector.ack: local the answered events are
// in the spool's fsynced segments, some not yet forwarded, some forwarded
// but not yet deleted (forwarded again, and dropped by JetStream's dedup).
func TestKill9UnderLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	for _, ack := range []string{"replicated", "local"} {
		t.Run(ack, func(t *testing.T) {
			dir, addr := t.TempDir(), freePort(t)
			env := []string{"SPOOR_COLLECTOR_ACK=" + ack}
			cmd := startBinary(t, dir, addr, env...)
			stop := make(chan struct{})
			acked, statuses := load("http://"+addr, 8, stop)
			named := loadNamed("http://"+addr, "shared", 8, stop)
			time.Sleep(1500 * time.Millisecond)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			close(stop)
			ids, names := acked(), named()
			t.Logf("answered before the kill: %v with client ids, %d without", statuses(), len(names))
			if len(ids) == 0 || len(names) == 0 {
				t.Fatal("no request was answered before the kill")
			}
			cmd = startBinary(t, dir, addr, env...)
			defer stopBinary(t, cmd)
			answeredOnce(t, dir, ids, names)
		})
	}
}
