package schema

import (
	"encoding/json"
	"reflect"
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

// FuzzPeekIDs: for any ids and props, PeekIDs on the canonical encoding
// agrees with a full decode, or asks for one (ok false). It never takes a
// prop for a field.
func FuzzPeekIDs(f *testing.F) {
	f.Add("shop", "v1", "u1", "visitor_id", `"v9"`)
	f.Add("", `v"1`, "", "user_id", `{"a":"\"user_id\":\"x\""}`)
	f.Add("a,\"app\":\"b", "ü", "🎉", "props", `[1,2]`)
	f.Fuzz(func(t *testing.T, app, visitor, user, prop, value string) {
		e := &Event{EventID: NewEventID(), ReceivedAt: time.Now(), App: app, VisitorID: visitor, UserID: user}
		if json.Valid([]byte(value)) {
			e.Props = map[string]json.RawMessage{prop: json.RawMessage(value)}
		}
		raw, err := e.Encode()
		if err != nil {
			return
		}
		d, err := Decode(raw)
		if err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
		a, v, u, ok := PeekIDs(raw)
		if ok && (a != d.App || v != d.VisitorID || u != d.UserID) {
			t.Fatalf("PeekIDs(%s) = %q %q %q, decode says %q %q %q", raw, a, v, u, d.App, d.VisitorID, d.UserID)
		}
	})
}

// An identify's own fields (a Segment messageId kept as message_id) are
// never traits; what the identify sent in its traits is.
func TestTraitsLeaveOutTheMessagesOwnFields(t *testing.T) {
	e := &Event{EventName: "identify", UserID: "u1", EmailHash: "h", Props: map[string]json.RawMessage{
		"message_id": json.RawMessage(`"ajs-1"`), "plan": json.RawMessage(`"pro"`), "name": json.RawMessage(`"Peter"`)}}
	got := Traits(e)
	want := []Trait{{"email_hash", `"h"`}, {"name", `"Peter"`}, {"plan", `"pro"`}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Traits = %v, want %v", got, want)
	}
}
