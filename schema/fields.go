package schema

import (
	"encoding/json"
	"time"
)

// Kind is how a dictionary field's value is read and stored.
type Kind int

const (
	KindString  Kind = iota // text, kept as sent (no case folding)
	KindInt                 // integer; numeric strings accepted
	KindFloat               // number; numeric strings accepted
	KindBool                // true/false, also "true"/"false"/"1"/"0"
	KindTime                // client time: epoch milliseconds or RFC 3339
	KindScalar              // string, number or boolean, kept exactly as sent
	KindHashed              // personal data: stored only as a keyed HMAC-SHA256
	KindEventID             // UUID; an invalid one is kept in props, never lost
)

func (k Kind) String() string {
	return [...]string{"string", "integer", "number", "boolean", "timestamp", "string|number|boolean", "string (HMAC-SHA256 hex)", "uuid"}[k]
}

// Field is one entry of the field dictionary.
type Field struct {
	Short   string   // the name the seed Tracker's clients send
	Long    string   // the name in storage (JSON key, Cassandra column)
	Aliases []string // other accepted input names
	Kind    Kind
	Group   string
	Doc     string

	str func(*Event) *string
	i64 func(*Event) **int64
	f64 func(*Event) **float64
	bln func(*Event) **bool
	tm  func(*Event) **time.Time
	raw func(*Event) *json.RawMessage
}

func s(short, long, group, doc string, p func(*Event) *string, aliases ...string) Field {
	return Field{Short: short, Long: long, Aliases: aliases, Kind: KindString, Group: group, Doc: doc, str: p}
}

func hashed(short, long, doc string, p func(*Event) *string) Field {
	return Field{Short: short, Long: long, Kind: KindHashed, Group: "identity", Doc: doc, str: p}
}

func i(short, long, group, doc string, p func(*Event) **int64) Field {
	return Field{Short: short, Long: long, Kind: KindInt, Group: group, Doc: doc, i64: p}
}

func f(short, long, group, doc string, p func(*Event) **float64) Field {
	return Field{Short: short, Long: long, Kind: KindFloat, Group: group, Doc: doc, f64: p}
}

