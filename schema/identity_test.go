package schema

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPeekIDs(t *testing.T) {
	for _, c := range []struct {
		name          string
		e             Event
		visitor, user string
		ok            bool
	}{
		{"both", Event{VisitorID: "v1", UserID: "u1", App: "shop"}, "v1", "u1", true},
		{"visitor only", Event{VisitorID: "v1"}, "v1", "", true},
		{"neither", Event{EventName: "x"}, "", "", true},
		{"a prop is not the field", Event{VisitorID: "v1", Props: map[string]json.RawMessage{"user_id": json.RawMessage(`"u9"`), "visitor_id": json.RawMessage(`"v9"`)}}, "v1", "", true},
		{"unicode", Event{VisitorID: "ü-東京", UserID: "🎉"}, "ü-東京", "🎉", true},
		{"an escape asks for a decode", Event{VisitorID: `v"1`}, "", "", false},
		{"a field named like the key's tail", Event{DeviceID: "x", UserID: "u"}, "", "u", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.e.EventID, c.e.ReceivedAt = NewEventID(), time.Now()
			raw, err := c.e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			app, v, u, ok := PeekIDs(raw)
			if ok != c.ok || ok && (v != c.visitor || u != c.user || app != c.e.App) {
				t.Fatalf("PeekIDs(%s) = %q, %q, %v; want %q, %q, %v", raw, v, u, ok, c.visitor, c.user, c.ok)
			}
		})
	}
}
