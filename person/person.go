// Package person answers "who is this, and what did they do" from the
// Cassandra store: it resolves a visitor or user id to a person over the
// identity links, reads the person's traits and timeline, and forgets a
// person (docs/identity.md has the rules; decision 0004 the design).
package person

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// MaxIDs caps a resolution: past it the walk stops and Person.Cut is set.
const MaxIDs = 1000

// Store reads and forgets people: Cassandra (cql.go) or the file store
// (files.go).
type Store interface {
	// Resolve finds the person an id (kind "visitor" or "user") belongs
	// to, by the rules of docs/identity.md.
	Resolve(ctx context.Context, app, kind, id string) (*Person, error)
	// Apps lists, sorted, the apps in which the id (kind "visitor" or
	// "user") has identity links or events: where to Resolve it when the
	// app is not known.
	Apps(ctx context.Context, kind, id string) ([]string, error)
	// Traits returns the latest traits of the person's users.
	Traits(ctx context.Context, p *Person) ([]TraitValue, error)
	// Timeline returns up to limit (0: all) of the person's events
	// received before before (zero: no bound), newest first, each once.
	Timeline(ctx context.Context, p *Person, before time.Time, limit int) ([]*schema.Event, error)
	// Forget deletes the person everywhere this store keeps them, after
	// recording their ids so the sinks drop their events in flight, and
	// records the request. A repeat removes nothing and is recorded.
	Forget(ctx context.Context, req Request) (Report, error)
	// Sweeper removes what is past each app's retention (retention.go).
	Sweeper
}

// Link is one identity link of a person.
type Link struct {
	Visitor, User       string
	FirstSeen, LastSeen time.Time
	Via                 string
}

// linksOf returns the links of one visitor (kind "visitor") or user.
type linksOf func(ctx context.Context, kind, id string) ([]Link, error)

// Window is a span of receive times, both ends included.
type Window struct{ From, To time.Time }

// Visitor is one visitor id of a person.
type Visitor struct {
	ID string
	// Shared: the visitor is also linked to users outside the person (a
	// shared browser). Only its events inside Windows belong to the
	// person; OtherUsers counts the others, whose ids are never shown.
	// A shared visitor with no Windows is the id asked for itself: the
	// browser's whole history, no user's.
	Shared     bool
	OtherUsers int
	Windows    []Window
}

// Person is the ids that resolve to one person of an app.
type Person struct {
	App      string
	Users    []string // sorted
	Visitors []Visitor
	Links    []Link
	Cut      bool // the walk stopped at MaxIDs
}

// resolve walks the identity links from one id (kind "visitor" or "user")
// breadth first. A user reaches its visitors; a visitor reaches its user
// only when it has exactly one (a shared browser merges no one); an id
// reached by an alias is walked as a user too, and every user as a
// visitor too (an alias's previous_id may name an earlier user id), so
// alias chains resolve both ways. Nothing but the links is read: no IP, no hash, no guess.
func resolve(ctx context.Context, app, kind, id string, read linksOf) (*Person, error) {
	if id == "" || kind != "visitor" && kind != "user" {
		return nil, fmt.Errorf("resolving a person: need a visitor or user id")
	}
	type item struct{ kind, id string }
	queue := []item{{kind, id}}
	users, visitors := map[string]bool{}, map[string][]Link{}
	seen := map[item]bool{}
	linkSeen := map[[2]string]bool{}
	p := &Person{App: app}
	addLink := func(l Link) {
		if k := [2]string{l.Visitor, l.User}; !linkSeen[k] {
			linkSeen[k] = true
			p.Links = append(p.Links, l)
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if seen[it] {
			continue
		}
		if len(seen) >= MaxIDs {
			p.Cut = true
			break
		}
		seen[it] = true
		ls, err := read(ctx, it.kind, it.id)
		if err != nil {
			return nil, err
		}
		if it.kind == "user" {
			users[it.id] = true
			queue = append(queue, item{"visitor", it.id}) // an alias's previous_id may name it
			for _, l := range ls {
				addLink(l)
				queue = append(queue, item{"visitor", l.Visitor})
				if l.Via == "alias" {
					queue = append(queue, item{"user", l.Visitor})
				}
			}
			continue
		}
		visitors[it.id] = ls
		if len(ls) == 1 {
			addLink(ls[0])
			queue = append(queue, item{"user", ls[0].User})
		}
		for _, l := range ls {
			if l.Via == "alias" {
				queue = append(queue, item{"user", l.User})
			}
		}
	}
	for u := range users {
		p.Users = append(p.Users, u)
	}
	sort.Strings(p.Users)
	for v, ls := range visitors {
		if len(ls) == 0 && !(v == id && kind == "visitor") {
			continue // a user id walked as a visitor that never was one
		}
		pv := Visitor{ID: v}
		for _, l := range ls {
			if !users[l.User] {
				pv.OtherUsers++
			}
		}
		if pv.OtherUsers > 0 && len(ls) > 1 {
			pv.Shared = true
			for _, l := range ls {
				if users[l.User] {
					pv.Windows = append(pv.Windows, Window{l.FirstSeen, l.LastSeen})
					addLink(l)
				}
			}
			sort.Slice(pv.Windows, func(a, b int) bool { return pv.Windows[a].From.Before(pv.Windows[b].From) })
		} else {
			for _, l := range ls {
				addLink(l)
			}
		}
		p.Visitors = append(p.Visitors, pv)
	}
	sort.Slice(p.Visitors, func(a, b int) bool { return p.Visitors[a].ID < p.Visitors[b].ID })
	sort.Slice(p.Links, func(a, b int) bool {
		if p.Links[a].Visitor != p.Links[b].Visitor {
			return p.Links[a].Visitor < p.Links[b].Visitor
		}
		return p.Links[a].User < p.Links[b].User
	})
	return p, nil
}

// Owns reports whether e is one of p's events: it carries one of p's user
// ids, or one of p's visitors (a shared one inside p's windows).
func (p *Person) Owns(e *schema.Event) bool {
	if e.App != p.App {
		return false
	}
	if e.UserID != "" {
		if _, ok := slices.BinarySearch(p.Users, e.UserID); ok {
			return true
		}
	}
	if e.VisitorID == "" {
		return false
	}
	i, ok := slices.BinarySearchFunc(p.Visitors, e.VisitorID, func(v Visitor, id string) int { return strings.Compare(v.ID, id) })
	if !ok {
		return false
	}
	v := p.Visitors[i]
	if !v.Shared || len(v.Windows) == 0 {
		return true
	}
	t := e.ReceivedAt.Truncate(time.Millisecond)
	for _, w := range v.Windows {
		if !t.Before(w.From) && !t.After(w.To) {
			return true
		}
	}
	return false
}
