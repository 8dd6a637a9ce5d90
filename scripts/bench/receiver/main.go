// Command receiver is the far end of a destination for benchmarks: an HTTP
// server that takes a webhook's batches or GA4's Measurement Protocol
// requests, counts their events, and answers 204 (or 503 while -down).
//
//	go run ./scripts/bench/receiver -addr 127.0.0.1:18490 -mode webhook
//	curl 127.0.0.1:18490/count
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18490", "listen address")
	mode := flag.String("mode", "webhook", "webhook ({\"events\": [...]}) or ga4 ({\"events\": [...]} of one client)")
	down := flag.Bool("down", false, "answer 503 to everything (a dead receiver)")
	flag.Parse()
	var events, requests atomic.Int64
	http.HandleFunc("/count", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d %d\n", events.Load(), requests.Load())
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		requests.Add(1)
		if *down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var b struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		events.Add(int64(len(b.Events)))
		w.WriteHeader(http.StatusNoContent)
	})
	log.Printf("receiver (%s) on %s", *mode, *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
