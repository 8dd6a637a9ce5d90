package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

// load posts single events with client ids from several goroutines until
// stop is closed, and returns the ids answered 200.
func load(base string, workers int, stop <-chan struct{}) (acked func() []string, statuses func() map[int]int) {
	return post(base, workers, stop, func() (string, string) {
		id := schema.NewEventID()
		return id, ndEvent("load", id)
	})
}

// post sends next's bodies to /tr/v1/ from several goroutines until stop
// is closed, and returns the keys of those answered 200 and every status
// seen (0: no answer).
func post(base string, workers int, stop <-chan struct{}, next func() (key, body string)) (acked func() []string, statuses func() map[int]int) {
	var mu sync.Mutex
	var keys []string
	st := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				key, body := next()
				res, err := client.Post(base+"/tr/v1/", "application/json", bytes.NewReader([]byte(body)))
				code := 0
				if err == nil {
					code = res.StatusCode
					res.Body.Close()
				} else {
					time.Sleep(5 * time.Millisecond)
				}
				mu.Lock()
				st[code]++
				if code == 200 {
					keys = append(keys, key)
				}
				mu.Unlock()
			}
		}()
	}
	return func() []string { wg.Wait(); mu.Lock(); defer mu.Unlock(); return append([]string(nil), keys...) },
		func() map[int]int { mu.Lock(); defer mu.Unlock(); return st }
}

func exactlyOnce(t *testing.T, dir string, ids []string) {
	t.Helper()
	evs := waitStored(t, dir, len(ids), 60*time.Second)
	count := map[string]int{}
	for _, e := range evs {
		count[e.EventID]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Fatalf("event %s stored %d times, want exactly once", id, count[id])
		}
	}
}

// NATS stops while requests flow: the collector keeps answering from its
// spool; NATS returns: every answered event is stored exactly once, with
// one stream and with partitioned streams (the replayer derives each
// spooled message's partition again), and with collector.ack: local (the
// forwarder pauses, the spool grows, the forwarder drains it).
func TestNATSOutageSpoolsAndReplaysExactlyOnce(t *testing.T) {
	for _, c := range []struct {
		parts int
		ack   string
	}{{1, "replicated"}, {3, "replicated"}, {1, "local"}, {3, "local"}} {
		t.Run(fmt.Sprintf("%d partitions, ack %s", c.parts, c.ack), func(t *testing.T) { natsOutage(t, c.parts, c.ack) })
	}
}

