package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spoor-dev/spoor/demo"
)

func init() {
	o := demo.Defaults()
	var url, truth, start *string
	var workers *int
	register(command{name: "demo", noConfig: true,
		short: "send a simulated shop's traffic (deterministic from -seed) through the collector; write its truth",
		flags: func(fs *flag.FlagSet) {
			url = fs.String("url", "http://127.0.0.1:8080", "the collector")
			truth = fs.String("truth", "demo-truth.json", "where the ground truth is written")
			start = fs.String("start", "", "first simulated day, YYYY-MM-DD (default: -days days before today, UTC)")
			workers = fs.Int("workers", 16, "visitors sent at once (each visitor's requests in order)")
			fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed: the same seed sends the same events")
			fs.IntVar(&o.Visitors, "visitors", o.Visitors, "visitors (about 28 events each: 700 ≈ 20k events)")
			fs.IntVar(&o.Days, "days", o.Days, "simulated days")
			fs.StringVar(&o.App, "app", o.App, "app field of every event")
			fs.Float64Var(&o.Drop, "drop", o.Drop, "share of browser messages lost on the way")
			fs.Float64Var(&o.BotShare, "bots", o.BotShare, "share of visitors that are bots")
			fs.Float64Var(&o.BaseConv, "conversion", o.BaseConv, "arm A's conversion at checkout")
			fs.Float64Var(&o.Lift, "lift", o.Lift, "arm B's relative lift: B converts at conversion × (1 + lift)")
		},
		run: func(c *invocation) int { return runDemo(o, *url, *truth, *start, *workers) }})
}

func runDemo(o demo.Options, url, truthPath, start string, workers int) int {
	if start != "" {
		t, err := time.Parse("2006-01-02", start)
		if err != nil {
			fmt.Fprintln(os.Stderr, "spoor demo: -start:", err)
			return 2
		}
		o.Start = t
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := demo.Run(ctx, o, url, workers, func(done, total int) {
		fmt.Fprintf(os.Stderr, "spoor demo: %d of %d visitors sent\n", done, total)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor demo:", err)
		return 1
	}
	b, _ := json.MarshalIndent(res.Truth, "", "  ")
	if err := os.WriteFile(truthPath, append(b, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "spoor demo:", err)
		return 1
	}
	fmt.Printf("sent %d events in %d requests in %.1f s (%.0f events/s); %d humans, %d bots; truth in %s\n",
		res.Truth.Events, res.Requests, res.Took.Seconds(), float64(res.Truth.Events)/res.Took.Seconds(),
		res.Truth.Humans, res.Truth.Bots, truthPath)
	return 0
}
