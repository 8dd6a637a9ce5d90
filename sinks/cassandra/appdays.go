package cassandra

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// appDays remembers the (app, day) rows of app_days this process has
// written: a reader walks those days for a visitor's rows (VisitorDays), so
// a day's row is stored before any visitor_events row of the day is
// reported stored. A process writes each at most once while remembered
// (at most appDayEntries; when full it starts again empty).
type appDays struct {
	sync.Mutex
	m map[appDay]bool
}

type appDay struct {
	app string
	day time.Time
}

const appDayEntries = 4096

// dayWrite is the app_days rows one Write still needs for an app, and the
// events whose visitor rows wait on them.
type dayWrite struct {
	app  string
	days []time.Time
	idx  []int
}

// missing returns, per app, the days of vs's visitor rows not known to be
// in app_days.
func (a *appDays) missing(events []*schema.Event, vs []*touch) []dayWrite {
	a.Lock()
	defer a.Unlock()
	var out []dayWrite
	at := map[string]int{}    // app: index in out
	seen := map[appDay]bool{} // asked for in this Write
	for _, v := range vs {
		for _, i := range v.idx {
			e := events[i]
			k := appDay{e.App, Day(e.ReceivedAt)}
			if a.m[k] {
				continue
			}
			n, ok := at[e.App]
			if !ok {
				n = len(out)
				at[e.App] = n
				out = append(out, dayWrite{app: e.App})
			}
			if !seen[k] {
				seen[k] = true
				out[n].days = append(out[n].days, k.day)
			}
			out[n].idx = append(out[n].idx, i)
		}
	}
	return out
}

// stored records an app's days as written.
func (a *appDays) stored(app string, days []time.Time) {
	a.Lock()
	defer a.Unlock()
	if a.m == nil || len(a.m)+len(days) > appDayEntries {
		a.m = make(map[appDay]bool, 64)
	}
	for _, d := range days {
		a.m[appDay{app, d}] = true
	}
}

// writeDays stores one app's app_days rows (one partition, one mutation)
// and remembers them.
func (s *Sink) writeDays(ctx context.Context, w dayWrite) error {
	b := s.newBatch()
	for _, d := range w.days {
		add(b, fmt.Sprintf("INSERT INTO %s.app_days (app, kind, day) VALUES (?, 'visitor', ?)", s.opts.Keyspace), w.app, d)
	}
	if err := s.execBatch(ctx, b, len(b.Entries)); err != nil {
		return fmt.Errorf("recording the days of app %s: %w", w.app, err)
	}
	s.days.stored(w.app, w.days)
	return nil
}
