package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/bus"
	"github.com/spoor-dev/spoor/schema"
)

func init() {
	register(command{name: "destinations status", short: "each destination: its type, what it waits to send, its dead letters",
		run: destinationsStatus})
	var since *time.Duration
	var files *string
	var tries *int
	register(command{name: "destinations replay", usage: "NAME (--since 72h | --files DIR)",
		short: "send the stream's recent events, or the file store's, to one destination (a backfill; idempotent by event id)",
		flags: func(fs *flag.FlagSet) {
			since = fs.Duration("since", 0, "events the stream received in this last span (at most nats.max_age)")
			files = fs.String("files", "", "events of the file store under this directory (e.g. data/events/dt=2026-12-01)")
			tries = fs.Int("tries", 5, "attempts of a batch that fails for a reason a retry may fix")
		},
		run: func(c *invocation) int { return destinationsReplay(c, *since, *files, *tries) }})
}

// connectBus connects a command to the configured NATS (a `spoor run`'s
// embedded server only when it listens: nats.listen, and nats.url at it).
func connectBus(c *invocation, cmd string, log zerolog.Logger) (*bus.Bus, bool) {
	if c.cfg.NATS.URL == "" {
		fmt.Fprintf(os.Stderr, "spoor %s: set nats.url (SPOOR_NATS_URL), or nats.listen on the running `spoor run` and point nats.url at it\n", cmd)
		return nil, false
	}
	b, err := bus.Connect(app.BusOptions(c.cfg), nil, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "spoor %s: %v\n", cmd, err)
		return nil, false
	}
	return b, true
}

func destinationsStatus(c *invocation) int {
	if len(c.cfg.Destinations) == 0 {
		fmt.Println("no destinations configured (destinations in config.json; docs/destinations.md)")
		return 0
	}
	log := newLogger(c.cfg.Log)
	b, ok := connectBus(c, "destinations status", log)
	if !ok {
		return 1
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dead := map[string]int{}
	if dl, err := b.DeadLetterEntries(ctx, 10_000_000); err == nil {
		for _, d := range dl {
			dead[d.Consumer]++
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tWAITING\tIN FLIGHT\tDEAD LETTERS\tFILTER")
	for _, d := range c.cfg.Destinations {
		waiting, inFlight := "?", "?"
		if st, err := b.PartitionStates(ctx, app.DestinationConsumer(d.Name)); err == nil {
			var w, f uint64
			for _, s := range st {
				w, f = w+s.Pending, f+uint64(s.AckWait)
			}
			waiting, inFlight = fmt.Sprint(w), fmt.Sprint(f)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.Name, d.Type, waiting, inFlight, dead[app.DestinationConsumer(d.Name)], filterText(d.Filter.Apps, d.Filter.Events, d.Consent))
	}
	tw.Flush()
	return 0
}

func filterText(apps, events []string, consent string) string {
	var parts []string
	if len(apps) > 0 {
		parts = append(parts, "apps "+strings.Join(apps, ","))
	}
	if len(events) > 0 {
		parts = append(parts, "events "+strings.Join(events, ","))
	}
	if consent != "" {
		parts = append(parts, "consent "+consent)
	}
	if len(parts) == 0 {
		return "every event"
	}
	return strings.Join(parts, "; ")
}

// destinationsReplay is the backfill: events from the stream's retention
// or the file store, through the destination's filter, in batches.
func destinationsReplay(c *invocation, since time.Duration, files string, tries int) int {
	if len(c.args) != 1 || (since > 0) == (files != "") {
		fmt.Fprintln(os.Stderr, "spoor destinations replay: give the destination's name and one of --since and --files")
		return 2
	}
	log := newLogger(c.cfg.Log)
	ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
	defer cancel()
	r, err := app.OpenReplayer(ctx, c.cfg, c.args[0], log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor destinations replay:", err)
		return 1
	}
	defer r.Close()
	var tally replayTally
	var batch []*schema.Event
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := tally.add(r.Send(ctx, batch, tries))
		batch = batch[:0]
		return err
	}
	add := func(data []byte) error {
		for _, line := range splitLines(data) {
			e, err := schema.Decode(line)
			if err != nil {
				tally.bad++
				continue
			}
			batch = append(batch, e)
		}
		if len(batch) >= 500 {
			return flush()
		}
		return nil
	}
	if since > 0 {
		b, ok := connectBus(c, "destinations replay", log)
		if !ok {
			return 1
		}
		defer b.Close()
		err = b.ReadSince(ctx, time.Now().Add(-since), add)
	} else {
		err = app.ReadEventFiles(files, add)
	}
	if err == nil {
		err = flush()
	}
	fmt.Printf("destination %s: %d sent, %d left out by its filter, %d refused, %d unreadable\n", r.Name, tally.sent, tally.skipped, tally.refused, tally.bad)
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor destinations replay:", err)
		return 1
	}
	return 0
}

type replayTally struct{ sent, skipped, refused, bad int }

// add counts a batch's results; a failure that retries did not fix stops
// the replay (run it again: it is idempotent by event id).
func (t *replayTally) add(errs []error) error {
	for _, err := range errs {
		switch {
		case err == nil:
			t.sent++
		case errors.Is(err, app.Skipped):
			t.skipped++
		case app.Refused(err):
			t.refused++
			fmt.Fprintln(os.Stderr, "refused:", err)
		default:
			return fmt.Errorf("the destination keeps failing (%v): %d sent so far; run again to go on", err, t.sent)
		}
	}
	return nil
}

func splitLines(data []byte) [][]byte {
	var out [][]byte
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			out = append(out, []byte(l))
		}
	}
	return out
}
