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
}

// HitField is one named value of a Hit: a dictionary field, or a prop.
type HitField struct {
	Name  string
	Value Value
}
