package person

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/cassandra"
)

// part is one partition read of a timeline: a table, an id, a span.
type part struct {
	table, id string
	from, to  time.Time // to: exclusive; zero: unbounded
}

// parts lists the partitions that hold the person's events received
// before before: every user's events_by_user, every visitor's
// events_by_visitor (a shared one only inside its windows).
func (p *Person) parts(before time.Time) []part {
	var out []part
	for _, u := range p.Users {
		out = append(out, part{"events_by_user", u, time.Time{}, before})
	}
	for _, v := range p.Visitors {
		if !v.Shared || len(v.Windows) == 0 {
			out = append(out, part{"events_by_visitor", v.ID, time.Time{}, before})
			continue
		}
		for _, w := range v.Windows {
			to := w.To.Add(time.Millisecond) // inclusive end, at the store's precision
			if !before.IsZero() && before.Before(to) {
				to = before
			}
			if to.After(w.From) {
				out = append(out, part{"events_by_visitor", v.ID, w.From, to})
			}
		}
	}
	return out
}

// Timeline returns up to limit of the person's events received before
// before (zero: now), newest first: each partition read in clustering
// order up to limit, then merged. An event in two partitions (it carries
// both ids) appears once. The next page starts before the last one's
// received_at.
func (s Cassandra) Timeline(ctx context.Context, p *Person, before time.Time, limit int) ([]*schema.Event, error) {
	ps := p.parts(before)
	res := make([][]*schema.Event, len(ps))
	errs := make([]error, len(ps))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, pt := range ps {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res[i], errs[i] = cassandra.ReadPartition(ctx, s.Session, s.Keyspace, pt.table, p.App, pt.id, pt.from, pt.to, limit)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	var all []*schema.Event
	for i, evs := range res {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, e := range evs {
			if !seen[e.EventID] {
				seen[e.EventID] = true
				all = append(all, e)
			}
		}
	}
	return newestFirst(all, limit), nil
}

// newestFirst sorts events by receive time, newest first (ties by id),
// and keeps up to limit (0: all).
func newestFirst(all []*schema.Event, limit int) []*schema.Event {
	sort.Slice(all, func(a, b int) bool {
		if !all[a].ReceivedAt.Equal(all[b].ReceivedAt) {
			return all[a].ReceivedAt.After(all[b].ReceivedAt)
		}
		return all[a].EventID > all[b].EventID
	})
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all
}
