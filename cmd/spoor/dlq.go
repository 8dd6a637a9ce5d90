package main

import (
	"context"
	"errors"
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
	var reason, destination *string
	var max, tries *int
	var dry *bool
	register(command{name: "dlq list", short: "show the dead letters: count by reason, then each one",
		flags: func(fs *flag.FlagSet) { max = fs.Int("max", 100, "entries to show") },
		run:   func(c *invocation) int { return dlq(c, false, true, "", *max) }})
	register(command{name: "dlq replay", short: "publish the store's dead letters back to their partition, or send a destination's to it again (--destination), and remove them (-dry-run: only say what)",
		flags: func(fs *flag.FlagSet) {
			reason = fs.String("reason", "", "only entries whose reason contains this text (default: all)")
			destination = fs.String("destination", "", "the dead letters of this destination: sent to it alone, directly")
			dry = fs.Bool("dry-run", false, "list what would be replayed, change nothing")
			max = fs.Int("max", 1_000_000, "replay at most this many")
			tries = fs.Int("tries", 5, "with --destination: attempts of a batch that fails for a reason a retry may fix")
		},
		run: func(c *invocation) int {
			if *destination != "" {
				return dlqToDestination(c, *destination, *dry, *reason, *max, *tries)
			}
			return dlq(c, true, *dry, *reason, *max)
		}})
}

// dlq lists or replays dead letters. A replayed event goes to the
// partition of its visitor, as the collector would have sent it; an event
// that is still poison is dead-lettered again by the sink, with its reason.
func dlq(c *invocation, replay, dry bool, reason string, max int) int {
	log := newLogger(c.cfg.Log)
	b, ok := connectBus(c, "dlq", log)
	if !ok {
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
		// A replay to the stream is the store's: a destination's dead
		// letters go back to it alone (--destination).
		if replay && d.Consumer != "" && d.Consumer != c.cfg.Sink.Consumer {
			continue
		}
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
			fmt.Printf("#%d %s from %s at %s: %s\n    %s\n", d.Seq, d.DeadAt, d.Stream, d.Consumer, d.Reason, data)
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

// dlqToDestination sends a destination's dead letters to it again, from
// this process, and removes each one it took (or that its filter now
// leaves out); the others stay, with their reason.
func dlqToDestination(c *invocation, name string, dry bool, reason string, max, tries int) int {
	log := newLogger(c.cfg.Log)
	b, ok := connectBus(c, "dlq replay", log)
	if !ok {
		return 1
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	entries, err := b.DeadLetterEntries(ctx, 10_000_000)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor dlq:", err)
		return 1
	}
	var chosen []bus.DeadLetter
	var events []*schema.Event
	for _, d := range entries {
		if d.Consumer != app.DestinationConsumer(name) || !strings.Contains(d.Reason, reason) || len(chosen) >= max {
			continue
		}
		e, err := schema.Decode(d.Data)
		if err != nil {
			continue // not an event: nothing to send
		}
		chosen, events = append(chosen, d), append(events, e)
	}
	fmt.Printf("dead letters of destination %s: %d\n", name, len(chosen))
	if dry || len(chosen) == 0 {
		return 0
	}
	r, err := app.OpenReplayer(ctx, c.cfg, name, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor dlq:", err)
		return 1
	}
	defer r.Close()
	sent, left := 0, 0
	for i, err := range r.Send(ctx, events, tries) {
		if err != nil && !errors.Is(err, app.Skipped) {
			left++
			fmt.Printf("#%d still refused: %v\n", chosen[i].Seq, err)
			continue
		}
		if err := b.RemoveDeadLetter(ctx, chosen[i].Seq); err != nil {
			fmt.Fprintln(os.Stderr, "spoor dlq:", err)
			return 1
		}
		sent++
	}
	fmt.Printf("sent %d, still dead-lettered %d\n", sent, left)
	if left > 0 {
		return 1
	}
	return 0
}
