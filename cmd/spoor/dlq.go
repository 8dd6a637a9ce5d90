package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

func init() {
	var reason *string
	var max *int
	var dry *bool
	register(command{name: "dlq list", short: "show the dead letters: count by reason, then each one",
		flags: func(fs *flag.FlagSet) { max = fs.Int("max", 100, "entries to show") },
		run:   func(c *invocation) int { return dlq(c, false, true, "", *max) }})
	register(command{name: "dlq replay", short: "publish dead letters back to their partition and remove them (-dry-run: only say what)",
		flags: func(fs *flag.FlagSet) {
			reason = fs.String("reason", "", "only entries whose reason contains this text (default: all)")
			dry = fs.Bool("dry-run", false, "list what would be replayed, change nothing")
			max = fs.Int("max", 1_000_000, "replay at most this many")
		},
		run: func(c *invocation) int { return dlq(c, true, *dry, *reason, *max) }})
}

// dlq lists or replays dead letters. A replayed event goes to the
// partition of its visitor, as the collector would have sent it; an event
// that is still poison is dead-lettered again by the sink, with its reason.
func dlq(c *invocation, replay, dry bool, reason string, max int) int {
	log := newLogger(c.cfg.Log)
	if c.cfg.NATS.URL == "" {
		fmt.Fprintln(os.Stderr, "spoor dlq: set nats.url (SPOOR_NATS_URL), or nats.listen on the running `spoor run` and point nats.url at it")
		return 2
	}
	b, err := bus.Connect(app.BusOptions(c.cfg), nil, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor dlq:", err)
		return 1
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	entries, err := b.DeadLetterEntries(ctx, 10_000_000)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor dlq:", err)
		return 1
	}
	var chosen []bus.DeadLetter
	byReason := map[string]int{}
	for _, d := range entries {
		if strings.Contains(d.Reason, reason) && len(chosen) < max {
			chosen = append(chosen, d)
			byReason[d.Reason]++
		}
	}
	verb := "dead letters"
	if replay && dry {
		verb = "would replay"
	} else if replay {
		verb = "replaying"
	}
	fmt.Printf("%s: %d of %d\n", verb, len(chosen), len(entries))
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool { return byReason[reasons[i]] > byReason[reasons[j]] })
	for _, r := range reasons {
		fmt.Printf("  %6d  %s\n", byReason[r], r)
	}
	if !replay || dry {
		for _, d := range chosen {
			data := string(d.Data)
			if len(data) > 160 {
				data = data[:160] + "…"
			}
			fmt.Printf("#%d %s from %s: %s\n    %s\n", d.Seq, d.DeadAt, d.Stream, d.Reason, data)
		}
		return 0
	}
	done := 0
	for _, d := range chosen {
		key := fmt.Sprint(d.Seq)
		if e, err := schema.Decode(d.Data); err == nil {
			key = e.PartitionKey()
		}
		if err := b.ReplayDeadLetter(ctx, d, bus.Partition(key, b.Partitions())); err != nil {
			fmt.Fprintf(os.Stderr, "spoor dlq: %v (%d replayed before it)\n", err, done)
			return 1
		}
		done++
	}
	fmt.Printf("replayed %d\n", done)
	return 0
}