// Fields is the dictionary, in documentation order. docs/events.md is
// checked against it by a test.
var Fields = []Field{
	{Short: "eid", Long: "event_id", Kind: KindEventID, Group: "identity",
		Doc: "Event id. Kept when the client sends a valid UUID (so retries dedup); otherwise the server assigns a UUIDv7 and keeps the client's value in props.eid.",
		str: func(e *Event) *string { return &e.EventID }},
	s("vid", "visitor_id", "identity", "Visitor: the long-lived browser or device id (cookie `vid` when the event has none).", func(e *Event) *string { return &e.VisitorID }),
	s("sid", "session_id", "identity", "Session id as the client sees it.", func(e *Event) *string { return &e.SessionID }),
	s("uid", "user_id", "identity", "Logged-in user id.", func(e *Event) *string { return &e.UserID }),
	s("did", "device_id", "identity", "Device id (apps).", func(e *Event) *string { return &e.DeviceID }),
	hashed("email", "email_hash", "E-mail address; trimmed and lower-cased, then only its keyed hash is stored.", func(e *Event) *string { return &e.EmailHash }),
	hashed("cell", "cell_hash", "Phone number; spaces removed, then only its keyed hash is stored.", func(e *Event) *string { return &e.CellHash }),
	hashed("uname", "uname_hash", "User name; only its keyed hash is stored.", func(e *Event) *string { return &e.UnameHash }),

	s("ename", "event_name", "event", "Event name, e.g. `click`, `page_view`, `filter_results`.", func(e *Event) *string { return &e.EventName }),
	s("etyp", "event_type", "event", "Event type or category.", func(e *Event) *string { return &e.EventType }),
	{Short: "created", Long: "client_time", Aliases: []string{"time"}, Kind: KindTime, Group: "event",
		Doc: "Client clock when the event happened: epoch milliseconds or RFC 3339.",
		tm:  func(e *Event) **time.Time { return &e.ClientTime }},
	i("duration", "duration", "event", "Duration in milliseconds (time on page, video watched, ...).", func(e *Event) **int64 { return &e.Duration }),
	{Short: "first", Long: "first", Kind: KindBool, Group: "event", Doc: "First hit of the session.",
		bln: func(e *Event) **bool { return &e.First }},
	i("cidx", "client_index", "event", "Per-visitor message index, strictly increasing: gaps measure loss between client and server.", func(e *Event) **int64 { return &e.ClientIndex }),
	s("lv", "library_version", "event", "Version of the tracking library that sent the event.", func(e *Event) *string { return &e.LibraryVersion }),

	s("url", "url", "page", "Page URL (for redirects: the target).", func(e *Event) *string { return &e.URL }),
	s("last", "referrer", "page", "Previous URL / document.referrer.", func(e *Event) *string { return &e.Referrer }),
	s("ptyp", "page_type", "page", "Page type.", func(e *Event) *string { return &e.PageType }),
	s("pvid", "page_view_id", "page", "Page-view id.", func(e *Event) *string { return &e.PageViewID }),
	s("ppvid", "parent_page_view_id", "page", "The previous page view's id (navigation path).", func(e *Event) *string { return &e.ParentPageViewID }),
	s("app", "app", "page", "Application or site that produced the event.", func(e *Event) *string { return &e.App }),
	{Short: "rel", Long: "release", Kind: KindScalar, Group: "page", Doc: "Application release; a number stays a number.",
		raw: func(e *Event) *json.RawMessage { return &e.Release }},
	s("tz", "timezone", "page", "IANA time zone of the client.", func(e *Event) *string { return &e.Timezone }),
	s("lang", "language", "page", "Browser or app language.", func(e *Event) *string { return &e.Language }),
	i("w", "width", "page", "Viewport width in pixels.", func(e *Event) **int64 { return &e.Width }),
	i("h", "height", "page", "Viewport height in pixels.", func(e *Event) **int64 { return &e.Height }),
	s("device", "device", "page", "Device class or model.", func(e *Event) *string { return &e.Device }),
	s("os", "os", "page", "Operating system.", func(e *Event) *string { return &e.OS }),
	f("lat", "lat", "page", "Latitude.", func(e *Event) **float64 { return &e.Lat }),
	f("lon", "lon", "page", "Longitude.", func(e *Event) **float64 { return &e.Lon }),
	s("country", "country", "page", "Country code.", func(e *Event) *string { return &e.Country }),

	s("source", "source", "campaign", "Campaign source (`utm_source`).", func(e *Event) *string { return &e.Source }, "utm_source"),
	s("medium", "medium", "campaign", "Campaign medium (`utm_medium`).", func(e *Event) *string { return &e.Medium }, "utm_medium"),
	s("campaign", "campaign", "campaign", "Campaign name (`utm_campaign`).", func(e *Event) *string { return &e.Campaign }, "utm_campaign"),
	s("term", "term", "campaign", "Campaign term (`utm_term`).", func(e *Event) *string { return &e.Term }, "utm_term"),
	s("content", "content", "campaign", "Campaign content (`utm_content`).", func(e *Event) *string { return &e.Content }, "utm_content"),
	s("ref", "referral", "campaign", "Referring visitor id (who shared the link).", func(e *Event) *string { return &e.Referral }),
	s("rcode", "referral_code", "campaign", "Referral code.", func(e *Event) *string { return &e.ReferralCode }),
	s("aff", "affiliate", "campaign", "Affiliate.", func(e *Event) *string { return &e.Affiliate }),

	s("xid", "experiment_id", "experiment", "Experiment id.", func(e *Event) *string { return &e.ExperimentID }),
	s("split", "variant", "experiment", "Experiment arm the visitor is in.", func(e *Event) *string { return &e.Variant }),
	s("sink", "goal", "experiment", "Goal (the tracker's `sink`).", func(e *Event) *string { return &e.Goal }),
	f("score", "score", "experiment", "Score toward the goal.", func(e *Event) **float64 { return &e.Score }),
	s("outcome", "outcome", "experiment", "Outcome.", func(e *Event) *string { return &e.Outcome }),
}

