package sinktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// identity: the links an identify, an alias and events with both ids make
// are the same whatever the order of the events and however often they
// are redelivered, before and after a restart; a shared browser is two
// links; nothing else links.
func identity(t *testing.T, h Harness) {
	base := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Millisecond)
	app := "shop"
	ev := func(min int, name, visitor, user string, props map[string]json.RawMessage) *schema.Event {
		return &schema.Event{EventID: schema.NewEventID(), ReceivedAt: base.Add(time.Duration(min) * time.Minute),
			Endpoint: "tr", App: app, EventName: name, VisitorID: visitor, UserID: user, Props: props}
	}
	evs := []*schema.Event{
		ev(5, "page_view", "v1", "u1", nil),
		ev(2, "page_view", "v1", "u1", nil),
		ev(1, "identify", "v1", "u1", nil),
		ev(3, "alias", "", "u2", map[string]json.RawMessage{"previous_id": json.RawMessage(`"v2"`)}),
		ev(4, "page_view", "v3", "u3", nil),
		ev(6, "page_view", "v3", "u4", nil),
		ev(7, "page_view", "v4", "", nil), // anonymous: no link
		ev(8, "page_view", "", "u5", nil), // a user alone: no link
		ev(9, "click", "v5", "", map[string]json.RawMessage{"user_id": json.RawMessage(`"u9"`)}), // a prop is not an id
	}
	s := open(t, h)
	write(t, s, evs[4:])
	write(t, s, evs[:4])
	write(t, s, evs) // redelivered
	closeSink(t, s)
	s = open(t, h)
	write(t, s, []*schema.Event{evs[2], evs[0]}) // redelivered after a restart
	closeSink(t, s)

	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	for _, c := range []struct {
		by, id string
		want   []Link
	}{
		{"visitor", "v1", []Link{{"v1", "u1", "identify", at(1), at(5)}}},
		{"user", "u1", []Link{{"v1", "u1", "identify", at(1), at(5)}}},
		{"visitor", "v2", []Link{{"v2", "u2", "alias", at(3), at(3)}}},
		{"user", "u2", []Link{{"v2", "u2", "alias", at(3), at(3)}}},
		{"visitor", "v3", []Link{{"v3", "u3", "event", at(4), at(4)}, {"v3", "u4", "event", at(6), at(6)}}},
		{"user", "u4", []Link{{"v3", "u4", "event", at(6), at(6)}}},
		{"visitor", "v4", nil},
		{"user", "u5", nil},
		{"visitor", "v5", nil},
		{"user", "u9", nil},
	} {
		got := h.Links(t, app, c.by, c.id)
		for i := range got {
			got[i].First, got[i].Last = got[i].First.UTC(), got[i].Last.UTC()
		}
		slices.SortFunc(got, func(a, b Link) int { return strings.Compare(a.Visitor+a.User, b.Visitor+b.User) })
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("links of %s %s:\n got %v\nwant %v", c.by, c.id, got, c.want)
		}
	}
}
