package schema

import "time"

// Hit is one event as a front end hands it to the collector before the
// collector builds its Event: the proxy's record of a request it passed
// on, or one message of a wire format decoded elsewhere (segment/). The
// collector derives the server fields (address hash, bot flag, geo) from
// IP, UserAgent and the signals below, then builds the Event from Fields.
type Hit struct {
	Endpoint  string // the metrics label and the event's endpoint, e.g. "proxy"
	Fields    []HitField
	IP        string // the client's address; only its keyed hash is kept
	UserAgent string
	VisitorID string // the vid cookie, when the request had one
	At        time.Time
	// What the machine-traffic signals read (internal/bots).
	Method, Purpose, AcceptLanguage string
	// Source is the message the hit was decoded from, as sent, and Index
	// its place in the request: kept as a failed event if the hit cannot
	// become one (nil for the proxy's).
	Source Object
	Index  int
	// Canary: sent by spoor canary (the X-Spoor-Canary header).
	Canary bool
	// Created is the event's time when the decoder has read it already
	// (a Segment message's timestamp): set before Fields, as a "created"
	// field would be, without parsing it twice. Zero: none.
	Created time.Time
}

// HitField is one named value of a Hit: a dictionary field, or a prop.
type HitField struct {
	Name  string
	Value Value
}

// Size is about how many bytes h holds: its strings and values, and the
// structures around them. Queues of hits are bounded by it.
func (h *Hit) Size() int {
	n := 160 + len(h.Endpoint) + len(h.IP) + len(h.UserAgent) + len(h.VisitorID) + len(h.Method) + len(h.Purpose) + len(h.AcceptLanguage)
	for _, f := range h.Fields {
		n += 64 + len(f.Name) + len(f.Value.Text) + len(f.Value.JSON)
	}
	return n
}
