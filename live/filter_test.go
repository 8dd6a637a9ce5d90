package live

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

func TestFieldsOfAgreesWithDecode(t *testing.T) {
	for _, e := range []*schema.Event{
		{App: "shop", EventName: "click", VisitorID: "v1", Endpoint: "tr"},
		{EventName: "page_view", Endpoint: "img"},
		{App: `a"b`, EventName: `x\y`, VisitorID: "ü 東京", Endpoint: "rdr"},
		{App: "shop", EventName: "e", Endpoint: "str", Props: map[string]json.RawMessage{
			"app": json.RawMessage(`"not-the-app"`), "event_name": json.RawMessage(`"nope"`), "visitor_id": json.RawMessage(`"v9"`)}},
	} {
		e.EventID, e.ReceivedAt = schema.NewEventID(), time.Now()
		raw, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := FieldsOf(raw)
		want := Fields{e.App, e.EventName, e.VisitorID, e.Endpoint}
		if err != nil || got != want {
			t.Errorf("FieldsOf(%s) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
	if _, err := FieldsOf([]byte("")); err == nil {
		t.Error("an empty line is not an event")
	}
}

func TestFilter(t *testing.T) {
	x := Fields{App: "shop", Event: "click", Visitor: "v1", Endpoint: "tr"}
	for _, c := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{App: "shop"}, true},
		{Filter{App: "blog"}, false},
		{Filter{Event: "page_view, click"}, true},
		{Filter{Event: "page_view,clicks"}, false},
		{Filter{App: "shop", Endpoint: "img,rdr"}, false},
		{Filter{Visitor: "v1", Endpoint: "tr"}, true},
	} {
		if got := c.f.MatchFields(x); got != c.want {
			t.Errorf("%+v: %v, want %v", c.f, got, c.want)
		}
	}
}
