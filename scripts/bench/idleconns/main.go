// Command idleconns measures what idle keep-alive connections cost a
// server: it opens -conns connections, sends one tracked GET on each and
// keeps them open, then reads the server's resident memory (VmRSS of -pid)
// and finally sends a second request on every connection to prove each is
// still served. It prints one JSON line.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "server address")
	conns := flag.Int("conns", 10000, "keep-alive connections to open")
	pid := flag.Int("pid", 0, "server process id (for its RSS)")
	settle := flag.Duration("settle", 3*time.Second, "idle time before reading the RSS")
	every := flag.Duration("every", 0, "also sample the RSS this often while idling (0: only at the end)")
	flag.Parse()

	before := rssMB(*pid)
	cs := make([]*conn, *conns)
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 128)
	start := time.Now()
	for i := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(*addr)
			if err == nil {
				err = c.get(i, 1)
			}
			if err != nil {
				failed.Add(1)
				if failed.Load() <= 5 {
					fmt.Fprintf(os.Stderr, "conn %d: %v\n", i, err)
				}
				return
			}
			cs[i] = c
		}(i)
	}
	wg.Wait()
	opened := time.Since(start)
	var samples []float64
	for waited := time.Duration(0); *every > 0 && waited+*every < *settle; waited += *every {
		time.Sleep(*every)
		samples = append(samples, rssMB(*pid))
	}
	time.Sleep(*settle - time.Duration(len(samples))**every)
	idle := rssMB(*pid)
	idleFile := statusMB(*pid, "RssFile:")

	var second, secondFailed atomic.Int64
	for i, c := range cs {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, c *conn) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.get(i, 2); err != nil {
				if n := secondFailed.Add(1); n <= 5 {
					fmt.Fprintf(os.Stderr, "conn %d second request: %v\n", i, err)
				}
				return
			}
			second.Add(1)
		}(i, c)
	}
	wg.Wait()
	after := rssMB(*pid)
	out, _ := json.Marshal(map[string]any{
		"conns": *conns, "open_failed": failed.Load(), "open_seconds": opened.Seconds(),
		"rss_before_mb": before, "rss_idle_mb": idle, "rss_file_idle_mb": idleFile, "rss_samples_mb": samples, "settle_seconds": settle.Seconds(), "rss_after_second_mb": after,
		"second_answered": second.Load(),
	})
	fmt.Println(string(out))
	if failed.Load() > 0 || second.Load() != int64(*conns) {
		os.Exit(1)
	}
}

type conn struct {
	c net.Conn
	r *bufio.Reader
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{c: c, r: bufio.NewReaderSize(c, 512)}, nil
}

// get sends one tracked GET and reads its answer, keeping the connection.
func (c *conn) get(i, n int) error {
	_ = c.c.SetDeadline(time.Now().Add(30 * time.Second))
	req := fmt.Sprintf("GET /tr/v1/ename/idle/app/idleconns/vid/v%d/n/%d HTTP/1.1\r\nHost: bench\r\nUser-Agent: idleconns\r\n\r\n", i, n)
	if _, err := c.c.Write([]byte(req)); err != nil {
		return err
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// rssMB is the resident set of pid in MiB (0 when unknown).
func rssMB(pid int) float64 { return statusMB(pid, "VmRSS:") }

// statusMB is one of /proc/PID/status's sizes in MiB (0 when unknown): VmRSS
// is all that is resident, RssFile its part mapped from files (the
// executable's code and read-only data, shared with the page cache).
func statusMB(pid int, field string) float64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			var kb float64
			fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	return 0
}
