package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spoor-dev/spoor/app"
	"github.com/spoor-dev/spoor/internal/config"
	"github.com/spoor-dev/spoor/person"
	"github.com/spoor-dev/spoor/schema"
)

// who holds the flags that name a person, shared by person and forget.
type who struct{ app, uid, vid *string }

func whoFlags(fs *flag.FlagSet) who {
	return who{app: fs.String("app", "", "the app (events sent without one have the empty app); person without it: every app the id is in"),
		uid: fs.String("uid", "", "a user id"), vid: fs.String("vid", "", "a visitor id")}
}

// appGiven reports whether --app was on the command line (the empty app
// is an app too).
func (w who) appGiven(fs *flag.FlagSet) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "app" })
	return given
}

func (w who) parse(cmd string) (kind, id string, ok bool) {
	switch {
	case (*w.uid == "") == (*w.vid == ""):
		fmt.Fprintf(os.Stderr, "spoor %s: give exactly one of --uid and --vid\n", cmd)
		return "", "", false
	case *w.uid != "":
		return "user", *w.uid, true
	}
	return "visitor", *w.vid, true
}

// openPeople opens the identity store the configuration writes to
// (app.OpenPeople), saying why not on stderr.
func openPeople(cfg config.Config, cmd string) (person.Store, func(), bool) {
	s, done, err := app.OpenPeople(cfg, zerolog.Nop())
	if err != nil {
		fmt.Fprintf(os.Stderr, "spoor %s: %v\n", cmd, err)
		return nil, nil, false
	}
	return s, done, true
}

func init() {
	var w who
	var limit *int
	var before *string
	var asJSON *bool
	register(command{name: "person", usage: "--uid U | --vid V [--app A] [--limit N] [--before T] [--json]",
		short: "print a person's linked ids, traits and events (newest first, paged)",
		flags: func(fs *flag.FlagSet) {
			w = whoFlags(fs)
			limit = fs.Int("limit", 50, "events per page")
			before = fs.String("before", "", "only events received before this time (RFC 3339): the next page")
			asJSON = fs.Bool("json", false, "print JSON: one document, or an array of them when the id is in several apps")
		},
		run: func(c *invocation) int {
			kind, id, ok := w.parse("person")
			if !ok {
				return 2
			}
			var at time.Time
			if *before != "" {
				var err error
				if at, err = time.Parse(time.RFC3339Nano, *before); err != nil {
					fmt.Fprintln(os.Stderr, "spoor person: --before:", err)
					return 2
				}
			}
			s, done, ok := openPeople(c.cfg, "person")
			if !ok {
				return 1
			}
			defer done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			return showPerson(ctx, os.Stdout, os.Stderr, s, w.appGiven(c.fs), *w.app, kind, id, at, *limit, *asJSON)
		}})
}

// found is one app's answer for a person.
type found struct {
	p      *person.Person
	traits []person.TraitValue
	tl     []*schema.Event
}

func (f found) empty() bool { return len(f.p.Links) == 0 && len(f.traits) == 0 && len(f.tl) == 0 }

// showPerson prints the person an id belongs to. Without --app it looks in
// every app the id is known in (most ids are in one); with --app and
// nothing there, it says which apps do know the id.
func showPerson(ctx context.Context, out, errw io.Writer, s person.Store, appGiven bool, app, kind, id string, at time.Time, limit int, asJSON bool) int {
	apps := []string{app}
	if !appGiven {
		var err error
		if apps, err = s.Apps(ctx, kind, id); err != nil {
			fmt.Fprintln(errw, "spoor person:", err)
			return 1
		}
		if len(apps) == 0 {
			fmt.Fprintf(errw, "spoor person: no app has %s %s: no identity link and no event names it\n", kind, id)
			return 1
		}
	}
	var all []found
	for _, app := range apps {
		f, err := lookUp(ctx, s, app, kind, id, at, limit)
		if err != nil {
			fmt.Fprintln(errw, "spoor person:", err)
			return 1
		}
		all = append(all, f)
	}
	if appGiven && all[0].empty() {
		others, err := s.Apps(ctx, kind, id)
		if err == nil && len(others) > 0 {
			fmt.Fprintf(errw, "spoor person: %s %s has nothing in app %q; it is known in %s (--app %s)\n",
				kind, id, app, quoteAll(others), others[0])
			return 1
		}
	}
	if asJSON {
		if len(all) == 1 {
			return printPersonJSON(out, all[0], limit)
		}
		docs := make([]map[string]any, len(all))
		for i, f := range all {
			docs[i] = personDoc(f, limit)
		}
		return writeJSON(out, docs)
	}
	for i, f := range all {
		if i > 0 {
			fmt.Fprintln(out)
		}
		printPerson(out, f.p, f.traits, f.tl, limit)
	}
	return 0
}

func lookUp(ctx context.Context, s person.Store, app, kind, id string, at time.Time, limit int) (found, error) {
	var f found
	var err error
	if f.p, err = s.Resolve(ctx, app, kind, id); err != nil {
		return f, err
	}
	if f.traits, err = s.Traits(ctx, f.p); err != nil {
		return f, err
	}
	f.tl, err = s.Timeline(ctx, f.p, at, limit)
	return f, err
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "app " + strings.Join(q, ", app ")
}

