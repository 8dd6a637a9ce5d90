package segment

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spoor-dev/spoor/schema"
)

// message is one call's payload: the spec's common fields and each
// call's own, read off spoor's JSON scanner (no reflection).
type message struct {
	Type, Event, Name                              string
	Action                                         string // type's legacy name, still in the spec pages' examples
	MessageID, UserID, AnonymousID                 json.RawMessage
	GroupID, PreviousID                            json.RawMessage
	Properties, Traits, Context                    json.RawMessage
	Timestamp, OriginalTimestamp, SentAt, WriteKey string
	Batch                                          json.RawMessage // of a /v1/batch body
	size                                           int             // bytes, about
	obj                                            schema.Object   // as sent
}

// readMessage reads obj into m, over whatever m held.
func readMessage(m *message, obj schema.Object) {
	*m = message{size: 2, obj: obj}
	// user_id and anonymous_id: the snake-case names some of Segment's own
	// spec pages (the partner-facing Email spec) use; the camel-case win.
	var snakeUser, snakeAnon json.RawMessage
	for _, mb := range obj {
		m.size += len(mb.Key) + len(mb.Value) + 4
		switch mb.Key {
		case "type":
			m.Type = callName(mb.Value)
		case "action":
			m.Action = schema.Text(mb.Value)
		case "event":
			m.Event = schema.Text(mb.Value)
		case "name":
			m.Name = schema.Text(mb.Value)
		case "messageId":
			m.MessageID = mb.Value
		case "userId":
			m.UserID = mb.Value
		case "user_id":
			snakeUser = mb.Value
		case "anonymous_id":
			snakeAnon = mb.Value
		case "anonymousId":
			m.AnonymousID = mb.Value
		case "groupId":
			m.GroupID = mb.Value
		case "previousId":
			m.PreviousID = mb.Value
		case "properties":
			m.Properties = mb.Value
		case "traits":
			m.Traits = mb.Value
		case "context":
			m.Context = mb.Value
		case "timestamp":
			m.Timestamp = schema.Text(mb.Value)
		case "originalTimestamp":
			m.OriginalTimestamp = schema.Text(mb.Value)
		case "sentAt":
			m.SentAt = schema.Text(mb.Value)
		case "writeKey":
			m.WriteKey = schema.Text(mb.Value)
		case "batch":
			m.Batch = mb.Value
		}
	}
	if m.UserID == nil {
		m.UserID = snakeUser
	}
	if m.AnonymousID == nil {
		m.AnonymousID = snakeAnon
	}
}

// callName is a message's type: one of the six calls' names without a
// string of its own, else its text.
func callName(raw json.RawMessage) string {
	switch string(raw) {
	case `"track"`:
		return "track"
	case `"page"`:
		return "page"
	case `"screen"`:
		return "screen"
	case `"identify"`:
		return "identify"
	case `"group"`:
		return "group"
	case `"alias"`:
		return "alias"
	}
	return schema.Text(raw)
}

type msgContext struct {
	IP, UserAgent, Locale, Timezone   string
	PageURL, PageReferrer, PageTitle  string
	Campaign                          [5]string // name, source, medium, term, content
	LibraryName, LibraryVersion       string
	ScreenWidth, ScreenHeight         string
	DeviceID, DeviceType, DeviceModel string
	OSName, OSVersion                 string
	AppVersion                        string
	// Consent is context.consent.categoryPreferences, {"category": bool}
	// (Segment's consent management), kept as the event's consent prop.
	Consent json.RawMessage
}

// contexts reads each message's context once per distinct context: the
// messages of a batch mostly carry the same one (the library, the device,
// the page), byte for byte.
type contexts struct {
	raw          json.RawMessage
	sc           msgContext
	err          error
	typ          string
	url, ref, ok bool
	fields       []schema.HitField // contextFields of the above
}

// reset forgets the context read last, keeping the room for its fields.
func (c *contexts) reset() { *c = contexts{fields: c.fields[:0]} }

