package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/app"
)

func init() {
	register(command{name: "retention sweep", usage: "",
		short: "remove now what is past each app's retention (quality.retention_days), in the store, and log it in forget_log",
		run:   retentionSweep})
}

func retentionSweep(c *invocation) int {
	if len(c.args) > 0 {
		fmt.Fprintln(os.Stderr, "spoor retention sweep: takes no arguments")
		return 2
	}
	r := c.cfg.Quality.Retention()
	if r.Off() {
		fmt.Println("no app has a retention (quality.retention_days is empty): nothing to sweep")
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
	defer cancel()
	reps, err := app.SweepRetention(ctx, c.cfg, newLogger(c.cfg.Log))
	for _, rep := range reps {
		tables := make([]string, 0, len(rep.Removed))
		for t, n := range rep.Removed {
			tables = append(tables, fmt.Sprintf("%s %d", t, n))
		}
		sort.Strings(tables)
		if len(tables) == 0 {
			tables = []string{"nothing"}
		}
		fmt.Printf("app %s (%s): removed %s; forget_log request %s\n", rep.App, strings.Join(rep.IDs, ", "), strings.Join(tables, ", "), rep.RequestID)
	}
	if len(reps) == 0 && err == nil {
		fmt.Println("nothing is past its retention")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor retention sweep:", err)
		return 1
	}
	return 0
}
