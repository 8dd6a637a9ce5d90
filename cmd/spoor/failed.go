package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/app"
)

func init() {
	var appName *string
	var dry *bool
	var since sinceFlag
	register(command{name: "failed replay", usage: "--app A --since 24h [-dry-run]",
		short: "check the app's failed events its plan blocked against the plan in force now, and send on, once, those that pass",
		flags: func(fs *flag.FlagSet) {
			appName = fs.String("app", "", "the app whose failed events to replay (required)")
			since = sinceFlag{d: 24 * time.Hour}
			fs.Var(&since, "since", "failed events received since this long ago (24h, 7d) or this time (RFC 3339)")
			dry = fs.Bool("dry-run", false, "only count what would be sent")
		},
		run: func(c *invocation) int { return failedReplay(c, *appName, since.from(time.Now()), *dry) }})
}

func failedReplay(c *invocation, appName string, since time.Time, dry bool) int {
	if appName == "" || len(c.args) > 0 {
		fmt.Fprintln(os.Stderr, "spoor failed replay: give --app, and no arguments")
		return 2
	}
	log := newLogger(c.cfg.Log)
	b, ok := connectBus(c, "failed replay", log)
	if !ok {
		return 1
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
	defer cancel()
	rep, err := app.ReplayFailed(ctx, b, c.cfg, appName, since, dry, log)
	plan := rep.PlanVersion
	if plan == "" {
		plan = "none (every blocked event passes)"
	}
	verb := "sent"
	if dry {
		verb = "would send"
	}
	fmt.Printf("app %s, failed events since %s: %d; plan in force: %s\n", appName, since.UTC().Format(time.RFC3339), rep.Read, plan)
	fmt.Printf("  %s: %d\n  sent by an earlier replay: %d\n  still blocked: %d\n", verb, rep.Sent, rep.Already, rep.StillBlocked)
	reasons := make([]string, 0, len(rep.Other))
	for r := range rep.Other {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Printf("  not a plan's refusal (%s): %d\n", r, rep.Other[r])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor failed replay:", err)
		return 1
	}
	return 0
}

// sinceFlag is a point in the past: a duration back from now ("24h",
// "7d") or a time (RFC 3339).
type sinceFlag struct {
	d  time.Duration
	at time.Time
}

func (s *sinceFlag) String() string {
	if s == nil {
		return ""
	}
	if !s.at.IsZero() {
		return s.at.Format(time.RFC3339)
	}
	if s.d%(24*time.Hour) == 0 && s.d > 0 {
		return strconv.Itoa(int(s.d/(24*time.Hour))) + "d"
	}
	return s.d.String()
}

func (s *sinceFlag) Set(v string) error {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		s.at, s.d = t, 0
		return nil
	}
	if d, ok := parseSpan(v); ok {
		s.d, s.at = d, time.Time{}
		return nil
	}
	return fmt.Errorf("want a duration (24h, 7d) or an RFC 3339 time, not %q", v)
}

// from is the point the flag names, counted back from now.
func (s sinceFlag) from(now time.Time) time.Time {
	if !s.at.IsZero() {
		return s.at
	}
	return now.Add(-s.d)
}

// parseSpan reads a positive span of time: a Go duration ("72h") or whole
// days ("30d").
func parseSpan(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, true
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, true
	}
	return 0, false
}