// of is m's context over the batch's (sc) and the event fields it maps to.
func (c *contexts) of(m *message, typ string, batch *msgContext) (*msgContext, []schema.HitField, error) {
	same := c.ok && bytes.Equal(m.Context, c.raw)
	if !same {
		c.raw, c.sc, c.ok = m.Context, *batch, true
		c.err = readContext(m.Context, &c.sc)
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	url, ref := propsHave(m.Properties)
	if !same || typ != c.typ || url != c.url || ref != c.ref { // a new context is always mapped afresh
		c.typ, c.url, c.ref = typ, url, ref
		c.fields = contextFields(&c.sc, url, ref, typ, c.fields[:0])
	}
	return &c.sc, c.fields, nil
}

// readContext reads context's members over what sc holds (a
// batch's context, then the message's own).
func readContext(raw json.RawMessage, sc *msgContext) error {
	ctx, err := object(raw)
	if err != nil {
		return err
	}
	var snakeUA string // user_agent, in the snake-case examples of Segment's partner specs
	for _, mb := range ctx {
		// sub reads a nested object's members into the fields pick names.
		sub := func(pick func(key string) *string) error {
			obj, err := object(mb.Value)
			if err != nil {
				return err
			}
			for _, f := range obj {
				if p := pick(f.Key); p != nil {
					*p = scalarText(f.Value)
				}
			}
			return nil
		}
		switch mb.Key {
		case "ip":
			sc.IP = schema.Text(mb.Value)
		case "userAgent":
			sc.UserAgent = schema.Text(mb.Value)
		case "user_agent":
			snakeUA = schema.Text(mb.Value)
		case "locale":
			sc.Locale = schema.Text(mb.Value)
		case "timezone":
			sc.Timezone = schema.Text(mb.Value)
		case "page":
			err = sub(func(k string) *string {
				return pick3(k, "url", &sc.PageURL, "referrer", &sc.PageReferrer, "title", &sc.PageTitle)
			})
		case "campaign":
			c := &sc.Campaign
			err = sub(func(k string) *string {
				if p := pick3(k, "name", &c[0], "source", &c[1], "medium", &c[2]); p != nil {
					return p
				}
				return pick3(k, "term", &c[3], "content", &c[4], "", nil)
			})
		case "library":
			err = sub(func(k string) *string {
				return pick3(k, "name", &sc.LibraryName, "version", &sc.LibraryVersion, "", nil)
			})
		case "screen":
			err = sub(func(k string) *string { return pick3(k, "width", &sc.ScreenWidth, "height", &sc.ScreenHeight, "", nil) })
		case "device":
			err = sub(func(k string) *string {
				return pick3(k, "id", &sc.DeviceID, "type", &sc.DeviceType, "model", &sc.DeviceModel)
			})
		case "os":
			err = sub(func(k string) *string { return pick3(k, "name", &sc.OSName, "version", &sc.OSVersion, "", nil) })
		case "app":
			err = sub(func(k string) *string { return pick3(k, "version", &sc.AppVersion, "", nil, "", nil) })
		case "consent":
			var obj schema.Object
			if obj, err = object(mb.Value); err == nil {
				for _, f := range obj {
					if f.Key == "categoryPreferences" && schema.FirstByte(f.Value) == '{' {
						sc.Consent = f.Value
					}
				}
			}
		}
		if err != nil {
			return fmt.Errorf("context.%s: %w", mb.Key, err)
		}
	}
	if sc.UserAgent == "" {
		sc.UserAgent = snakeUA
	}
	return nil
}

// pick3 is the field of up to three (name, field) pairs that k names.
func pick3(k, n1 string, p1 *string, n2 string, p2 *string, n3 string, p3 *string) *string {
	switch {
	case k == n1:
		return p1
	case k == n2:
		return p2
	case k == n3 && n3 != "":
		return p3
	}
	return nil
}
