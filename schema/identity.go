package schema

import (
	"encoding/json"
	"time"
)

// Link is an identity link (docs/identity.md): a visitor and a user of one
// app seen together in a batch, with the earliest and latest events that
// showed it.
type Link struct {
	App, VisitorID, UserID string
	Via                    string // of the earliest: identify, alias or event
	First, Last            time.Time
	EventID                string // the earliest event that showed it
	Idx                    []int  // the events that showed it, by index
}

// Links finds the identity links in events, skipping those for which skip
// returns true (nil skips none). An identify or any event that carries both
// ids links its visitor and user; an alias also links its previous_id (as
// the visitor) with its user. Nothing else links.
func Links(events []*Event, skip func(i int) bool) []*Link {
	var by map[[3]string]*Link
	var order []*Link
	add := func(i int, e *Event, visitor, via string) {
		if visitor == "" || e.UserID == "" || visitor == e.UserID {
			return
		}
		if by == nil {
			by = map[[3]string]*Link{}
		}
		k := [3]string{e.App, visitor, e.UserID}
		l := by[k]
		if l == nil {
			l = &Link{App: e.App, VisitorID: visitor, UserID: e.UserID, Via: via, First: e.ReceivedAt, Last: e.ReceivedAt, EventID: e.EventID}
			by[k] = l
			order = append(order, l)
		}
		if e.ReceivedAt.Before(l.First) || e.ReceivedAt.Equal(l.First) && e.EventID < l.EventID {
			l.First, l.Via, l.EventID = e.ReceivedAt, via, e.EventID
		}
		if e.ReceivedAt.After(l.Last) {
			l.Last = e.ReceivedAt
		}
		l.Idx = append(l.Idx, i)
	}
	for i, e := range events {
		if e == nil || skip != nil && skip(i) {
			continue
		}
		via := "event"
		if e.EventName == "identify" {
			via = "identify"
		}
		add(i, e, e.VisitorID, via)
		if e.EventName == "alias" {
			var prev string
			if json.Unmarshal(e.Props["previous_id"], &prev) == nil {
				add(i, e, prev, "alias")
			}
		}
	}
	return order
}
