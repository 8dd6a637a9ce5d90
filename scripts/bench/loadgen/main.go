// Command loadgen sends requests at a fixed rate (open loop) and reports
// latency percentiles measured from each request's scheduled start, so a
// slow server cannot hide its queueing (no coordinated omission). Each
// request is one JSON event; with -client-ids it carries a fresh event id of
// the client's own (as the browser SDK sends), which keeps it out of the
// collector's shared bus messages (collector/group.go).
//
//	go run ./scripts/bench/loadgen -url http://127.0.0.1:18080/tr/v1/ -rate 5000 -duration 10s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
)

func main() {
	target := flag.String("url", "http://127.0.0.1:18080/tr/v1/", "endpoint (POST)")
	rate := flag.Float64("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	inflight := flag.Int("inflight", 512, "requests in flight at most")
	app := flag.String("app", "loadgen", "app field of the events")
	clientIDs := flag.Bool("client-ids", false, "send a client event id with every event")
	method := flag.String("method", "POST", "POST (a JSON event per request) or GET (the URL as given, no body)")
	cidx := flag.Bool("cidx", false, "give each event its visitor's next message index (cidx), as the browser SDK does")
	flag.Parse()

	u, err := url.Parse(*target)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	// fasthttp's client: the generator shares the machine with the server,
	// so it must spend as little CPU per request as possible.
	client := &fasthttp.HostClient{Addr: u.Host, MaxConns: *inflight, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	n := int(*rate * duration.Seconds())
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	jobs := make(chan int, n)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *inflight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI(*target)
			req.Header.SetMethod(*method)
			if *method == "POST" {
				req.Header.SetContentType("application/json")
			}
			for i := range jobs {
				sched := start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))
				if *method == "GET" {
					if err := client.Do(req, res); err == nil {
						codes[i] = res.StatusCode()
					}
					lat[i] = time.Since(sched)
					continue
				}
				body := fmt.Sprintf(`{"ename":"load","app":%q,"vid":"v-%d","url":"https://shop.example/p/%d"}`, *app, i%5000, i%300)
				if *clientIDs {
					body = fmt.Sprintf(`{"eid":%q,`, uuid.Must(uuid.NewV7()).String()) + body[1:]
				}
				if *cidx { // request i is visitor i%5000's (i/5000+1)th message
					body = fmt.Sprintf(`{"cidx":%d,`, i/5000+1) + body[1:]
				}
				req.SetBodyString(body)
				if err := client.Do(req, res); err == nil {
					codes[i] = res.StatusCode()
				}
				lat[i] = time.Since(sched)
			}
		}()
	}
	for i := 0; i < n; i++ { // the schedule: request i is due at i/rate
		if d := time.Until(start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	ok := 0
	for _, c := range codes {
		if c == 200 || c == 302 && *method == "GET" {
			ok++
		}
	}
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a] < sorted[b] })
	pct := func(p float64) float64 { return float64(sorted[int(p*float64(len(sorted)-1))].Microseconds()) / 1000 }
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"rate": *rate, "sent": n, "ok": ok, "achieved_rps": float64(n) / elapsed.Seconds(),
		"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "max_ms": pct(1),
	})
}