// ServerFields are set by the collector, never taken from the client
// (except user_agent on the trusted server-side endpoint).
var ServerFields = []struct{ Long, Type, Doc string }{
	{"received_at", "timestamp (RFC 3339, ms, UTC)", "When the collector received the request. Partitions the stores."},
	{"endpoint", "string", "Which endpoint took the event: `tr`, `img`, `rdr` or `str`."},
	{"ip_hash", "string (HMAC-SHA256 hex)", "Keyed hash of the client IP. The raw IP is never stored."},
	{"user_agent", "string", "The User-Agent header (on `/str/v1/`, the `ua` field of the event)."},
	{"link", "string", "The short link (its slug) a click or orphan visit came through (`/l/<slug>`)."},
	{"qr", "boolean", "`true` when the click was a scan of the short link's QR code."},
	{"unique", "boolean", "On clicks and opens: whether it is the first of its visitor (or address) on that link within `links.unique_window`."},
	{"props", "object", "Every field outside the dictionary, as sent: numbers stay numbers, strings stay strings, nested objects kept."},
}

// containers are keys whose object value is spread into the event: their
// entries fill empty dictionary fields and otherwise land in props.
var containers = map[string]bool{"params": true, "props": true, "properties": true}

var byName = func() map[string]*Field {
	m := make(map[string]*Field, len(Fields)*2)
	for n := range Fields {
		fd := &Fields[n]
		m[fd.Short] = fd
		m[fd.Long] = fd
		for _, a := range fd.Aliases {
			m[a] = fd
		}
	}
	return m
}()

func (fd *Field) isSet(e *Event) bool {
	switch {
	case fd.str != nil:
		return *fd.str(e) != ""
	case fd.i64 != nil:
		return *fd.i64(e) != nil
	case fd.f64 != nil:
		return *fd.f64(e) != nil
	case fd.bln != nil:
		return *fd.bln(e) != nil
	case fd.tm != nil:
		return *fd.tm(e) != nil
	default:
		return len(*fd.raw(e)) > 0
	}
}

// Ptr returns a pointer to fd's storage in e: *string, **int64, **float64,
// **bool, **time.Time or *json.RawMessage. Stores use it to map columns.
func (fd *Field) Ptr(e *Event) any {
	switch {
	case fd.str != nil:
		return fd.str(e)
	case fd.i64 != nil:
		return fd.i64(e)
	case fd.f64 != nil:
		return fd.f64(e)
	case fd.bln != nil:
		return fd.bln(e)
	case fd.tm != nil:
		return fd.tm(e)
	default:
		return fd.raw(e)
	}
}

// names maps every dictionary name (and container) to itself, so the
// scanner gets a member name it knows without allocating a string.
var names = func() map[string]string {
	m := make(map[string]string, len(byName)+len(containers))
	for k := range byName {
		m[k] = k
	}
	for k := range containers {
		m[k] = k
	}
	for _, k := range clientNames {
		m[k] = k
	}
	return m
}()

// clientNames are member names clients send often that are no dictionary
// name: Segment's spec (the message, its context, the e-commerce events'
// properties). Known, they cost the scanner no string each.
var clientNames = []string{"type", "messageId", "userId", "anonymousId", "event", "properties", "context",
	"timestamp", "originalTimestamp", "sentAt", "receivedAt", "writeKey", "batch", "traits", "integrations",
	"groupId", "previousId", "library", "name", "version", "page", "url", "referrer", "title", "path",
	"search", "userAgent", "ip", "locale", "timezone", "device", "os", "app", "screen", "width", "height",
	"density", "campaign", "source", "medium", "term", "content", "network", "id", "model", "manufacturer",
	"advertisingId", "adTrackingEnabled", "namespace", "build", "instanceId", "wifi", "cellular", "bluetooth",
	"carrier", "consent", "categoryPreferences", "userAgentData", "brands", "mobile", "platform",
	"revenue", "currency", "value", "price", "quantity", "sku", "product_id", "order_id", "category", "label",
	"email", "plan", "total", "products"}

// internName returns b as a string, shared for dictionary names.
func internName(b []byte) string {
	if s, ok := names[string(b)]; ok {
		return s
	}
	return string(b)
}
