package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/spoor-dev/spoor/schema"
)

// Inference's thresholds.
const (
	// RequiredShare: a property seen in at least this share of an event's
	// occurrences is required.
	RequiredShare = 0.99
	// EnumMax: a string property with at most this many distinct values…
	EnumMax = 10
	// EnumMinSeen: …seen at least this many times is an enum.
	EnumMinSeen = 20
	// inferDepth bounds how deep objects and arrays are described.
	inferDepth = 4
)

// Inferrer drafts a plan from events already stored (spoor plan infer):
// per event name, a schema of its properties with the JSON types seen,
// the properties seen in at least RequiredShare of its occurrences
// required, and small sets of strings as enums; and a common schema
// requiring the client's fields every event of the app carries. Add
// events, then File.
type Inferrer struct {
	app    string
	total  int
	common map[string]int // top-level fields of the stored events, by count
	events map[string]*shape
}

// NewInferrer starts a draft for app.
func NewInferrer(app string) *Inferrer {
	return &Inferrer{app: app, common: map[string]int{}, events: map[string]*shape{}}
}

// shape is what was seen at one place of the events: how often, which JSON
// types, an object's properties (each with how often it was there), an
// array's items, and a string's distinct values (until too many).
type shape struct {
	seen    int
	types   map[string]int
	props   map[string]*shape
	items   *shape
	values  map[string]int
	tooMany bool
	min     float64
	max     float64
}

func newShape() *shape { return &shape{types: map[string]int{}, min: math.Inf(1), max: math.Inf(-1)} }

// Add takes one stored event of the app (others are ignored); spoor's own
// notes (props spoor_*) are not the client's and are left out.
func (in *Inferrer) Add(e *schema.Event) {
	if e.App != in.app || e.EventName == "" {
		return
	}
	in.total++
	if b, err := e.Encode(); err == nil {
		var top map[string]json.RawMessage
		if json.Unmarshal(b, &top) == nil {
			for k := range top {
				in.common[k]++
			}
		}
	}
	s := in.events[e.EventName]
	if s == nil {
		s = newShape()
		in.events[e.EventName] = s
	}
	s.seen++
	s.types["object"]++
	if s.props == nil {
		s.props = map[string]*shape{}
	}
	for k, raw := range e.Props {
		if strings.HasPrefix(k, "spoor_") {
			continue
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&v) != nil {
			continue
		}
		p := s.props[k]
		if p == nil {
			p = newShape()
			s.props[k] = p
		}
		p.add(v, 1)
	}
}

func (s *shape) add(v any, depth int) {
	s.seen++
	switch x := v.(type) {
	case nil:
		s.types["null"]++
	case bool:
		s.types["boolean"]++
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			s.types["number"]++
			return
		}
		if _, err := x.Int64(); err == nil {
			s.types["integer"]++
		} else {
			s.types["number"]++
		}
		s.min, s.max = math.Min(s.min, f), math.Max(s.max, f)
	case string:
		s.types["string"]++
		if s.tooMany {
			return
		}
		if s.values == nil {
			s.values = map[string]int{}
		}
		s.values[x]++
		if len(s.values) > EnumMax {
			s.tooMany, s.values = true, nil
		}
	case []any:
		s.types["array"]++
		if depth >= inferDepth {
			return
		}
		if s.items == nil {
			s.items = newShape()
		}
		for _, it := range x {
			s.items.add(it, depth+1)
		}
	case map[string]any:
		s.types["object"]++
		if depth >= inferDepth {
			return
		}
		if s.props == nil {
			s.props = map[string]*shape{}
		}
		for k, it := range x {
			p := s.props[k]
			if p == nil {
				p = newShape()
				s.props[k] = p
			}
			p.add(it, depth+1)
		}
	}
}

// schema is the JSON Schema of what s saw.
func (s *shape) schema() map[string]any {
	out := map[string]any{}
	var types []string
	for t := range s.types {
		types = append(types, t)
	}
	if s.types["integer"] > 0 && s.types["number"] > 0 { // an integer is a number
		types = without(types, "integer")
	}
	sort.Strings(types)
	switch len(types) {
	case 0:
	case 1:
		out["type"] = types[0]
	default:
		out["type"] = types
	}
	objects := s.types["object"]
	if objects > 0 && s.props != nil {
		props := map[string]any{}
		var required []string
		for k, p := range s.props {
			props[k] = p.schema()
			if float64(p.seen) >= RequiredShare*float64(objects) {
				required = append(required, k)
			}
		}
		out["properties"] = props
		if len(required) > 0 {
			sort.Strings(required)
			out["required"] = required
		}
	}
	if s.items != nil && s.items.seen > 0 {
		out["items"] = s.items.schema()
	}
	if len(types) == 1 && types[0] == "string" && !s.tooMany && s.seen >= EnumMinSeen && len(s.values) > 0 {
		var enum []string
		for v := range s.values {
			enum = append(enum, v)
		}
		sort.Strings(enum)
		out["enum"] = enum
	}
	return out
}

func without(ss []string, drop string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// serverFields are set by spoor, not sent by the client: a plan has
// nothing to ask of them.
var serverFields = map[string]bool{"event_id": true, "received_at": true, "endpoint": true, "ip_hash": true,
	"ip_prefix": true, "user_agent": true, "bot": true, "bot_family": true, "open_via": true, "geo_country": true,
	"geo_city": true, "unique": true, "props": true, "app": true, "event_name": true}

// Events is how many events the draft was made from.
func (in *Inferrer) Events() int { return in.total }

// File is the draft: every event name seen, in audit mode (a draft
// blocks nothing until someone decides it should), unplanned names
// audited, version named by the caller.
func (in *Inferrer) File(version string) (File, error) {
	f := File{App: in.app, Version: version, Mode: Audit, Unplanned: Audit, Events: map[string]Event{}}
	var required []string
	for k, n := range in.common {
		if !serverFields[k] && float64(n) >= RequiredShare*float64(in.total) {
			required = append(required, k)
		}
	}
	if len(required) > 0 {
		sort.Strings(required)
		raw, err := json.Marshal(map[string]any{"type": "object", "required": required})
		if err != nil {
			return File{}, fmt.Errorf("drafting the common schema: %w", err)
		}
		f.Common = raw
	}
	for name, s := range in.events {
		raw, err := json.Marshal(s.schema())
		if err != nil {
			return File{}, fmt.Errorf("drafting event %q: %w", name, err)
		}
		f.Events[name] = Event{Properties: raw}
	}
	return f, nil
}
