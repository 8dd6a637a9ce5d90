package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what a run sent.
type Result struct {
	Truth    *Truth
	Requests int64
	Took     time.Duration
}

// Run sends the simulation to the collector at base (http://host:port),
// workers visitors at a time, each visitor's requests in order, and
// returns the truth. A request the collector refuses for good (4xx other
// than 429) fails the run: the truth would no longer be what was stored.
// 429 and 503 are retried after their Retry-After, as the SDK does.
func Run(ctx context.Context, o Options, base string, workers int, progress func(done, total int)) (Result, error) {
	if o.Start.IsZero() {
		today := time.Now().UTC().Truncate(24 * time.Hour)
		o.Start = today.AddDate(0, 0, -o.Days)
	}
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: workers, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
	truth := newTruth()
	truth.SentOn = append(truth.SentOn, day(time.Now()))
	var mu sync.Mutex
	var firstErr error
	var sent atomic.Int64
	var done atomic.Int64
	next := make(chan int)
	start := time.Now()
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				reqs, t := o.visitor(i)
				for _, r := range reqs {
					if err := send(ctx, client, base, r); err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = fmt.Errorf("visitor %d: %w", i, err)
						}
						mu.Unlock()
						break
					}
					sent.Add(1)
				}
				mu.Lock()
				truth.add(t)
				mu.Unlock()
				if n := done.Add(1); progress != nil && n%500 == 0 {
					progress(int(n), o.Visitors)
				}
			}
		}()
	}
feed:
	for i := 0; i < o.Visitors; i++ {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if d := day(time.Now()); d != truth.SentOn[0] {
		truth.SentOn = append(truth.SentOn, d) // the run crossed midnight (UTC)
	}
	truth.finish(o)
	return Result{Truth: truth, Requests: sent.Load(), Took: time.Since(start)}, firstErr
}

// send delivers one request, retrying what the collector asks to retry.
func send(ctx context.Context, c *http.Client, base string, r Request) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.Method, base+r.Path, bytes.NewReader(r.Body))
		if err != nil {
			return err
		}
		if r.ContentType != "" {
			req.Header.Set("Content-Type", r.ContentType)
		}
		req.Header.Set("User-Agent", r.UserAgent)
		if !strings.HasPrefix(r.Path, "/str/") {
			req.Header.Set("Accept-Language", "en-GB,en;q=0.9") // as every browser sends (the bot signals look)
		}
		res, err := c.Do(req)
		if err != nil {
			if attempt < 5 && ctx.Err() == nil {
				time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond)
				continue // nothing was answered: the client retries (ids make it idempotent)
			}
			return err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch {
		case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusFound:
			return nil
		case (res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable) && attempt < 20:
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
		default:
			return fmt.Errorf("%s %s: %d %s", r.Method, r.Path, res.StatusCode, bytes.TrimSpace(body))
		}
	}
}