func natsOutage(t *testing.T, partitions int, ack string) {
	dir := t.TempDir()
	natsDir, natsAddr := filepath.Join(dir, "nats-server"), freePort(t)
	srv, err := bus.StartEmbedded(natsDir, natsAddr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(dir)
	cfg.NATS.URL = "nats://" + natsAddr
	cfg.NATS.Partitions = partitions
	cfg.Collector.Ack = ack
	a := start(t, cfg)
	defer a.Stop()

	stop := make(chan struct{})
	acked, statuses := load("http://"+a.Addr(), 8, stop)
	time.Sleep(500 * time.Millisecond)
	srv.Shutdown() // NATS goes away under load
	time.Sleep(1500 * time.Millisecond)
	_, spooled := a.SpoolSize()
	if spooled == 0 {
		t.Fatal("nothing was spooled while NATS was down")
	}
	srv, err = bus.StartEmbedded(natsDir, natsAddr) // and comes back
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	ids := acked()
	st := statuses()
	t.Logf("answered: %v, spooled during outage: %d", st, spooled)
	if st[200] == 0 || len(st) != 1 {
		t.Fatalf("every request must be answered 200 during the outage, got %v", st)
	}
	exactlyOnce(t, dir, ids)
	inTheirPartitions(t, a, partitions)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, n := a.SpoolSize(); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("spool not drained")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// With NATS down, the pixel and the redirect answer at once and their
// events wait in the spool; with the spool full too, JSON endpoints answer
// 503 with Retry-After, the pixel still answers its GIF and the redirect
// its 302, each loss counted.
func TestSpoolFullAnswers503(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.NATS.URL = "nats://" + freePort(t) // nothing listens there
	cfg.Spool.MaxBytes = 4096
	cfg.Spool.SegmentBytes = 1024
	a := startRoles(t, cfg, app.Roles{Collector: true})
	defer a.Stop()
	base := "http://" + a.Addr()
	open := do(t, "GET", base+"/img/v1/ename/open", nil, nil)
	click := do(t, "GET", base+"/rdr/v1/ename/click?url=https://shop.example/x", nil, nil)
	if open.status != 200 || !bytes.HasPrefix(open.body, []byte("GIF89a")) || click.status != 302 || click.header.Get("Location") != "https://shop.example/x" {
		t.Fatalf("with NATS down: pixel %d, redirect %d %q", open.status, click.status, click.header.Get("Location"))
	}
	if _, n := a.SpoolSize(); n != 2 {
		t.Fatalf("%d messages spooled, want the open and the click", n)
	}
	var last response
	for i := 0; i < 50; i++ {
		last = do(t, "POST", base+"/tr/v1/", []byte(`{"ename":"fill"}`), nil)
		if last.status != 200 {
			break
		}
	}
	if last.status != 503 || last.header.Get("Retry-After") == "" || reason(t, last) != "spool_full" {
		t.Fatalf("got %d %v %s", last.status, last.header, last.body)
	}
	if r := do(t, "GET", base+"/readyz", nil, nil); r.status != 503 {
		t.Fatalf("readyz = %d with NATS down and the spool full", r.status)
	}
	r := do(t, "GET", base+"/img/v1/ename/open", nil, nil)
	if r.status != 200 || !bytes.HasPrefix(r.body, []byte("GIF89a")) {
		t.Fatalf("pixel: %d", r.status)
	}
	r = do(t, "GET", base+"/rdr/v1/ename/click?url=https://shop.example/x", nil, nil)
	if r.status != 302 || r.header.Get("Location") != "https://shop.example/x" {
		t.Fatalf("redirect: %d %q", r.status, r.header.Get("Location"))
	}
	m := do(t, "GET", base+"/metrics", nil, nil)
	if !metricIs(m.body, `spoor_collector_events_lost_total{reason="unavailable"}`, 2) {
		t.Fatalf("the pixel's and the redirect's losses must be counted:\n%s", m.body)
	}
}

var binOnce sync.Once
var binPath string

func spoorBinary(t *testing.T) string {
	binOnce.Do(func() {
		binPath = filepath.Join(os.TempDir(), fmt.Sprintf("spoor-e2e-%d", os.Getpid()))
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/spoor").CombinedOutput()
		if err != nil {
			t.Fatalf("building spoor: %v\n%s", err, out)
		}
	})
	return binPath
}

// startBinary starts `spoor run` on dir and addr, with env (SPOOR_*=...)
// on top of the test's own.
func startBinary(t *testing.T, dir, addr string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(spoorBinary(t), "-config", "../config.json", "run")
	cmd.Env = append(os.Environ(), "SPOOR_DATA_DIR="+dir, "SPOOR_HTTP_ADDR="+addr, "SPOOR_FILE_ROLL_INTERVAL=200ms",
		"SPOOR_SINK_BATCH_WAIT=50ms", "SPOOR_LOG_FORMAT=json")
	cmd.Env = append(cmd.Env, env...)
	var logBuf bytes.Buffer
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := client.Get("http://" + addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("spoor did not become ready:\n%s", logBuf.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stopBinary(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("spoor exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("spoor did not exit within 30s of SIGTERM")
	}
}

// SIGTERM under load: the process exits 0, and every event it answered
// 2xx is stored (once) after the next start.
func TestSIGTERMUnderLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir, addr := t.TempDir(), freePort(t)
	cmd := startBinary(t, dir, addr)
	stop := make(chan struct{})
	var answered atomic.Int64
	acked, statuses := load("http://"+addr, 16, stop)
	time.Sleep(time.Second)
	stopBinary(t, cmd)
	close(stop)
	ids := acked()
	answered.Store(int64(len(ids)))
	t.Logf("answered before and during shutdown: %v", statuses())
	if len(ids) == 0 {
		t.Fatal("no request was answered")
	}
	cmd = startBinary(t, dir, addr)
	defer stopBinary(t, cmd)
	exactlyOnce(t, dir, ids)
}
