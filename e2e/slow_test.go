package e2e

import (
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Slowloris against the collector: headers a byte at a time and bodies
// that trickle are cut off at http.read_timeout, a hundred at once, and
// the collector keeps answering everyone else meanwhile.
func TestCollectorCutsOffSlowClients(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.HTTP.ReadTimeout = 500 * time.Millisecond
	a := start(t, cfg)
	defer a.Stop()
	base := "http://" + a.Addr()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, first := range []string{
		"GET /tr/v1/ename/slow HTTP/1.1\r\nHost: t.example\r\nX-Slow: ",
		"POST /tr/v1/ HTTP/1.1\r\nHost: t.example\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n{\"ename\":\"",
	} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var longest time.Duration
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", a.Addr())
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				began := time.Now()
				c.Write([]byte(first))
				closed := make(chan struct{})
				go func() { io.Copy(io.Discard, c); close(closed) }()
			send:
				for time.Since(began) < 10*time.Second {
					select {
					case <-closed:
						break send
					case <-time.After(50 * time.Millisecond):
						c.Write([]byte("x"))
					}
				}
				mu.Lock()
				longest = max(longest, time.Since(began))
				mu.Unlock()
			}()
		}
		// Everyone else is served meanwhile.
		if r := do(t, "GET", base+"/tr/v1/ename/fast", nil, nil); r.status != 200 {
			t.Fatalf("a normal request during the slow ones: %d", r.status)
		}
		wg.Wait()
		if longest > 3*time.Second {
			t.Errorf("a slow connection (%.30q...) lasted %v; http.read_timeout is 500ms", first, longest)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("heap in use grew by %d MB after 200 slow connections were cut", grew>>20)
	}
	waitStored(t, dir, 2, 10*time.Second) // the two normal requests, nothing of the slow ones
}
