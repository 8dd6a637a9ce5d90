// Command natsdisk measures what nats.compression saves on disk: for each
// setting it starts an embedded JetStream server on a fresh directory,
// creates the event stream as spoor does (internal/bus), publishes the same
// events one per message with their event ids (as the cluster benchmark's
// single events with client ids arrive), restarts the server so that every
// block is sealed, and reports the stream's bytes on disk per event and
// the process's CPU seconds per 1,000 events (server and publisher share
// the process, so only the ratio between the settings means anything).
// One JSON line per setting goes to stdout.
//
//	go run ./scripts/bench/natsdisk -events 200000
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"flag"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

type result struct {
	Compression   string  `json:"compression"`
	Events        int     `json:"events"`
	EncodedBytes  float64 `json:"encoded_bytes_per_event"` // the NDJSON line
	DiskBytes     float64 `json:"disk_bytes_per_event"`    // the stream's files, after a restart
	CPUPer1000    float64 `json:"cpu_s_per_1000"`          // publishing and storing, server and client in one process
	PublishSecond float64 `json:"publish_s"`
}

func main() {
	n := flag.Int("events", 200000, "events to publish")
	flag.Parse()
	for _, c := range []string{"none", "s2"} {
		r, err := measure(c, *n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "natsdisk:", err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(r)
	}
}

func measure(comp string, n int) (result, error) {
	dir, err := os.MkdirTemp("", "natsdisk-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	opts := bus.Options{Name: "natsdisk", Stream: "SPOOR_EVENTS", Subject: "spoor.events", DLQStream: "SPOOR_DLQ", DLQSubject: "spoor.dlq",
		Replicas: 1, MaxAge: 72 * time.Hour, MaxBytes: 10 << 30, DedupWindow: 2 * time.Minute, Compression: comp,
		MaxPending: 4096, ConnectTimeout: 5 * time.Second}
	emb, err := bus.StartEmbedded(dir, "")
	if err != nil {
		return result{}, fmt.Errorf("starting the server: %w", err)
	}
	b, err := bus.Connect(opts, emb, zerolog.Nop())
	if err != nil {
		return result{}, fmt.Errorf("connecting: %w", err)
	}
	ctx := context.Background()
	if err := b.EnsureStreams(ctx); err != nil {
		return result{}, err
	}
	var encoded int
	cpu0, t0 := cpu(), time.Now()
	pend := make([]bus.Pending, 0, 4096)
	for i := 0; i < n; i++ {
		e := event(i)
		data := append(e.AppendJSON(nil), '\n')
		encoded += len(data)
		p, err := b.Publish(0, e.EventID, data)
		if err != nil {
			return result{}, err
		}
		if pend = append(pend, p); len(pend) == cap(pend) {
			if err := wait(ctx, pend); err != nil {
				return result{}, err
			}
			pend = pend[:0]
		}
	}
	if err := wait(ctx, pend); err != nil {
		return result{}, err
	}
	secs, used := time.Since(t0).Seconds(), cpu()-cpu0
	b.Close()
	emb.Shutdown()
	// A restart seals the last block (and, with s2, compresses it when
	// the server loads the stream and rolls to a new block).
	emb, err = bus.StartEmbedded(dir, "")
	if err != nil {
		return result{}, fmt.Errorf("restarting the server: %w", err)
	}
	emb.Shutdown()
	size, err := streamBytes(dir, opts.Stream)
	if err != nil {
		return result{}, err
	}
	return result{Compression: comp, Events: n, EncodedBytes: float64(encoded) / float64(n), DiskBytes: float64(size) / float64(n),
		CPUPer1000: used / float64(n) * 1000, PublishSecond: secs}, nil
}

func wait(ctx context.Context, ps []bus.Pending) error {
	for _, p := range ps {
		if err := p.Wait(ctx); err != nil {
			return fmt.Errorf("waiting for a PubAck: %w", err)
		}
	}
	return nil
}

// event is a page load as the collector stores it (scripts/bench/loadgen's
// requests, with the fields the collector adds).
func event(i int) *schema.Event {
	idx := int64(i/5000 + 1)
	return &schema.Event{
		EventID: schema.NewEventID(), App: "bench", Endpoint: "tr", EventName: "load",
		VisitorID:   fmt.Sprintf("v-%d", i%5000),
		URL:         fmt.Sprintf("https://shop.example/p/%d", i%300),
		Referrer:    "https://www.google.com/",
		IPHash:      fmt.Sprintf("%016x", uint64(i%5000)*0x9E3779B97F4A7C15),
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		ClientIndex: &idx, ReceivedAt: time.Now().UTC(),
	}
}

// streamBytes sums the sizes of the stream's files in the store.
func streamBytes(dir, stream string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(p, string(filepath.Separator)+stream+string(filepath.Separator)) {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

func cpu() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
