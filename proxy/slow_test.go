package proxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// slowConns opens n connections to addr that send their first bytes and
// then one more byte every gap until the server closes them, and returns
// how long each lasted.
func slowConns(t *testing.T, addr string, n int, first string, gap time.Duration) []time.Duration {
	t.Helper()
	out := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			began := time.Now()
			c.Write([]byte(first))
			closed := make(chan struct{})
			go func() { io.Copy(io.Discard, c); close(closed) }() // until the server closes
		send:
			for time.Since(began) < 20*time.Second {
				select {
				case <-closed:
					break send
				case <-time.After(gap):
					c.Write([]byte("x"))
				}
			}
			out[i] = time.Since(began)
		}()
	}
	wg.Wait()
	return out
}

func longest(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

// Slowloris: headers sent a byte at a time, bodies that trickle or stall.
// The server cuts every such connection after its timeout, and once they
// are gone nothing of them is left: no goroutine, no heap.
func TestSlowClientsAreCutOff(t *testing.T) { eachEngine(t, testSlowClientsAreCutOff) }

func testSlowClientsAreCutOff(t *testing.T, e engine) {
	var cut atomic.Bool // the download nobody read was cut off at the backend
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/download" {
			block := make([]byte, 32<<10)
			for range 2048 { // 64 MiB, more than every buffer on the way
				if _, err := w.Write(block); err != nil {
					cut.Store(true)
					return
				}
			}
			return
		}
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return
		}
		fmt.Fprintf(w, "read %d", n)
	}))
	defer backend.Close()
	old := rateGrace
	rateGrace = 300 * time.Millisecond
	defer func() { rateGrace = old }()
	o := testOptions(backend.URL)
	o.BodyTimeout, o.MinBodyRate = 400*time.Millisecond, 512
	p, err := New(o, &hits{}, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, e, p, ServerLimits{ReadHeaderTimeout: 500 * time.Millisecond})
	addr := strings.TrimPrefix(url, "http://")

	runtime.GC()
	goroutines := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 100
	for _, tc := range []struct {
		name  string
		first string
		gap   time.Duration
		limit time.Duration
	}{
		{"headers a byte at a time", "GET /page HTTP/1.1\r\nHost: site.example\r\nX-Slow: ", 50 * time.Millisecond, 2 * time.Second},
		{"a trickling body", "POST /upload HTTP/1.1\r\nHost: site.example\r\nContent-Length: 100000\r\n\r\n", 50 * time.Millisecond, 3 * time.Second},
		{"a stalled body", "POST /upload HTTP/1.1\r\nHost: site.example\r\nContent-Length: 100000\r\n\r\nabc", 30 * time.Second, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := longest(slowConns(t, addr, n, tc.first, tc.gap)); d > tc.limit {
				t.Errorf("a slow connection lasted %v, want it cut within %v", d, tc.limit)
			}
		})
	}
	// A normal client is still served.
	resp, err := http.Post(url+"/upload", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bufio.NewReader(resp.Body).ReadString('\n')
	resp.Body.Close()
	if b != "read 5" {
		t.Fatalf("a normal request after the slow ones: %q", b)
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines+5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutines+5 {
		t.Errorf("%d goroutines left after the slow connections were cut (%d before)", g, goroutines)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Errorf("heap in use grew by %d MB after %d slow connections were cut", grew>>20, 3*n)
	}
	// (After the count of what the slow connections left behind.) A client
	// that stops reading a download: once every buffer is full,
	// the next write waits at most the body timeout, then the proxy drops
	// both connections.
	t.Run("a client that stops reading", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprint(c, "GET /download HTTP/1.1\r\nHost: site.example\r\n\r\n")
		deadline := time.Now().Add(5 * time.Second)
		for !cut.Load() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !cut.Load() {
			t.Fatal("5 s after the client stopped reading, the proxy still holds its download (body timeout 400 ms)")
		}
	})
}
