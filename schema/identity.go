package schema

import (
	"bytes"
	"encoding/json"
	"sort"
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

// Trait is one trait an identify set: its name and its value as JSON.
type Trait struct{ Name, Value string }

// MessageProps are the props a wire format keeps of a message's own
// fields (a Segment messageId that is no UUID, an alias's previousId, a
// group's groupId): they say which message it was, never who the person
// is, so they are no traits.
var MessageProps = map[string]bool{"message_id": true, "previous_id": true, "group_id": true}

// Traits are what an identify sets: its props as sent but MessageProps,
// and email_hash (traits.email is kept only as its keyed hash, as on every
// event). Sorted by name.
func Traits(e *Event) []Trait {
	out := make([]Trait, 0, len(e.Props)+1)
	for k, v := range e.Props {
		if !MessageProps[k] {
			out = append(out, Trait{k, string(v)})
		}
	}
	if e.EmailHash != "" {
		b, _ := json.Marshal(e.EmailHash)
		out = append(out, Trait{"email_hash", string(b)})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

// PeekInto reads top-level string fields (by their long names) from an
// event's canonical encoding into out (same order as fields), without
// decoding it: only the dictionary part (before "props") is searched, so
// a prop of that name is never taken for the field. An absent field is
// "". False when a value holds an escape: decode the event instead.
func PeekInto(raw []byte, fields []string, out []string) bool {
	dict := raw
	if i := bytes.Index(raw, []byte(`,"props":{`)); i >= 0 {
		dict = raw[:i]
	}
	for i, f := range fields {
		v, ok := peekIn(dict, f)
		if !ok {
			return false
		}
		out[i] = v
	}
	return true
}

func peekIn(dict []byte, field string) (string, bool) {
	key := make([]byte, 0, len(field)+5)
	key = append(append(append(key, ',', '"'), field...), '"', ':', '"')
	i := bytes.Index(dict, key)
	if i < 0 {
		return "", true
	}
	rest := dict[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// PeekIDs reads app, visitor_id and user_id from an event's canonical encoding
// without decoding it: only the dictionary part (before "props") is
// searched, so a prop of that name is never taken for the field. ok is
// false when an id holds an escape (decode the event instead).
func PeekIDs(raw []byte) (app, visitor, user string, ok bool) {
	var v [3]string
	if !PeekInto(raw, idFields, v[:]) {
		return "", "", "", false
	}
	return v[0], v[1], v[2], true
}

var idFields = []string{"app", "visitor_id", "user_id"}
