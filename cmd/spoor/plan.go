package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/plan"
	"github.com/spoor-dev/spoor/schema"
)

func init() {
	register(command{name: "plan check", usage: "FILE|DIR", noConfig: true,
		short: "validate a tracking plan (plans/APP.json, or a plan directory) as spoor would load it",
		run:   planCheck})
	var appName, out *string
	var since sinceFlag
	register(command{name: "plan infer", usage: "--app A --since 7d [-out FILE]",
		short: "draft a tracking plan from the app's stored events: types, properties in ≥99% required, small sets as enums",
		flags: func(fs *flag.FlagSet) {
			appName = fs.String("app", "", "the app (required)")
			since = sinceFlag{d: 7 * 24 * time.Hour}
			fs.Var(&since, "since", "events received since this long ago (7d, 48h) or this time (RFC 3339)")
			out = fs.String("out", "", "write the draft here (default: standard output)")
		},
		run: func(c *invocation) int { return planInfer(c, *appName, since.from(time.Now()), *out) }})
}

// planCheck parses a plan file or directory and says what it holds.
func planCheck(c *invocation) int {
	if len(c.args) != 1 {
		fmt.Fprintln(os.Stderr, "spoor plan check: give one plan file or directory")
		return 2
	}
	path := c.args[0]
	p, err := plan.ReadPath(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "spoor plan check: %s: %v\n", path, err)
		return 1
	}
	modes := p.EventModes()
	names := make([]string, 0, len(modes))
	for n := range modes {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("%s: app %s, version %q, mode %s, unplanned events %s, %d events\n", path, p.App, p.Version, p.Mode(), p.Unplanned(), len(names))
	for _, n := range names {
		fmt.Printf("  %-32s %s\n", n, modes[n])
	}
	return 0
}

// planInfer drafts a plan from the stored events.
func planInfer(c *invocation, appName string, since time.Time, out string) int {
	if appName == "" || len(c.args) > 0 {
		fmt.Fprintln(os.Stderr, "spoor plan infer: give --app, and no arguments")
		return 2
	}
	log := newLogger(c.cfg.Log)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
	defer cancel()
	in := plan.NewInferrer(appName)
	if err := app.ReadEvents(ctx, c.cfg, appName, since, log, func(e *schema.Event) { in.Add(e) }); err != nil {
		fmt.Fprintln(os.Stderr, "spoor plan infer:", err)
		return 1
	}
	if in.Events() == 0 {
		fmt.Fprintf(os.Stderr, "spoor plan infer: no stored event of app %s since %s\n", appName, since.UTC().Format(time.RFC3339))
		return 1
	}
	f, err := in.File("inferred-" + time.Now().UTC().Format("2006-01-02"))
	if err == nil {
		var b []byte
		if b, err = json.MarshalIndent(f, "", "  "); err == nil {
			if _, err = plan.Parse(b, appName); err == nil { // a draft spoor would refuse is a bug here
				b = append(b, '\n')
				if out == "" {
					_, err = os.Stdout.Write(b)
				} else {
					err = os.WriteFile(out, b, 0o644)
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spoor plan infer:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "drafted from %d events of %s since %s (mode audit: it blocks nothing until you change it)\n",
		in.Events(), appName, since.UTC().Format(time.RFC3339))
	if out != "" && !strings.HasSuffix(filepath.Base(out), ".json") {
		fmt.Fprintln(os.Stderr, "note: spoor reads plans from plans.dir as APP.json")
	}
	return 0
}
