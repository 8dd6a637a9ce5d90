package segment

import (
	"encoding/json"
	"time"

	"github.com/spoor-dev/spoor/schema"
)

// callTypes are spoor event types that are Segment calls of their own;
// any other event is a track call named by its event name.
var callTypes = map[string]bool{"page": true, "screen": true, "identify": true, "group": true, "alias": true}

// Encode is e as a message of Segment's spec (the body of one call,
// as in Segment's /v1/batch), the inverse of docs/events.md's "From the
// Segment API": a receiver written for Segment's webhooks reads it as it
// reads Segment's.
func Encode(e *schema.Event) ([]byte, error) {
	typ := "track"
	if callTypes[e.EventType] {
		typ = e.EventType
	}
	m := map[string]any{"type": typ, "messageId": e.EventID, "receivedAt": e.ReceivedAt.UTC().Format(time.RFC3339Nano)}
	at := e.ReceivedAt
	if e.ClientTime != nil {
		at = *e.ClientTime
	}
	m["timestamp"] = at.UTC().Format(time.RFC3339Nano)
	if e.VisitorID != "" {
		m["anonymousId"] = e.VisitorID
	}
	if e.UserID != "" {
		m["userId"] = e.UserID
	}
	props := map[string]json.RawMessage{}
	for k, v := range e.Props {
		if !schema.MessageProps[k] {
			props[k] = v
		}
	}
	if raw, ok := e.Props["group_id"]; ok && typ == "group" {
		m["groupId"] = raw
	}
	if raw, ok := e.Props["previous_id"]; ok && typ == "alias" {
		m["previousId"] = raw
	}
	switch typ {
	case "track":
		m["event"] = e.EventName
		m["properties"] = props
	case "identify", "group":
		m["traits"] = props
	case "page", "screen":
		if raw, ok := props["name"]; ok {
			m["name"] = raw
			delete(props, "name")
		}
		if e.URL != "" {
			props["url"], _ = json.Marshal(e.URL)
		}
		if e.Referrer != "" {
			props["referrer"], _ = json.Marshal(e.Referrer)
		}
		m["properties"] = props
	}
	m["context"] = encodeContext(e)
	return json.Marshal(m)
}

func encodeContext(e *schema.Event) map[string]any {
	c := map[string]any{"library": map[string]string{"name": "spoor", "version": e.LibraryVersion}}
	set := func(obj map[string]any, k string, v any) {
		if s, ok := v.(string); ok && s == "" {
			return
		}
		obj[k] = v
	}
	set(c, "userAgent", e.UserAgent)
	set(c, "locale", e.Language)
	set(c, "timezone", e.Timezone)
	if e.URL != "" || e.Referrer != "" {
		page := map[string]any{}
		set(page, "url", e.URL)
		set(page, "referrer", e.Referrer)
		c["page"] = page
	}
	campaign := map[string]any{}
	for k, v := range map[string]string{"name": e.Campaign, "source": e.Source, "medium": e.Medium, "term": e.Term, "content": e.Content} {
		set(campaign, k, v)
	}
	if len(campaign) > 0 {
		c["campaign"] = campaign
	}
	if e.Width != nil && e.Height != nil {
		c["screen"] = map[string]int64{"width": *e.Width, "height": *e.Height}
	}
	device := map[string]any{}
	set(device, "id", e.DeviceID)
	set(device, "model", e.Device)
	if len(device) > 0 {
		c["device"] = device
	}
	if e.OS != "" {
		c["os"] = map[string]string{"name": e.OS}
	}
	if len(e.Release) > 0 {
		c["app"] = map[string]json.RawMessage{"version": e.Release}
	}
	if e.GeoCountry != "" {
		c["location"] = map[string]string{"country": e.GeoCountry, "city": e.GeoCity}
	}
	return c
}
