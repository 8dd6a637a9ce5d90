// Command viewers opens n dashboard streams (GET /admin/api/tail with the
// page's own query: rates, health, at most 50 events a second) against a
// collector and reads them until interrupted or -duration ends, then prints
// what they received as JSON: the load 100 open dashboards put on spoor.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18180", "the collector")
	token := flag.String("token", "", "an admin token")
	n := flag.Int("n", 100, "viewers")
	d := flag.Duration("duration", time.Minute, "how long to watch")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *d)
	defer cancel()
	var events, rates, open atomic.Int64
	var wg sync.WaitGroup
	for range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", *url+"/admin/api/tail?rates=1&health=1&max=50", nil)
			req.Header.Set("Authorization", "Bearer "+*token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				fmt.Fprintln(os.Stderr, "viewers:", err)
				return
			}
			defer res.Body.Close()
			if res.StatusCode != 200 {
				fmt.Fprintln(os.Stderr, "viewers:", res.Status)
				return
			}
			open.Add(1)
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			for sc.Scan() {
				switch {
				case strings.HasPrefix(sc.Text(), "event: event"):
					events.Add(1)
				case strings.HasPrefix(sc.Text(), "event: rate"):
					rates.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]int64{"viewers": open.Load(), "events": events.Load(), "rates": rates.Load()})
}
