// Package live shows events as the pipeline acknowledges them: filters,
// a hub that fans one stream subscription out to many viewers with
// per-second rates (the dashboard and `spoor tail` over HTTP), and the
// terminal's one-line format.
package live

import (
	"net/url"
	"strings"

	"github.com/spoor-dev/spoor/schema"
)

// Filter picks events; an empty field matches anything. Each field may
// list values separated by commas (event=click,page_view).
type Filter struct {
	App, Event, Visitor, Endpoint string
}

// FilterFrom reads a filter from query parameters app, event, visitor
// and endpoint.
func FilterFrom(q url.Values) Filter {
	return Filter{App: q.Get("app"), Event: q.Get("event"), Visitor: q.Get("visitor"), Endpoint: q.Get("endpoint")}
}

// Query is the filter as query parameters (empty fields left out).
func (f Filter) Query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"app": f.App, "event": f.Event, "visitor": f.Visitor, "endpoint": f.Endpoint} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Match reports whether e passes the filter.
func (f Filter) Match(e *schema.Event) bool {
	return f.MatchFields(Fields{e.App, e.EventName, e.VisitorID, e.Endpoint})
}

// Fields are what a filter and the rates read of an event.
type Fields struct{ App, Event, Visitor, Endpoint string }

// fieldNames are Fields' long names, in order.
var fieldNames = []string{"app", "event_name", "visitor_id", "endpoint"}

// FieldsOf reads the Fields of an event's canonical JSON, peeking without
// a decode when it can.
func FieldsOf(line []byte) (Fields, error) {
	var v [4]string
	if schema.PeekInto(line, fieldNames, v[:]) && len(line) > 0 && line[0] == '{' {
		return Fields{v[0], v[1], v[2], v[3]}, nil
	}
	e, err := schema.Decode(line)
	if err != nil {
		return Fields{}, err
	}
	return Fields{e.App, e.EventName, e.VisitorID, e.Endpoint}, nil
}

// MatchFields reports whether an event with these fields passes.
func (f Filter) MatchFields(x Fields) bool {
	return in(f.App, x.App) && in(f.Event, x.Event) && in(f.Visitor, x.Visitor) && in(f.Endpoint, x.Endpoint)
}

func in(list, v string) bool {
	if list == "" {
		return true
	}
	for _, want := range strings.Split(list, ",") {
		if strings.TrimSpace(want) == v {
			return true
		}
	}
	return false
}
