package person

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/schema"
	"github.com/spoor-dev/spoor/sinks/file"
)

// Files is the Store of the embedded file store: it reads the identity
// files and scans the event files, every one (the file store keeps no
// index by person; a single machine's data, read sequentially).
type Files struct {
	Paths file.Paths
	// Settle is how long a forget waits for the sink to publish the
	// in-progress files that may hold the person (file.roll_interval and
	// a write): published files are rewritten, in-progress ones are the
	// sink's.
	Settle time.Duration
}

var _ Store = Files{}

// Resolve reads every link of the app from the identity files, folded,
// and walks them.
func (s Files) Resolve(ctx context.Context, app, kind, id string) (*Person, error) {
	lines, err := file.ReadLinks(s.Paths.Identity)
	if err != nil {
		return nil, err
	}
	byVisitor, byUser := map[string][]Link{}, map[string][]Link{}
	for _, l := range lines {
		if l.App != app {
			continue
		}
		pl := Link{Visitor: l.VisitorID, User: l.UserID, FirstSeen: l.FirstSeen.UTC(), LastSeen: l.LastSeen.UTC(), Via: l.Via}
		byVisitor[pl.Visitor] = append(byVisitor[pl.Visitor], pl)
		byUser[pl.User] = append(byUser[pl.User], pl)
	}
	return resolve(ctx, app, kind, id, func(_ context.Context, kind, id string) ([]Link, error) {
		if kind == "user" {
			return byUser[id], nil
		}
		return byVisitor[id], nil
	})
}

// mayOwn is a cheap first look at an event's canonical bytes: false only
// when the event cannot be p's.
func (p *Person) mayOwn(raw []byte) bool {
	app, visitor, user, ok := schema.PeekIDs(raw)
	if !ok {
		return true
	}
	if app != p.App {
		return false
	}
	if _, found := slices.BinarySearch(p.Users, user); found && user != "" {
		return true
	}
	_, found := slices.BinarySearchFunc(p.Visitors, visitor, func(v Visitor, id string) int { return strings.Compare(v.ID, id) })
	return found && visitor != ""
}

// each calls fn with every event of p in the event files.
func (s Files) each(p *Person, fn func(e *schema.Event)) error {
	paths, err := file.Files(s.Paths.Events)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, path := range paths {
		err := file.Scan(path, func(line []byte) error {
			if !p.mayOwn(line) {
				return nil
			}
			e, err := schema.Decode(line)
			if err != nil {
				return nil // not an event line: not the person's to read
			}
			if p.Owns(e) {
				fn(e)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Timeline scans the event files for p's events.
func (s Files) Timeline(_ context.Context, p *Person, before time.Time, limit int) ([]*schema.Event, error) {
	seen := map[string]bool{}
	var all []*schema.Event
	err := s.each(p, func(e *schema.Event) {
		if (before.IsZero() || e.ReceivedAt.Before(before)) && !seen[e.EventID] {
			seen[e.EventID] = true
			all = append(all, e)
		}
	})
	if err != nil {
		return nil, err
	}
	return newestFirst(all, limit), nil
}

// Traits folds the identify events of p's users found in the event files.
func (s Files) Traits(_ context.Context, p *Person) ([]TraitValue, error) {
	rows := map[string][]traitRow{}
	seen := map[string]bool{}
	err := s.each(p, func(e *schema.Event) {
		if e.EventName != "identify" || e.UserID == "" || seen[e.EventID] {
			return
		}
		seen[e.EventID] = true
		for _, t := range schema.Traits(e) {
			rows[e.UserID] = append(rows[e.UserID], traitRow{name: t.Name, value: t.Value, at: e.ReceivedAt.Truncate(time.Millisecond)})
		}
	})
	if err != nil {
		return nil, err
	}
	var out []TraitValue
	for _, u := range p.Users {
		rs := rows[u]
		sort.SliceStable(rs, func(a, b int) bool {
			if rs[a].name != rs[b].name {
				return rs[a].name < rs[b].name
			}
			return rs[a].at.After(rs[b].at)
		})
		out = append(out, foldTraits(u, rs)...)
	}
	return out, nil
}