func personDoc(f found, limit int) map[string]any {
	p := f.p
	doc := map[string]any{"app": p.App, "users": p.Users, "visitors": p.Visitors, "links": p.Links, "cut": p.Cut,
		"traits": f.traits, "events": f.tl}
	if limit > 0 && len(f.tl) == limit {
		doc["next_before"] = f.tl[len(f.tl)-1].ReceivedAt
	}
	return doc
}

func printPersonJSON(out io.Writer, f found, limit int) int {
	return writeJSON(out, personDoc(f, limit))
}

func writeJSON(out io.Writer, v any) int {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(os.Stderr, "spoor person:", err)
		return 1
	}
	return 0
}

func printPerson(out io.Writer, p *person.Person, traits []person.TraitValue, tl []*schema.Event, limit int) {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }
	fmt.Fprintf(out, "app %q: %d user id(s), %d visitor id(s)\n", p.App, len(p.Users), len(p.Visitors))
	if p.Cut {
		fmt.Fprintf(out, "(the walk stopped at %d ids: more are linked)\n", person.MaxIDs)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	if len(p.Links) > 0 {
		fmt.Fprintln(tw, "\nVISITOR\tUSER\tVIA\tFIRST SEEN\tLAST SEEN")
		for _, l := range p.Links {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Visitor, l.User, l.Via, ts(l.FirstSeen), ts(l.LastSeen))
		}
	}
	for _, v := range p.Visitors {
		if v.Shared {
			var ws []string
			for _, w := range v.Windows {
				ws = append(ws, ts(w.From)+" – "+ts(w.To))
			}
			win := "its whole history (no user of it was asked for)"
			if len(ws) > 0 {
				win = "only its events " + strings.Join(ws, ", ")
			}
			fmt.Fprintf(tw, "\nvisitor %s is shared with %d other user(s): %s\n", v.ID, v.OtherUsers, win)
		}
	}
	if len(traits) > 0 {
		sort.SliceStable(traits, func(a, b int) bool { return traits[a].User < traits[b].User })
		fmt.Fprintln(tw, "\nUSER\tTRAIT\tVALUE\tCHANGED\tLAST SET")
		for _, t := range traits {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.User, t.Name, t.Value, ts(t.ChangedAt), ts(t.SetAt))
		}
	}
	fmt.Fprintf(tw, "\nRECEIVED\tEVENT\tVISITOR\tUSER\tURL\n")
	for _, e := range tl {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ts(e.ReceivedAt), e.EventName, e.VisitorID, e.UserID, e.URL)
	}
	tw.Flush()
	if limit > 0 && len(tl) == limit {
		fmt.Fprintf(out, "\nmore: --before %s\n", tl[len(tl)-1].ReceivedAt.UTC().Format(time.RFC3339Nano))
	}
}

func init() {
	var w who
	var by *string
	var grace *time.Duration
	register(command{name: "forget", usage: "--uid U | --vid V [--app A] [--by NAME]",
		short: "delete one person's data everywhere, following their identity links, and record the request",
		flags: func(fs *flag.FlagSet) {
			w = whoFlags(fs)
			by = fs.String("by", "", "who asks, for the audit log (default: the OS user and host)")
			grace = fs.Duration("grace", -1, "wait before deleting, for the sinks to see the forgotten ids (default: sink.write_timeout + 2s)")
		},
		run: func(c *invocation) int {
			kind, id, ok := w.parse("forget")
			if !ok {
				return 2
			}
			if *by == "" {
				u, _ := user.Current()
				h, _ := os.Hostname()
				if u != nil {
					*by = u.Username + "@" + h
				}
			}
			g := *grace
			if g < 0 {
				g = app.ForgetGrace(c.cfg)
			}
			s, done, ok := openPeople(c.cfg, "forget")
			if !ok {
				return 1
			}
			defer done()
			fmt.Fprintf(os.Stderr, "spoor forget: %s %s of app %q: ids recorded as forgotten; deleting in %s (sinks finish writes in flight)\n", kind, id, *w.app, g)
			r, err := s.Forget(context.Background(), person.Request{App: *w.app, Kind: kind, ID: id, By: *by, Grace: g})
			if err != nil {
				fmt.Fprintln(os.Stderr, "spoor forget:", err)
				return 1
			}
			app.TellDestinations(context.Background(), c.cfg, &r, newLogger(c.cfg.Log))
			printReport(os.Stdout, r)
			return 0
		}})
}

func printReport(out io.Writer, r person.Report) {
	fmt.Fprintf(out, "request %s: forgot %s\n", r.RequestID, strings.Join(r.IDs, ", "))
	defer func() {
		for _, name := range sortedNames(r.Told) {
			fmt.Fprintf(out, "destination %s told: %s\n", name, r.Told[name])
		}
	}()
	if r.Total() == 0 {
		fmt.Fprintln(out, "nothing was stored for them (a repeat, or never seen): recorded as a no-op")
		return
	}
	var tables []string
	for t := range r.Removed {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tREMOVED")
	for _, t := range tables {
		fmt.Fprintf(tw, "%s\t%d\n", t, r.Removed[t])
	}
	tw.Flush()
}

func sortedNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
